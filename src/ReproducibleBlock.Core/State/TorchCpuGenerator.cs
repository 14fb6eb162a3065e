using System;
using TorchSharp;

namespace ReproducibleBlock.State;

/// <summary>The torch CPU default generator: the source every layer initialiser, dropout and <c>rand*</c> draws from.</summary>
/// <remarks>
/// One <see cref="torch.Generator"/> wrapper and one state tensor are kept for the life of the process:
/// <c>Generator.Default</c> makes a new wrapper per call, and writing into a kept tensor makes a state
/// write allocation-free. Reading still costs one tensor, because <c>get_state</c> always returns a copy.
/// </remarks>
internal sealed class TorchCpuGenerator
{
    /// <summary>Draws per native call when advancing (8 MiB of int64), so memory stays bounded for any count.</summary>
    internal const long AdvanceChunk = 1 << 20;

    private readonly torch.Generator _generator;
    private readonly torch.Tensor _writeBuffer;

    public TorchCpuGenerator()
    {
        _generator = torch.Generator.Default;
        using (torch.Tensor probe = _generator.get_state())
            // Stryker disable once Checked : a 5,056-byte state cannot overflow int; checked guards an absurd libtorch
            StateSize = checked((int)probe.NumberOfElements);
        _writeBuffer = torch.empty(new long[] { StateSize }, torch.ScalarType.Byte, torch.CPU).DetachFromDisposeScope();
    }

    /// <summary>The size of this libtorch's state; <see cref="CpuGeneratorState.Size"/> for every libtorch 1.x and 2.x.</summary>
    public int StateSize { get; }

    /// <summary>Whether states can be validated and derived byte by byte (the layout is the known one).</summary>
    public bool HasKnownLayout => StateSize == CpuGeneratorState.Size;

    /// <summary>Copies the current state into <paramref name="destination"/> (exactly <see cref="StateSize"/> bytes).</summary>
    public void Read(Span<byte> destination)
    {
        using torch.Tensor state = _generator.get_state();
        state.bytes.CopyTo(destination);
    }

    /// <summary>Sets the state, after checking it: libtorch aborts the process on a state it cannot read.</summary>
    /// <exception cref="ArgumentException">The state has the wrong size or is not a valid generator state.</exception>
    public void Write(ReadOnlySpan<byte> state)
    {
        if (state.Length != StateSize)
            throw new ArgumentException($"This libtorch's CPU generator state is {StateSize} bytes; the given one is {state.Length}.", nameof(state));
        if (HasKnownLayout && CpuGeneratorState.Validate(state) is { } reason)
            throw new ArgumentException($"Invalid CPU generator state: {reason}.", nameof(state));
        state.CopyTo(_writeBuffer.bytes);
        _generator.set_state(_writeBuffer);
    }

    /// <summary>
    /// Sets a state known to be valid (read from this generator, or checked by the snapshot reader), without
    /// <see cref="Write"/>'s check.
    /// </summary>
    public void WriteReadBack(ReadOnlySpan<byte> state)
    {
        state.CopyTo(_writeBuffer.bytes);
        _generator.set_state(_writeBuffer);
    }

    /// <summary>Sets the state derived from a block key (see <see cref="CpuGeneratorState.Derive"/>).</summary>
    /// <remarks>With an unknown layout, falls back to <c>manual_seed</c>, which keeps only 32 bits of the key.</remarks>
    public void WriteDerived(ulong key)
    {
        if (!HasKnownLayout)
        {
            _generator.manual_seed(unchecked((long)key));
            return;
        }
        Span<byte> state = _writeBuffer.bytes;
        CpuGeneratorState.Derive(key, state);
        _generator.set_state(_writeBuffer);
    }

    /// <summary>
    /// The state the last <see cref="Write"/> or <see cref="WriteDerived"/> set (with the known layout): the generator's
    /// state until something draws or seeds it, so a trace can hash it without reading the state back.
    /// </summary>
    public ReadOnlySpan<byte> LastWritten => _writeBuffer.bytes;

    /// <summary><c>manual_seed</c>: what PyTorch's <c>torch.manual_seed</c> does to the CPU generator.</summary>
    public void Seed(long seed) => _generator.manual_seed(seed);

    /// <summary>
    /// Advances the generator exactly as <paramref name="draws"/> calls of <c>torch.randint(1, 10, [1])</c> would,
    /// in chunks of one <c>randint(1, 10, [n])</c> each (one such call leaves the same state as n single calls).
    /// </summary>
    public void Advance(long draws)
    {
        // Stryker disable once Equality : advancing by a last chunk of 0 draws draws nothing
        for (long remaining = draws; remaining > 0; remaining -= AdvanceChunk)
        {
            long count = Math.Min(remaining, AdvanceChunk);
            using torch.Tensor drawn = torch.randint(1, 10, new long[] { count }, torch.ScalarType.Int64, torch.CPU, generator: _generator);
        }
    }
}
