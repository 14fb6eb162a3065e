using System;
using TorchSharp;

namespace ReproducibleBlock.State;

/// <summary>How <see cref="TorchCpuGenerator"/> reads and writes the generator's state, chosen once per process.</summary>
internal enum CpuStateAccess
{
    /// <summary>TorchSharp's <c>get_state</c> and <c>set_state</c>: a native call and a 5,056-byte tensor each way.</summary>
    TensorCopies,

    /// <summary>The generator object's own fields, found and checked against the tensor path at start-up (<see cref="Native.CpuGeneratorMemory"/>).</summary>
    GeneratorMemory,
}

/// <summary>The torch CPU default generator: the source every layer initialiser, dropout and <c>rand*</c> draws from.</summary>
/// <remarks>
/// <para>
/// One <see cref="torch.Generator"/> wrapper and one state tensor are kept for the life of the process:
/// <c>Generator.Default</c> makes a new wrapper per call, and writing into a kept tensor makes a state
/// write allocation-free. Reading still costs one tensor, because <c>get_state</c> always returns a copy.
/// </para>
/// <para>
/// Block entries and exits read and write the state two to four times each, so where the generator object's layout
/// can be verified (<see cref="Native.CpuGeneratorMemory"/>: 64-bit Linux, run with libtorch 2.10), the state is read and written in
/// the object itself, byte for byte what <c>get_state</c> and <c>set_state</c> would produce, at a fraction of their
/// cost. The choice is made once per process, on the first instance, by checking that path against the tensor path on
/// several states; any difference keeps the tensor path for good. <see cref="Access"/> says which is in use.
/// </para>
/// </remarks>
internal sealed class TorchCpuGenerator
{
    /// <summary>Draws per native call when advancing (8 MiB of int64), so memory stays bounded for any count.</summary>
    internal const long AdvanceChunk = 1 << 20;

    private static readonly object ProcessChoiceGate = new();
    private static (Native.CpuGeneratorMemory? Memory, string? Why)? s_processChoice;

    private readonly torch.Generator _generator;
    private readonly torch.Tensor _writeBuffer;
    private readonly Native.CpuGeneratorMemory? _memory;
    private readonly byte[] _lastWritten; // what the memory path last wrote (the tensor path keeps it in _writeBuffer)

    public TorchCpuGenerator()
        : this(verifyAgainst: null)
    {
    }

    /// <param name="verifyAgainst">
    /// Null: the process's one choice of access (made here on the first instance). Otherwise a fresh check, not shared,
    /// against what this returns for the tensor path (tests pass one that disagrees, to see the fallback taken).
    /// </param>
    internal TorchCpuGenerator(Func<Native.ICpuStateReference, Native.ICpuStateReference>? verifyAgainst)
    {
        _generator = torch.Generator.Default;
        using (torch.Tensor probe = _generator.get_state())
            // Stryker disable once Checked : a 5,056-byte state cannot overflow int; checked guards an absurd libtorch
            StateSize = checked((int)probe.NumberOfElements);
        _writeBuffer = torch.empty(new long[] { StateSize }, torch.ScalarType.Byte, torch.CPU).DetachFromDisposeScope();
        _lastWritten = new byte[StateSize];
        (Native.CpuGeneratorMemory? memory, string? why) = verifyAgainst is null ? ProcessChoice(this) : Choose(this, verifyAgainst(new TensorPath(this)));
        _memory = memory;
        WhyTensorCopies = why;
    }

    private static (Native.CpuGeneratorMemory?, string?) ProcessChoice(TorchCpuGenerator generator)
    {
        lock (ProcessChoiceGate)
            return s_processChoice ??= Choose(generator, new TensorPath(generator));
    }

    private static (Native.CpuGeneratorMemory?, string?) Choose(TorchCpuGenerator generator, Native.ICpuStateReference reference)
    {
        // Stryker disable once String : the tests' libtorch has the known state size; another one is not at hand
        if (!generator.HasKnownLayout)
            return (null, $"the CPU generator state is {generator.StateSize} bytes, not the {CpuGeneratorState.Size} whose mapping to the generator's fields is known");
        Native.CpuGeneratorMemory? memory = Native.CpuGeneratorMemory.TryOpen(generator._generator.Handle, reference, out string? why);
        return (memory, why);
    }

    /// <summary>The size of this libtorch's state; <see cref="CpuGeneratorState.Size"/> for every libtorch 1.x and 2.x.</summary>
    public int StateSize { get; }

    /// <summary>Whether states can be validated and derived byte by byte (the layout is the known one).</summary>
    public bool HasKnownLayout => StateSize == CpuGeneratorState.Size;

    /// <summary>How the state is read and written in this process (for tests and the environment record).</summary>
    public CpuStateAccess Access => _memory is null ? CpuStateAccess.TensorCopies : CpuStateAccess.GeneratorMemory;

    /// <summary>Why <see cref="Access"/> is <see cref="CpuStateAccess.TensorCopies"/>; null when it is not.</summary>
    public string? WhyTensorCopies { get; }

    /// <summary>
    /// The process's choice, which every instance created with the public constructor uses, for callers without an
    /// instance (the environment record); null until the first such instance (the runtime creates it at <c>SetSeed</c>).
    /// </summary>
    internal static (CpuStateAccess Access, string? WhyTensorCopies)? ProcessAccess
    {
        get
        {
            lock (ProcessChoiceGate)
            {
                return s_processChoice is { } choice
                    ? (choice.Memory is null ? CpuStateAccess.TensorCopies : CpuStateAccess.GeneratorMemory, choice.Why)
                    : null;
            }
        }
    }

    /// <summary>Copies the current state into <paramref name="destination"/> (exactly <see cref="StateSize"/> bytes).</summary>
    public void Read(Span<byte> destination)
    {
        if (_memory is { } memory)
            memory.Read(destination[..StateSize]);
        else
            ReadTensor(destination);
    }

    /// <summary>Sets the state, after checking it: libtorch aborts the process on a state it cannot read.</summary>
    /// <exception cref="ArgumentException">The state has the wrong size or is not a valid generator state.</exception>
    public void Write(ReadOnlySpan<byte> state)
    {
        if (state.Length != StateSize)
            throw new ArgumentException($"This libtorch's CPU generator state is {StateSize} bytes; the given one is {state.Length}.", nameof(state));
        if (HasKnownLayout && CpuGeneratorState.Validate(state) is { } reason)
            throw new ArgumentException($"Invalid CPU generator state: {reason}.", nameof(state));
        WriteReadBack(state);
    }

    /// <summary>
    /// Sets a state known to be valid (read from this generator, or checked by the snapshot reader), without
    /// <see cref="Write"/>'s check.
    /// </summary>
    public void WriteReadBack(ReadOnlySpan<byte> state)
    {
        if (_memory is { } memory)
            memory.Write(state, _lastWritten);
        else
            WriteTensor(state);
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
        if (_memory is { } memory)
        {
            CpuGeneratorState.Derive(key, _lastWritten);
            memory.Write(_lastWritten);
            return;
        }
        Span<byte> state = _writeBuffer.bytes;
        CpuGeneratorState.Derive(key, state);
        _generator.set_state(_writeBuffer);
    }

    /// <summary>
    /// The state the last <see cref="Write"/>, <see cref="WriteReadBack"/> or <see cref="WriteDerived"/> set (with the
    /// known layout): the generator's state until something draws or seeds it, so a trace can hash it without reading
    /// the state back.
    /// </summary>
    public ReadOnlySpan<byte> LastWritten => _memory is null ? _writeBuffer.bytes : _lastWritten;

    private void ReadTensor(Span<byte> destination)
    {
        using torch.Tensor state = _generator.get_state();
        state.bytes.CopyTo(destination);
    }

    private void WriteTensor(ReadOnlySpan<byte> state)
    {
        state.CopyTo(_writeBuffer.bytes);
        _generator.set_state(_writeBuffer);
    }

    /// <summary>This generator through TorchSharp's tensors: what the memory path is checked against.</summary>
    private sealed class TensorPath(TorchCpuGenerator generator) : Native.ICpuStateReference
    {
        public void Read(Span<byte> destination) => generator.ReadTensor(destination);

        public void Write(ReadOnlySpan<byte> state) => generator.WriteTensor(state);
    }

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
