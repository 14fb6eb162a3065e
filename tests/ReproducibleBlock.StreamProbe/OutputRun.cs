using System;
using System.Diagnostics;
using System.Globalization;
using ReproducibleBlock;
using ReproducibleBlock.StreamProbe;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

// Every constructor of the probe's modules is its own block and every forward runs in its module's continuing block, its
// output handed to the trace (the assembly rule, as a project writes it), so each module's stream is keyed by its
// construction path and named by its place in the model.
[assembly: ReproducibleConstructors(typeof(Module))]

namespace ReproducibleBlock.StreamProbe;

/// <summary>
/// The tracing tests' model (<c>--output-run</c>): training steps of a small network whose random modules (two dropouts)
/// draw in streams of their own, with two modules whose output can differ between runs for real causes while every
/// random stream agrees: <see cref="SumReduction"/> (a sum of 400,000 floats, which libtorch splits across its intra-op
/// threads, so the rounding depends on <c>torch.set_num_threads</c>) and <see cref="ClockOffset"/> (adds a value read
/// from the clock, when asked to).
/// </summary>
public static class OutputRun
{
    /// <summary>
    /// Runs <paramref name="steps"/> steps and prints each step's reduced sum (its float's bits), so a test can tell
    /// whether the thread count changed it on this machine.
    /// </summary>
    /// <param name="threads">torch's intra-op thread count, set before SetSeed (so the seed event's environment has it); null leaves it.</param>
    /// <param name="clock">Whether <see cref="ClockOffset"/> adds the clock's value.</param>
    /// <param name="steps">How many training steps.</param>
    public static void Run(int? threads, bool clock, int steps)
    {
        if (threads is { } count)
            torch.set_num_threads(count);
        Reproducible.SetSeed(42);
        using var model = new ProbeNet(clock);
        model.train();
        for (int step = 1; step <= steps; step++)
        {
            using DisposeScope scope = torch.NewDisposeScope();
            // The same batch in every run: values made, not drawn.
            Tensor input = torch.arange(4 * 16, dtype: float32).reshape(4, 16) / 64f + step;
            Tensor output = model.call(input);
            BlockTrace.Mark("loss", output.sum());
            Console.WriteLine($"step {step.ToString(CultureInfo.InvariantCulture)} sum {BitConverter.SingleToInt32Bits(model.LastSum).ToString("x8", CultureInfo.InvariantCulture)}");
        }
    }
}

/// <summary>features (Linear, ReLU, Dropout), reduce, clock, head (Linear, Dropout).</summary>
public sealed class ProbeNet : Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // lower case: the fields' names are the modules' paths in the model (ProbeNet.features.2)
    private readonly Sequential features;
    private readonly SumReduction reduce;
    private readonly ClockOffset clock;
    private readonly Sequential head;
#pragma warning restore IDE1006

    public ProbeNet(bool clock) : base(nameof(ProbeNet))
    {
#if CODE_CHANGED
        // The other build of the tracing tests' code-change run: one more dropout in the feature extractor.
        features = Sequential(Linear(16, 16), ReLU(), Dropout(0.25), Dropout(0.1));
#else
        features = Sequential(Linear(16, 16), ReLU(), Dropout(0.25));
#endif
        reduce = new SumReduction(400_000);
        this.clock = new ClockOffset(clock);
        head = Sequential(Linear(17, 4), Dropout(0.1));
        RegisterComponents();
    }

    /// <summary>The sum the reduction computed in the last step.</summary>
    public float LastSum => reduce.LastSum;

    public override Tensor forward(Tensor input) => head.call(clock.call(reduce.call(features.call(input))));
}

/// <summary>
/// Appends to each row the sum of a fixed buffer of 400,000 floats (drawn when the module is built): libtorch splits such
/// a sum across its intra-op threads, and the partial sums round differently for another thread count.
/// </summary>
public sealed class SumReduction : Module<Tensor, Tensor>
{
    private readonly Tensor _values;

    public SumReduction(long size) : base(nameof(SumReduction))
    {
        _values = torch.randn(size);
        RegisterComponents();
    }

    public float LastSum { get; private set; }

    public override Tensor forward(Tensor input)
    {
        Tensor sum = _values.sum();
        LastSum = sum.item<float>();
        return torch.cat([input, sum.expand(input.shape[0], 1)], dim: 1);
    }
}

/// <summary>Adds a value read from the clock (when <c>reads</c> is true): a computation no seed repeats.</summary>
public sealed class ClockOffset(bool reads) : Module<Tensor, Tensor>(nameof(ClockOffset))
{
    public override Tensor forward(Tensor input) => reads ? input + (Stopwatch.GetTimestamp() % 1000) * 1e-3f : input;
}
