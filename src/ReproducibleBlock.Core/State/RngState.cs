using System;

namespace ReproducibleBlock.State;

/// <summary>The state of every source at one moment: the torch CPU generator, the managed generator and each CUDA device.</summary>
/// <remarks>Instances are reused (one per open block), so saving state on block entry allocates nothing.</remarks>
internal sealed class RngState
{
    public RngState(int cpuStateSize, int cudaDevices)
    {
        Cpu = new byte[cpuStateSize];
        Cuda = new CudaGeneratorState[cudaDevices];
    }

    /// <summary>The torch CPU generator's state bytes.</summary>
    public byte[] Cpu { get; }

    /// <summary>The state of <see cref="Reproducible.Random"/>.</summary>
    public ulong Managed { get; set; }

    /// <summary>Seed and offset per CUDA device; empty when CUDA is unavailable or its state cannot be read.</summary>
    public CudaGeneratorState[] Cuda { get; }

    public void CopyTo(RngState destination)
    {
        Cpu.CopyTo(destination.Cpu.AsSpan());
        destination.Managed = Managed;
        Cuda.CopyTo(destination.Cuda.AsSpan());
    }

    public bool SameShape(RngState other) => Cpu.Length == other.Cpu.Length && Cuda.Length == other.Cuda.Length;
}
