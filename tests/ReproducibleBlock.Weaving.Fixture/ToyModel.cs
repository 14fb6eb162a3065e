using ReproducibleBlock;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

// Every constructor of every Module subclass in this assembly is its own block, each part it builds a site of its own,
// and every forward override runs in the instance's continuing block (ContinuingForward, the default from 0.3): no
// scopes written by hand, and the one-line rule as a user writes it.
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

/// <summary>
/// Builds two child modules of one type, then a layer of its own: with constructor blocks restoring on exit, the
/// head's weights do not depend on how much the children drew.
/// </summary>
public sealed class Tower : Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.Linear _head;

    public Tower(int convLayers) : base(nameof(Tower))
    {
        Left = new FeatureExtractor(convLayers);
        Right = new FeatureExtractor(convLayers);
        _head = Linear(8, 4);
        RegisterComponents();
    }

    public FeatureExtractor Left { get; }
    public FeatureExtractor Right { get; }

    public float[] HeadWeights() => [.. _head.weight!.data<float>(), .. _head.bias!.data<float>()];

    public override Tensor forward(Tensor input) => _head.forward(Left.forward(input) + Right.forward(input));
}

/// <summary>A module the rule would weave, opted out.</summary>
[NoReproducibleBlock]
public sealed class NotABlock : Module<Tensor, Tensor>
{
    public NotABlock() : base(nameof(NotABlock)) { }
    public override Tensor forward(Tensor input) => input;
}

/// <summary>Draws a dropout mask on every call: the rule's ContinuingForward gives it a stream of its own.</summary>
public sealed class Noisy : Module<Tensor, Tensor>
{
    public Noisy() : base(nameof(Noisy)) { }

    public override Tensor forward(Tensor input) => functional.dropout(input, 0.5, training: true);
}

/// <summary>Two modules in one, each drawing on every call.</summary>
public sealed class TwoNoisy : Module<Tensor, Tensor>
{
    public TwoNoisy() : base(nameof(TwoNoisy))
    {
        First = new Noisy();
        Second = new Noisy();
        RegisterComponents();
    }

    public Noisy First { get; }
    public Noisy Second { get; }

    /// <summary>Draws in its own stream too, between its children's calls.</summary>
    public override Tensor forward(Tensor input) => Second.forward(First.forward(input) + randn(input.shape));
}

/// <summary>A class that is not a module, with a continuing method of its own.</summary>
public sealed class Counter
{
    [ContinuingBlock]
    public long Next() => Draw.Next();
}

/// <summary>Continuing methods of a generic class: one returns the class's type parameter, one a tuple of its own.</summary>
public sealed class Keeper<T>
{
    [ContinuingBlock]
    public T Keep(T value)
    {
        _ = Draw.Next();
        return value;
    }

    [ContinuingBlock]
    public (U Value, long Drawn) Pair<U>(U value) => (value, Draw.Next());
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
