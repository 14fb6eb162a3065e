using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ReproducibleBlock.Benchmarks.Models;

/// <summary>
/// A model shaped like examples/ReproducibleTraining's SmallCnn (a feature extractor, then a classifier with a
/// dropout, 3×12×12 in, four classes out), its dropouts TorchSharp's own (so the woven twin draws their masks from
/// path streams). Compiled three times, as <see cref="BenchResNet"/> is.
/// </summary>
public sealed class BenchSmallCnn : Module<Tensor, Tensor>
{
    private readonly BenchFeatures _features;
    private readonly BenchClassifier _classifier;

    public BenchSmallCnn() : base(nameof(BenchSmallCnn))
    {
        _features = new BenchFeatures();
        _classifier = new BenchClassifier();
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => _classifier.forward(_features.forward(input));
}

/// <summary>Two 3×3 convs with max pooling and a dropout between them: 3×12×12 in, 16×3×3 out.</summary>
public sealed class BenchFeatures : Module<Tensor, Tensor>
{
    private readonly Module<Tensor, Tensor> _layers;

    public BenchFeatures() : base(nameof(BenchFeatures))
    {
        _layers = Sequential(
            ("conv1", Conv2d(3, 8, 3, padding: 1)), ("relu1", ReLU()), ("pool1", MaxPool2d(2)), ("dropout", Dropout(0.1)),
            ("conv2", Conv2d(8, 16, 3, padding: 1)), ("relu2", ReLU()), ("pool2", MaxPool2d(2)));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => _layers.forward(input);
}

/// <summary>Flatten, dropout (p = 0.3, called directly), a hidden layer and the output layer.</summary>
public sealed class BenchClassifier : Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.Dropout _dropout = Dropout(0.3);
    private readonly TorchSharp.Modules.Linear _hidden = Linear(16 * 3 * 3, 32);
    private readonly TorchSharp.Modules.Linear _output = Linear(32, 4);

    public BenchClassifier() : base(nameof(BenchClassifier)) => RegisterComponents();

    public override Tensor forward(Tensor input) =>
        _output.forward(functional.relu(_hidden.forward(_dropout.forward(input.flatten(1)))));
}
