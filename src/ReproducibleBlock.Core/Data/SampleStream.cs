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
/// them before that thread resolves another one. <c>torch.Generator</c> is CPU-only in TorchSharp 0.107: draw
/// augmentation on CPU tensors (the usual place for it) and move the result.
/// </remarks>
public readonly struct SampleStream
{
    [ThreadStatic]
    private static PerThread? t_perThread;

    private SampleStream(PerThread generators, long index, long epoch, long position)
    {
        Generator = generators.Torch;
        Random = generators.Managed;
        Index = index;
        Epoch = epoch;
        Position = position;
    }

    /// <summary>The torch CPU generator set to this sample's state.</summary>
    public torch.Generator Generator { get; }

    /// <summary>A managed generator set to this sample's state.</summary>
    public Random Random { get; }

    /// <summary>The sample's index in the dataset.</summary>
    public long Index { get; }

    /// <summary>The epoch's number (0 for the first epoch the sampler started).</summary>
    public long Epoch { get; }

    /// <summary>The sample's position in the epoch's order.</summary>
    public long Position { get; }

    internal static SampleStream For(ulong key, long index, long epoch, long position)
    {
        PerThread generators = t_perThread ??= new PerThread();
        generators.Set(key);
        return new SampleStream(generators, index, epoch, position);
    }

    /// <summary>One thread's generators, set to a sample's state per use (set-up is one state write, no allocation).</summary>
    private sealed class PerThread
    {
        private readonly torch.Tensor _state;

        public PerThread()
        {
            Torch = new torch.Generator(0);
            using (torch.Tensor probe = Torch.get_state())
                _state = torch.empty(probe.shape, torch.ScalarType.Byte, torch.CPU).DetachFromDisposeScope();
        }

        public torch.Generator Torch { get; }

        public BlockRandom Managed { get; } = new(0);

        public void Set(ulong key)
        {
            if (_state.NumberOfElements == CpuGeneratorState.Size)
            {
                CpuGeneratorState.Derive(key, _state.bytes);
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
