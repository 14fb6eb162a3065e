using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

// The woven strategy: every constructor of every Module subclass below that is not opted out is its own block.
[assembly: ReproducibleBlock.ReproducibleConstructors(typeof(torch.nn.Module))]

namespace ReproducibleBlock.Demo;

/// <summary>The three pictures of torch-reproducible-block's README.</summary>
public sealed record Variant(string Name, bool HasExtractor, int ConvLayers)
{
    public static readonly Variant A = new("A", HasExtractor: true, ConvLayers: 3);
    public static readonly Variant B = new("B", HasExtractor: true, ConvLayers: 2);
    public static readonly Variant C = new("C", HasExtractor: false, ConvLayers: 2);
    public static readonly Variant[] All = [A, B, C];
}

/// <summary>How the network is isolated: not at all, with hand-written scopes, or with woven constructors.</summary>
public enum Strategy
{
    WithoutBlocks,
    Scopes,
    Woven,
}

/// <summary>Stands in for a pre-trained feature extractor whose set-up draws random numbers.</summary>
[NoReproducibleBlock]
public class Extractor : Module<Tensor, Tensor>
{
#pragma warning disable IDE0052 // never read: the draws made to fill it are the point
    private readonly Tensor _setUpNoise;
#pragma warning restore IDE0052
    private readonly TorchSharp.Modules.Conv2d _projection;

    public Extractor(Device device) : base("extractor")
    {
        _setUpNoise = randn(512, device: device); // the set-up's own random work
        _projection = Conv2d(3, 3, 1, device: device);
        _projection.weight!.requires_grad = false;
        _projection.bias!.requires_grad = false;
        RegisterComponents();
    }

    public Tensor Weight => _projection.weight!;

    public override Tensor forward(Tensor input) => _projection.forward(input);
}

/// <summary>Two or three 2×2 conv layers, then global average pooling to 32 features.</summary>
[NoReproducibleBlock]
public class ConvStack : Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.ModuleList<Module<Tensor, Tensor>> _convs = new();

    public ConvStack(int layers, Device device) : base("convs")
    {
        long[] channels = [3, 16, 32, 32];
        for (int i = 0; i < layers; i++)
            _convs.Add(Conv2d(channels[i], channels[i + 1], 2, device: device));
        RegisterComponents();
    }

    public IReadOnlyList<Tensor> Weights => _convs.Select(c => ((TorchSharp.Modules.Conv2d)c).weight!).ToList();

    public override Tensor forward(Tensor input)
    {
        Tensor x = input;
        foreach (Module<Tensor, Tensor> conv in _convs)
            x = functional.relu(conv.forward(x));
        return functional.adaptive_avg_pool2d(x, 1).flatten(1);
    }
}

/// <summary>A hidden and an output fully connected layer, with dropout between them.</summary>
[NoReproducibleBlock]
public class Classifier : Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.Linear _hidden;
    private readonly TorchSharp.Modules.Linear _output;

    public Classifier(Device device) : base("classifier")
    {
        _hidden = Linear(32, 64, device: device);
        _output = Linear(64, 4, device: device);
        RegisterComponents();
    }

    public Tensor HiddenWeight => _hidden.weight!;
    public Tensor OutputWeight => _output.weight!;

    /// <summary>Which units the last training forward pass dropped, as a fingerprint.</summary>
    public string? LastDropoutMask { get; private set; }

    public override Tensor forward(Tensor input)
    {
        Tensor hidden = functional.relu(_hidden.forward(input));
        if (!training)
            return _output.forward(hidden);
        // Dropout applied to ones is the scaled mask itself: the same draws as dropout(hidden), but observable.
        Tensor mask = functional.dropout(ones_like(hidden), 0.3, training: true);
        LastDropoutMask = Fingerprint.Of(mask);
        return _output.forward(hidden * mask);
    }
}

// The woven strategy's parts: the same layers, each class a block of its own through the assembly rule.
public sealed class WovenExtractor(Device device) : Extractor(device);
public sealed class WovenConvStack(int layers, Device device) : ConvStack(layers, device);
public sealed class WovenClassifier(Device device) : Classifier(device);

/// <summary>The toy model, built under one of the strategies.</summary>
[NoReproducibleBlock]
public sealed class Network : Module<Tensor, Tensor>
{
    public Network(Variant variant, Strategy strategy, Device device) : base("network")
    {
        // Block seeds for the hand-written scopes; the woven parts take theirs from their type names.
        IDisposable? Scope(long seed) => strategy == Strategy.Scopes ? Reproducible.Block(seed) : null;

        if (variant.HasExtractor)
        {
            using (Scope(1))
                Extractor = strategy == Strategy.Woven ? new WovenExtractor(device) : new Extractor(device);
        }
        using (Scope(2))
            Convs = strategy == Strategy.Woven ? new WovenConvStack(variant.ConvLayers, device) : new ConvStack(variant.ConvLayers, device);
        using (Scope(3))
            Classifier = strategy == Strategy.Woven ? new WovenClassifier(device) : new Classifier(device);
        RegisterComponents();
    }

    public Extractor? Extractor { get; }
    public ConvStack Convs { get; }
    public Classifier Classifier { get; }

    /// <summary>Each layer's initial weights, by the names the tables use.</summary>
    public IEnumerable<(string Layer, Tensor Weight)> Layers()
    {
        if (Extractor is not null)
            yield return ("extractor set-up", Extractor.Weight);
        for (int i = 0; i < Convs.Weights.Count; i++)
            yield return ($"conv {i + 1}", Convs.Weights[i]);
        yield return ("classifier hidden", Classifier.HiddenWeight);
        yield return ("classifier output", Classifier.OutputWeight);
    }

    public override Tensor forward(Tensor input) =>
        Classifier.forward(Convs.forward(Extractor is null ? input : Extractor.forward(input)));
}
