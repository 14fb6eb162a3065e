using System.Collections.Generic;
using ReproducibleBlock;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

// Every constructor of this project's modules is a block of its own, and every forward override runs in its instance's
// continuing block: the feature extractor, the classifier and the classifier's dropout each draw from a stream of their
// own that continues from call to call. A dropout added to the extractor therefore changes none of the classifier's
// masks and not the data order (the contract tests check both).
[assembly: ReproducibleConstructors(typeof(torch.nn.Module), ContinuingForward = true)]

namespace ReproducibleBlock.Training;

/// <summary>A <see cref="FeatureExtractor"/> then a <see cref="Classifier"/>: 3×12×12 in, class scores out.</summary>
internal sealed class SmallCnn : Module<Tensor, Tensor>
{
    private readonly FeatureExtractor _features;
    private readonly Classifier _classifier;

    private SmallCnn(bool extractorDropout) : base(nameof(SmallCnn))
    {
        _features = new FeatureExtractor(extractorDropout);
        _classifier = new Classifier();
        RegisterComponents();
        ExtractorDropout = extractorDropout;
    }

    /// <summary>
    /// Builds the network in a block of its own: its initial weights depend only on the root seed. (Inside it, each
    /// module's woven constructor is a block too, and registers the module's continuing stream.)
    /// </summary>
    /// <param name="device">Where the network trains.</param>
    /// <param name="extractorDropout">Whether the feature extractor has a dropout layer (<c>--extractor-dropout</c>).</param>
    [ReproducibleBlock(1)]
    public static SmallCnn Create(Device device, bool extractorDropout) => new SmallCnn(extractorDropout).to(device);

    /// <summary>Whether the feature extractor has a dropout layer.</summary>
    public bool ExtractorDropout { get; }

    /// <summary>The classifier's dropout, whose masks the run records.</summary>
    public RecordedDropout ClassifierDropout => _classifier.Dropout;

    public override Tensor forward(Tensor input) => _classifier.forward(_features.forward(input));
}

/// <summary>
/// Two 3×3 conv layers with max pooling: 3×12×12 in, 16×3×3 out. With <c>--extractor-dropout</c>, TorchSharp's own
/// <c>Dropout</c> after the first pooling: not a module of this project, so it draws from this module's stream.
/// </summary>
internal sealed class FeatureExtractor : Module<Tensor, Tensor>
{
    public const double DropoutProbability = 0.1;

    private readonly Sequential _layers;

    public FeatureExtractor(bool dropout) : base(nameof(FeatureExtractor))
    {
        // Dropout has no parameters and its construction draws nothing: the conv layers' initial weights are the same with it.
        var layers = new List<(string, Module<Tensor, Tensor>)>
        {
            ("conv1", Conv2d(3, 8, 3, padding: 1)),
            ("relu1", ReLU()),
            ("pool1", MaxPool2d(2)),
        };
        if (dropout)
            layers.Add(("dropout", Dropout(DropoutProbability)));
        layers.AddRange([("conv2", Conv2d(8, 16, 3, padding: 1)), ("relu2", ReLU()), ("pool2", MaxPool2d(2))]);
        _layers = Sequential(layers.ToArray());
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => _layers.forward(input);
}

/// <summary>Flatten, dropout (<see cref="RecordedDropout"/>, p = 0.3), a hidden layer and the output layer: 16×3×3 in, class scores out.</summary>
internal sealed class Classifier : Module<Tensor, Tensor>
{
    /// <summary>Features per sample reaching the dropout: every mask has this many elements per sample of the batch.</summary>
    public const int InputFeatures = 16 * 3 * 3;

    public const double DropoutProbability = 0.3;

    private readonly RecordedDropout _dropout;
    private readonly Linear _hidden;
    private readonly Linear _output;

    public Classifier() : base(nameof(Classifier))
    {
        _dropout = new RecordedDropout(DropoutProbability);
        _hidden = Linear(InputFeatures, 32);
        _output = Linear(32, SyntheticImages.Classes);
        RegisterComponents();
    }

    public RecordedDropout Dropout => _dropout;

    public override Tensor forward(Tensor features) =>
        _output.forward(functional.relu(_hidden.forward(_dropout.forward(features.flatten(1)))));
}
