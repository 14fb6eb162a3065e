using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace WeavingFixture.RealShapes;

/// <summary>Hidden layers in a ModuleList built in a loop, then a head: adding a hidden layer leaves the head as it was.</summary>
public sealed class StackedMlp : Module<Tensor, Tensor>
{
    private readonly ModuleList<Module<Tensor, Tensor>> hidden = new();
    private readonly Module<Tensor, Tensor> head;

    public StackedMlp(int depth) : base(nameof(StackedMlp))
    {
        for (int i = 0; i < depth; i++)
            hidden.Add(Linear(8, 8));
        head = Linear(8, 3);
        RegisterComponents();
    }

    public float[] HeadWeights() => [.. head.parameters().SelectMany(p => p.data<float>().ToArray())];

    public override Tensor forward(Tensor input)
    {
        Tensor x = input;
        foreach (Module<Tensor, Tensor> layer in hidden)
            x = functional.relu(layer.forward(x));
        return head.forward(x);
    }
}

/// <summary>
/// Parts registered under constant names, not stored in fields (register_module): each named part is a block of its
/// own, keyed by the name it is registered under.
/// </summary>
public sealed class Registered : Module<Tensor, Tensor>
{
    public Registered(int encoderWidth) : base(nameof(Registered))
    {
        register_module("encoder", Sequential(Linear(8, encoderWidth), ReLU(), Linear(encoderWidth, 8)));
        register_module("decoder", Linear(8, 4));
    }

    public float[] DecoderWeights() => [.. named_parameters().Where(p => p.name.StartsWith("decoder.", System.StringComparison.Ordinal)).SelectMany(p => p.parameter.data<float>().ToArray())];

    public override Tensor forward(Tensor input)
    {
        var encoder = (Module<Tensor, Tensor>)named_children().Single(c => c.name == "encoder").module;
        var decoder = (Module<Tensor, Tensor>)named_children().Single(c => c.name == "decoder").module;
        return decoder.forward(encoder.forward(input));
    }
}

/// <summary>
/// TorchSharp Dropouts held in fields and called directly from the woven forward (no hooks run then): the woven call
/// enters each one's path stream. <c>noiseFirst</c> adds a draw in the module's own stream before them; <c>viaCall</c>
/// calls the second one through <c>call()</c>, whose hooks enter the same stream.
/// </summary>
public sealed class DirectDropout : Module<Tensor, Tensor>
{
    private readonly Dropout _first = Dropout(0.5);
    private readonly Dropout _second = Dropout(0.5);
    private readonly bool _noiseFirst;
    private readonly bool _viaCall;

    public DirectDropout(bool noiseFirst, bool viaCall) : base(nameof(DirectDropout))
    {
        _noiseFirst = noiseFirst;
        _viaCall = viaCall;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        Tensor x = _noiseFirst ? functional.dropout(input, 0.5, training) : input;
        Tensor first = _first.forward(x);
        Tensor second = _viaCall ? _second.call(input) : _second.forward(input);
        return cat([first, second]);
    }
}
