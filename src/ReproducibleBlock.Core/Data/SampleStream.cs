using System;
using ReproducibleBlock.State;
using TorchSharp;

namespace ReproducibleBlock;

/// <summary>
/// The random stream of one sample of one epoch, from <see cref="ReproducibleSampler.Resolve"/>: a torch
/// <see cref="torch.Generator"/> to pass as the <c>generator:</c> argument of <c>torch.rand</c>, <c>randn</c>,
/// <c>randint</c>, <c>randperm</c>, <c>bernoulli</c>, <c>Tensor.uniform_</c>, <c>normal_</c> and the distributions,
/// and a <see cref="System.Random"/> for managed code.
/// </summary>
/// <remarks>
/// Both generators belong to the thread that resolved the sample and are reused for its next sample, so draw from
/// them before that thread resolves another one: a stream used after that, or on another thread, throws rather than
/// drawing another sample's numbers. <c>torch.Generator</c> is CPU-only in TorchSharp 0.107: draw
/// augmentation on CPU tensors (the usual place for it) and move the result.
/// </remarks>
public readonly struct SampleStream
{
    [ThreadStatic]
    private static PerThread? t_perThread;

    private readonly PerThread? _generators;
    private readonly long _generation;

    private SampleStream(PerThread generators, long index, long epoch, long position)
    {
        _generators = generators;
        _generation = generators.Generation;
        Index = index;
        Epoch = epoch;
        Position = position;
    }

    /// <summary>The torch CPU generator set to this sample's state.</summary>
    /// <exception cref="InvalidOperationException">The stream is not current: see <see cref="Random"/>.</exception>
    public torch.Generator Generator => Current().Torch;

    /// <summary>A managed generator set to this sample's state.</summary>
    /// <remarks>
    /// The generator checks, on every draw, that it is still this sample's: one kept in a variable and used after its
    /// thread resolved another sample throws instead of drawing that sample's numbers.
    /// </remarks>
    /// <exception cref="InvalidOperationException">
    /// The stream is the default value, is used on another thread than the one that resolved it, or that thread has
    /// resolved another sample since (the generators are the thread's, set per sample): draw from each sample's stream
    /// before resolving the next, on the same thread. Thrown by the property, and by the generator's methods.
    /// </exception>
    public Random Random
    {
        get
        {
            Current();
            return new CheckedRandom(this);
        }
    }

    /// <summary>The sample's index in the dataset.</summary>
    public long Index { get; }

    /// <summary>The epoch's number (0 for the first epoch the sampler started).</summary>
    public long Epoch { get; }

    /// <summary>The sample's position in the epoch's order.</summary>
    public long Position { get; }

    private PerThread Current()
    {
        if (_generators is null)
            throw new InvalidOperationException("This SampleStream is a default value: get streams from ReproducibleSampler.Resolve.");
        if (!ReferenceEquals(t_perThread, _generators) || _generators.Generation != _generation)
        {
            throw new InvalidOperationException(
                $"The stream of sample {Index} is no longer current: its thread's generators were set to another sample since, or it is used on another thread. "
                + "Draw from each sample's stream before resolving the next (mixup: draw for the first sample, then resolve the second), on the thread that resolved it.");
        }
        return _generators;
    }

    /// <summary>The thread's managed generator, behind a check that the stream is still current before each draw.</summary>
    private sealed class CheckedRandom(SampleStream stream) : Random
    {
        private BlockRandom Managed => stream.Current().Managed;

        public override int Next() => Managed.Next();

        public override int Next(int maxValue) => Managed.Next(maxValue);

        public override int Next(int minValue, int maxValue) => Managed.Next(minValue, maxValue);

        public override long NextInt64() => Managed.NextInt64();

        public override long NextInt64(long maxValue) => Managed.NextInt64(maxValue);

        public override long NextInt64(long minValue, long maxValue) => Managed.NextInt64(minValue, maxValue);

        public override double NextDouble() => Managed.NextDouble();

        public override float NextSingle() => Managed.NextSingle();

        public override void NextBytes(byte[] buffer) => Managed.NextBytes(buffer);

        public override void NextBytes(Span<byte> buffer) => Managed.NextBytes(buffer);

        protected override double Sample() => Managed.NextDouble();
    }

    /// <summary>
    /// Whether this thread is inside the <c>Dataset.GetTensor</c> that resolved its last sample: TorchSharp's
    /// <c>DataLoader</c> runs each <c>GetTensor</c> in a dispose scope of its own, which is still this thread's current
    /// one until that call returns. Woven calls there run passively (see <see cref="State.PassiveCall"/>).
    /// </summary>
    internal static bool IsLoadingOnThisThread =>
        t_perThread is { LoadingScope: { } scope } && ReferenceEquals(torch.CurrentDisposeScope, scope);

    /// <param name="key">The sample's key.</param>
    /// <param name="index">The sample's index.</param>
    /// <param name="epoch">The epoch's number.</param>
    /// <param name="position">The sample's position in the epoch.</param>
    /// <param name="loadingScope">The dispose scope of the <c>GetTensor</c> call resolving it, when it has one of its own.</param>
    internal static SampleStream For(ulong key, long index, long epoch, long position, DisposeScope? loadingScope)
    {
        PerThread generators = t_perThread ??= new PerThread();
        generators.Set(key);
        generators.LoadingScope = loadingScope;
        return new SampleStream(generators, index, epoch, position);
    }

    /// <summary>One thread's generators, set to a sample's state per use (set-up is one state write, no allocation).</summary>
    private sealed class PerThread
    {
        private readonly torch.Tensor _state;
        private readonly Native.CpuGeneratorMemory? _memory;

        public PerThread()
        {
            Torch = new torch.Generator(0);
            using (torch.Tensor probe = Torch.get_state())
                _state = torch.empty(probe.shape, torch.ScalarType.Byte, torch.CPU).DetachFromDisposeScope();
            // Where the default generator's memory was verified (at SetSeed, which every epoch needs first), this
            // generator's state is written in place too, after the same kind of check on it; otherwise by set_state.
            if (_state.NumberOfElements == CpuGeneratorState.Size)
                _memory = Native.CpuGeneratorMemory.TryAttach(Torch);
        }

        public torch.Generator Torch { get; }

        public BlockRandom Managed { get; } = new(0);

        /// <summary>The dispose scope current when the thread resolved its last sample (the DataLoader's, around GetTensor).</summary>
        public DisposeScope? LoadingScope { get; set; }

        /// <summary>Counts the samples set, so a stream can tell it was superseded.</summary>
        public long Generation { get; private set; }

        public void Set(ulong key)
        {
            Generation++;
            if (_state.NumberOfElements == CpuGeneratorState.Size)
            {
                Span<byte> state = _state.bytes;
                CpuGeneratorState.Derive(key, state);
                if (_memory is { } memory)
                    memory.Write(state);
                else
                    Torch.set_state(_state);
            }
            else
            {
                Torch.manual_seed(unchecked((long)key)); // an unknown layout: 32 bits of the key, as blocks fall back to
            }
            Managed.State = KeyDerivation.ManagedState(key);
        }
    }
}
