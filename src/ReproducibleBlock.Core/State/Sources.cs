using System;

namespace ReproducibleBlock.State;

/// <summary>
/// The generators a block sets: the torch CPU default generator (layer initialisers, dropout, <c>rand*</c>), the
/// managed generator behind <see cref="Reproducible.Random"/>, and the CUDA generators.
/// </summary>
internal sealed class Sources(TorchCpuGenerator cpu, BlockRandom managed, ICudaGenerators cuda)
{
    public TorchCpuGenerator Cpu { get; } = cpu;
    public BlockRandom Managed { get; } = managed;
    public ICudaGenerators Cuda { get; } = cuda;

    /// <summary>A state of this process's shape (CPU state size, CUDA devices with exact state).</summary>
    public RngState NewState() => new(Cpu.StateSize, Cuda.StateCount);

    public void Read(RngState state)
    {
        Cpu.Read(state.Cpu);
        state.Managed = Managed.State;
        Cuda.Read(state.Cuda);
    }

    /// <summary>Sets every generator. CUDA, the one that can fail (a lost device), goes first: then a failure leaves the others as they were.</summary>
    /// <param name="state">The state to set.</param>
    /// <param name="alreadyValid">
    /// The state was read from this process's generators or came through the snapshot reader, which validates every
    /// state it reads (a restoring exit's saved state, a continuing block's stream): the CPU state's check, a pass over
    /// its 624 words, is skipped on these hot paths. Anything else is checked.
    /// </param>
    public void Apply(RngState state, bool alreadyValid = false)
    {
        Cuda.Write(state.Cuda);
        if (alreadyValid)
            Cpu.WriteReadBack(state.Cpu);
        else
            Cpu.Write(state.Cpu);
        Managed.State = state.Managed;
    }

    /// <summary>
    /// Puts back a state read before a step that failed: CPU and managed first, then CUDA as far as it goes. A second
    /// CUDA failure is dropped so that the first one, the cause, is what the caller sees.
    /// </summary>
    public void Undo(RngState state)
    {
        Cpu.Write(state.Cpu);
        Managed.State = state.Managed;
        try
        {
            Cuda.Write(state.Cuda);
        }
        catch (Exception)
        {
            // The device that failed the step fails again: its state is lost either way.
        }
    }
}
