// Every Module subclass's constructor is its own block (one line, below), and Train is a block of its own.
// Adding a conv layer to the feature extractor changes neither the classifier's initial weights nor training.
using System;
using System.Linq;
using ReproducibleBlock;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

[assembly: ReproducibleConstructors(typeof(torch.nn.Module))]

Reproducible.SetSeed(42);
var small = new Model(convLayers: 2);
float[] smallTrained = Trainer.Train(small);

Reproducible.SetSeed(42);
var large = new Model(convLayers: 3);
float[] largeTrained = Trainer.Train(large);

bool sameStart = small.Classifier.parameters().Zip(large.Classifier.parameters())
    .All(pair => pair.First.data<float>().SequenceEqual(pair.Second.data<float>()));
Console.WriteLine($"Classifier starts from the same weights with 2 or 3 conv layers: {sameStart}");
Console.WriteLine($"Training sees the same data order and dropout mask with 2 or 3 conv layers: {smallTrained.SequenceEqual(largeTrained)}");
return sameStart && smallTrained.SequenceEqual(largeTrained) ? 0 : 1;

// Each of your Module classes is a block, and each part its constructor builds (a field's value, a call) a block within
// it, keyed by the field's or the callee's name: classes of their own, as here (torch-reproducible-block's toy model),
// or Sequentials built side by side in one constructor, isolate alike. Every forward draws from its module's stream.
public sealed class Model : Module<Tensor, Tensor>
{
    public Model(int convLayers) : base(nameof(Model))
    {
        Features = new FeatureExtractor(convLayers);
        Classifier = new Classifier();
        RegisterComponents();
    }

    public FeatureExtractor Features { get; }
    public Classifier Classifier { get; }

    public override Tensor forward(Tensor input) => Classifier.forward(Features.forward(input));
}

public sealed class FeatureExtractor : Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.Sequential _convs;

    public FeatureExtractor(int convLayers) : base(nameof(FeatureExtractor))
    {
        _convs = Sequential(Enumerable.Range(0, convLayers).Select(i => ($"conv{i}", (Module<Tensor, Tensor>)Conv2d(i == 0 ? 3 : 16, 16, 2))).ToArray());
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => functional.adaptive_avg_pool2d(_convs.forward(input), 1).flatten(1);
}

public sealed class Classifier : Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.Sequential _layers = Sequential(Linear(16, 32), ReLU(), Dropout(0.5), Linear(32, 10));

    public Classifier() : base(nameof(Classifier)) => RegisterComponents();

    public override Tensor forward(Tensor input) => _layers.forward(input);
}

public static class Trainer
{
    /// <summary>
    /// A block: the data order and dropout masks it draws depend only on its seed, not on what was built before it.
    /// Returns the first epoch's order and the first dropout mask, to compare runs.
    /// </summary>
    [ReproducibleBlock(128)]
    public static float[] Train(Model model)
    {
        model.train();
        long[] order = new BlockShuffler(16).ToArray();
        using Tensor batch = randn(4, 3, 8, 8);
        using Tensor output = model.forward(batch);
        using Tensor mask = functional.dropout(ones(4, 32), 0.5, training: true);
        return [.. order.Select(i => (float)i), .. mask.data<float>()];
    }
}
