using ReproducibleBlock;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

// Every constructor of every Module subclass in this assembly is its own block: no scopes written by hand.
[assembly: ReproducibleConstructors(typeof(torch.nn.Module))]

namespace WeavingFixture;

/// <summary>Stands in for a pre-trained extractor whose set-up draws random numbers, followed by conv layers.</summary>
public sealed class FeatureExtractor : Module<Tensor, Tensor>
{
#pragma warning disable IDE0052 // never read: the draws made to fill it are the point
    private readonly Tensor _setUpNoise = randn(16); // a field initialiser: inside the constructor's block
#pragma warning restore IDE0052
    private readonly TorchSharp.Modules.Sequential _convs;

    public FeatureExtractor(int convLayers) : base(nameof(FeatureExtractor))
    {
        _convs = Sequential();
        long channels = 3;
        for (int i = 0; i < convLayers; i++, channels = 8)
            _convs.append(Conv2d(channels, 8, 2));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => _convs.forward(input);
}

public sealed class Classifier : Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.Linear _hidden = Linear(64, 128);
    private readonly TorchSharp.Modules.Linear _output = Linear(128, 10);

    public Classifier() : base(nameof(Classifier)) => RegisterComponents();

    public float[] Weights() => [.. _hidden.weight!.data<float>(), .. _hidden.bias!.data<float>(), .. _output.weight!.data<float>(), .. _output.bias!.data<float>()];

    public override Tensor forward(Tensor input) => _output.forward(functional.relu(_hidden.forward(input)));
}

public sealed class ToyModel : Module<Tensor, Tensor>
{
    public ToyModel(int convLayers) : base(nameof(ToyModel))
    {
        Features = new FeatureExtractor(convLayers);
        Classifier = new Classifier();
        RegisterComponents();
    }

    public FeatureExtractor Features { get; }
    public Classifier Classifier { get; }

    public override Tensor forward(Tensor input) => Classifier.forward(Features.forward(input).flatten(1));
}

/// <summary>A module the rule would weave, opted out.</summary>
[NoReproducibleBlock]
public sealed class NotABlock : Module<Tensor, Tensor>
{
    public NotABlock() : base(nameof(NotABlock)) { }
    public override Tensor forward(Tensor input) => input;
}

public static class Training
{
    /// <summary>The seed package's decorator: every call starts from the same state.</summary>
    [ReproducibleBlock(128)]
    public static long[] Train(int steps)
    {
        using Tensor drawn = randint(0, 1L << 31, new long[] { steps });
        return drawn.data<long>().ToArray();
    }
}
