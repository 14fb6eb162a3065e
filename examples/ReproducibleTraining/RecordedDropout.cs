using System;
using TorchSharp;
using static TorchSharp.torch;

namespace ReproducibleBlock.Training;

/// <summary>
/// Dropout that shows each mask it draws to <see cref="MaskDrawn"/>, and otherwise computes what
/// <c>nn.Dropout(p)</c> computes on CPU, bit for bit (ReproducibleTrainingExampleTests checks the equivalence).
/// </summary>
/// <remarks>
/// A module of this project: under the assembly rule its <c>forward</c> runs in a continuing stream of its own, so the
/// classifier's masks come from here and from nowhere else. It draws only in training mode; in evaluation mode it
/// returns its input (an alias) and draws nothing, as <c>nn.Dropout</c> does.
/// </remarks>
internal sealed class RecordedDropout : nn.Module<Tensor, Tensor>
{
    private readonly double _p;

    /// <param name="p">The probability of dropping an element, from 0 up to (not including) 1.</param>
    public RecordedDropout(double p) : base(nameof(RecordedDropout))
    {
        if (!(p >= 0 && p < 1))
            throw new ArgumentOutOfRangeException(nameof(p), p, "A dropout probability is at least 0 and below 1.");
        _p = p;
    }

    /// <summary>
    /// Called with every mask drawn, in training mode: a tensor of the input's shape, dtype and device, 1 where the
    /// element is kept and 0 where it is dropped. Valid only during the call.
    /// </summary>
    public Action<Tensor>? MaskDrawn { get; set; }

    public override Tensor forward(Tensor input)
    {
        if (!training || _p == 0)
            return input.alias();

        // What libtorch's CPU dropout does (at::native::dropout, which on CPU is the unfused _dropout): draw the noise
        // with empty_like(input).bernoulli_(1 - p), divide it by 1 - p, multiply. The same draws from the same stream,
        // and the same rounding: the mask is scaled first, then multiplied.
        using Tensor mask = empty_like(input).bernoulli_(1 - _p);
        MaskDrawn?.Invoke(mask);
        using Tensor scaled = mask.div(1 - _p);
        return input.mul(scaled);
    }
}
