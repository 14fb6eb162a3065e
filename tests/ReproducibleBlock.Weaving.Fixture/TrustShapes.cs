using ReproducibleBlock;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace WeavingFixture;

/// <summary>A model with a layer and a dropout: a student, or its EMA teacher, made by <see cref="Models.Create"/>.</summary>
public sealed class Student : Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.Linear _layer = Linear(16, 16);

    public Student() : base(nameof(Student)) => RegisterComponents();

    public float[] Weights() => _layer.weight!.data<float>().ToArray();

    public override Tensor forward(Tensor input) => functional.dropout(_layer.forward(input), 0.5, training);
}

public static class Models
{
    /// <summary>A woven factory: every call enters block 100.</summary>
    [ReproducibleBlock(100)]
    public static Student Create() => new();
}

/// <summary>Draws a mask in its forward; <see cref="DerivedLayer"/> calls it through base.forward.</summary>
public class BaseLayer : Module<Tensor, Tensor>
{
    public BaseLayer() : base(nameof(BaseLayer)) { }

    public override Tensor forward(Tensor input) => functional.dropout(input, 0.5, training: true);
}

/// <summary>Its forward draws, then calls base.forward: both run in the instance's continuing block.</summary>
public sealed class DerivedLayer : BaseLayer
{
    public override Tensor forward(Tensor input) => cat([functional.dropout(input, 0.5, training: true), base.forward(input)]);
}

/// <summary>A forward that calls itself on the rest of its input: every depth in the instance's continuing block.</summary>
public sealed class Unrolled : Module<Tensor, Tensor>
{
    public Unrolled() : base(nameof(Unrolled)) { }

    public override Tensor forward(Tensor input)
    {
        Tensor mask = functional.dropout(ones(1, input.shape[1]), 0.5, training: true);
        return input.shape[0] == 1 ? mask : cat([mask, forward(input[1..])]);
    }
}
