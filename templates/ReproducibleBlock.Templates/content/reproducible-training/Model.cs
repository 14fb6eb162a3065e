using ReproducibleBlock;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

// The assembly rule: every constructor of a Module subclass in this project is a block of its own, and so is each part
// it builds. Change the feature extractor (add a conv layer, a dropout) and the classifier still starts from the same
// weights. Add `ContinuingForward = true` to give every module's forward a continuing stream of its own too (its
// dropout masks then no longer depend on what other modules draw).
[assembly: ReproducibleConstructors(typeof(torch.nn.Module))]

namespace ReproducibleTrainingApp;

/// <summary>A <see cref="FeatureExtractor"/> then a <see cref="Classifier"/>: 3×12×12 images in, class scores out.</summary>
public sealed class Net : Module<Tensor, Tensor>
{
    private readonly FeatureExtractor _features;
    private readonly Classifier _classifier;

    private Net() : base(nameof(Net))
    {
        _features = new FeatureExtractor();
        _classifier = new Classifier();
        RegisterComponents();
    }

    /// <summary>Builds the network in a block of its own: its initial weights depend only on the run's seed.</summary>
    [ReproducibleBlock(1)]
    public static Net Create() => new();

    public override Tensor forward(Tensor input) => _classifier.forward(_features.forward(input));
}

/// <summary>Two 3×3 conv layers with max pooling: 3×12×12 in, 16×3×3 out.</summary>
public sealed class FeatureExtractor : Module<Tensor, Tensor>
{
    private readonly Sequential _layers;

    public FeatureExtractor() : base(nameof(FeatureExtractor))
    {
        _layers = Sequential(
            ("conv1", Conv2d(3, 8, 3, padding: 1)),
            ("relu1", ReLU()),
            ("pool1", MaxPool2d(2)),
            ("conv2", Conv2d(8, 16, 3, padding: 1)),
            ("relu2", ReLU()),
            ("pool2", MaxPool2d(2)));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => _layers.forward(input);
}

/// <summary>Flatten, dropout (p = 0.3), a hidden layer and the output layer: 16×3×3 in, class scores out.</summary>
public sealed class Classifier : Module<Tensor, Tensor>
{
    private readonly Dropout _dropout;
    private readonly Linear _hidden;
    private readonly Linear _output;

    public Classifier() : base(nameof(Classifier))
    {
        _dropout = Dropout(0.3);
        _hidden = Linear(16 * 3 * 3, 32);
        _output = Linear(32, SyntheticData.Classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor features) =>
        _output.forward(functional.relu(_hidden.forward(_dropout.forward(features.flatten(1)))));
}
