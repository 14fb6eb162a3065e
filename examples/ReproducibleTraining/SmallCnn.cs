using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ReproducibleBlock.Training;

/// <summary>Two 3×3 conv layers with max pooling, then a classifier with dropout: 3×12×12 in, class scores out.</summary>
internal sealed class SmallCnn : Module<Tensor, Tensor>
{
    private readonly Sequential _features;
    private readonly Sequential _classifier;

    private SmallCnn() : base(nameof(SmallCnn))
    {
        _features = Sequential(
            ("conv1", Conv2d(3, 8, 3, padding: 1)),
            ("relu1", ReLU()),
            ("pool1", MaxPool2d(2)),
            ("conv2", Conv2d(8, 16, 3, padding: 1)),
            ("relu2", ReLU()),
            ("pool2", MaxPool2d(2)));
        _classifier = Sequential(
            ("flatten", Flatten()),
            ("dropout", Dropout(0.3)),
            ("hidden", Linear(16 * 3 * 3, 32)),
            ("relu", ReLU()),
            ("output", Linear(32, SyntheticImages.Classes)));
        RegisterComponents();
    }

    /// <summary>Builds the network in a block of its own: its initial weights depend only on the root seed.</summary>
    [ReproducibleBlock(1)]
    public static SmallCnn Create(Device device) => new SmallCnn().to(device);

    public override Tensor forward(Tensor input) => _classifier.forward(_features.forward(input));
}
