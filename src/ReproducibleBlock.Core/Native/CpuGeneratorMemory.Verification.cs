using System;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using ReproducibleBlock.State;
using TorchSharp;

namespace ReproducibleBlock.Native;

/// <summary>Any TorchSharp generator's state through its tensors: the reference for a generator that keeps no buffer of its own.</summary>
internal sealed class GeneratorTensors(torch.Generator generator) : ICpuStateReference
{
    public void Read(Span<byte> destination)
    {
        using torch.Tensor state = generator.get_state();
        state.bytes.CopyTo(destination);
    }

    public void Write(ReadOnlySpan<byte> state)
    {
        using torch.Tensor tensor = torch.empty(new long[] { state.Length }, torch.ScalarType.Byte, torch.CPU);
        state.CopyTo(tensor.bytes);
        generator.set_state(tensor);
    }
}

/// <summary>Finding the engine in a generator object and checking the whole mapping against TorchSharp, once per process.</summary>
internal sealed unsafe partial class CpuGeneratorMemory
{
    /// <summary>How far into the object the engine is looked for: past <c>c10::GeneratorImpl</c>'s members (80 bytes in libtorch 2.10).</summary>
    internal const int EngineSearchLimit = 512;

    /// <summary>A seed no other field of the object holds, written through TorchSharp to find where the engine keeps its seed.</summary>
    private const ulong ProbeSeed = 0x5EED_C0DE_D15C_0BE5;
    private const int ProbeLeft = 300;
    private const int ProbeNext = CpuGeneratorState.WordCount + 1 - ProbeLeft;
    private const float ProbeFloat = -1.625f;
    private const double ProbeDouble = 2.71875;

    private static readonly object Gate = new();
    private static int s_verifiedEngineOffset = -1;

    /// <summary>
    /// Finds the engine of the generator behind <paramref name="generatorHandle"/> and checks, in both directions and on
    /// several states, that <see cref="Read"/> and <see cref="Write(ReadOnlySpan{byte})"/> agree byte for byte with
    /// <paramref name="reference"/>, which reads and writes the same generator through TorchSharp. The generator's
    /// state is put back through <paramref name="reference"/> afterwards.
    /// </summary>
    /// <param name="generatorHandle">A TorchSharp <c>Generator.Handle</c>: an <c>at::Generator*</c>, whose one field is the implementation pointer.</param>
    /// <param name="reference">The same generator through TorchSharp's tensors.</param>
    /// <param name="why">Why the memory path cannot be used here; null when it can.</param>
    /// <returns>The verified access, or null (then <paramref name="why"/> says why, for the environment record).</returns>
    public static CpuGeneratorMemory? TryOpen(IntPtr generatorHandle, ICpuStateReference reference, out string? why)
    {
        if (!TryFindImplementation(generatorHandle, out IntPtr implementation, out why))
            return null;
        byte[] saved = new byte[CpuGeneratorState.Size];
        try
        {
            reference.Read(saved);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            why = $"the CPU generator's state could not be read through TorchSharp ({e.GetType().Name}: {e.Message})";
            return null;
        }
        if (CpuGeneratorState.Validate(saved) is { } invalid)
        {
            why = $"the CPU generator's current state is not one this library can write back ({invalid})";
            return null;
        }
        try
        {
            CpuGeneratorMemory? memory = Discover(implementation, reference, out why);
            if (memory is not null && (why = memory.Disagreement(reference)) is not null)
                memory = null;
            if (memory is not null)
            {
                lock (Gate)
                    s_verifiedEngineOffset = memory.EngineOffset;
            }
            return memory;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            why = $"checking the CPU generator's memory against TorchSharp failed ({e.GetType().Name}: {e.Message})";
            return null;
        }
        finally
        {
            reference.Write(saved);
        }
    }

    /// <summary>
    /// Access to another generator object of the class <see cref="TryOpen"/> verified in this process (a per-thread
    /// <c>torch.Generator</c>), at the verified engine offset, after checking that it is of that class and that a read
    /// and a write agree with its own <c>get_state</c> and <c>set_state</c> (its state is left as it was).
    /// </summary>
    /// <returns>The access, or null when no generator was verified in this process or this one does not agree.</returns>
    public static CpuGeneratorMemory? TryAttach(torch.Generator generator) => TryAttach(generator.Handle, new GeneratorTensors(generator));

    /// <summary><see cref="TryAttach(torch.Generator)"/>, checked against <paramref name="reference"/>.</summary>
    /// <param name="generatorHandle">A TorchSharp <c>Generator.Handle</c>.</param>
    /// <param name="reference">The same generator through TorchSharp's tensors.</param>
    public static CpuGeneratorMemory? TryAttach(IntPtr generatorHandle, ICpuStateReference reference)
    {
        int engineOffset;
        lock (Gate)
            engineOffset = s_verifiedEngineOffset;
        if (engineOffset < 0 || !TryFindImplementation(generatorHandle, out IntPtr implementation, out _))
            return null;
        var memory = new CpuGeneratorMemory(implementation, engineOffset);
        byte[] original = new byte[CpuGeneratorState.Size], seen = new byte[CpuGeneratorState.Size];
        try
        {
            reference.Read(original);
            memory.Read(seen);
            if (FirstDifference(seen, original) is not null)
                return null;
            byte[] probe = ProbeState(cachesValid: true); // as get_state would write it: every field, both caches
            memory.Write(probe);
            try
            {
                reference.Read(seen);
            }
            finally
            {
                reference.Write(original);
            }
            return FirstDifference(seen, probe) is null ? memory : null;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return null;
        }
    }

    /// <summary>
    /// The implementation behind a TorchSharp generator handle, checked to be an <c>at::CPUGeneratorImpl</c> of the
    /// libtorch_cpu loaded in this process: its first word must be that class's vtable pointer.
    /// </summary>
    private static bool TryFindImplementation(IntPtr generatorHandle, out IntPtr implementation, out string? why)
    {
        implementation = IntPtr.Zero;
        if (!OperatingSystem.IsLinux() || IntPtr.Size != 8 || !BitConverter.IsLittleEndian)
        {
            why = $"the generator's memory layout is verified on 64-bit little-endian Linux only (Itanium C++ ABI, libstdc++); this is {RuntimeInformation.OSDescription} "
                + $"{RuntimeInformation.ProcessArchitecture}";
            return false;
        }
        string[] files = LoadedLibraries.FileNames("torch_cpu");
        if (!LoadedLibraries.TryGet(files, out IntPtr library))
        {
            why = $"libtorch_cpu ({string.Join(", ", files)}) is not loaded in this process";
            return false;
        }
        if (!NativeLibrary.TryGetExport(library, VtableExport, out IntPtr vtable))
        {
            why = $"libtorch_cpu does not export {VtableExport} (at::CPUGeneratorImpl's vtable)";
            return false;
        }
        if (generatorHandle == IntPtr.Zero || (implementation = *(IntPtr*)generatorHandle) == IntPtr.Zero)
        {
            why = "the TorchSharp generator has no implementation";
            return false;
        }
        // Itanium ABI: an object's vtable pointer points past the vtable's offset-to-top and typeinfo entries.
        if (*(IntPtr*)implementation != vtable + 2 * IntPtr.Size)
        {
            why = "the TorchSharp generator's implementation is not an at::CPUGeneratorImpl of the loaded libtorch_cpu";
            implementation = IntPtr.Zero;
            return false;
        }
        why = null;
        return true;
    }

    /// <summary>
    /// Writes a state with a seed no other field holds through <paramref name="reference"/> and looks for the engine
    /// holding it: that seed, then <c>left</c>, <c>seeded</c>, <c>next</c> and all 624 words at their places after it,
    /// found once only; then the cached normals after the engine, engaged and not.
    /// </summary>
    private static CpuGeneratorMemory? Discover(IntPtr implementation, ICpuStateReference reference, out string? why)
    {
        byte[] probe = ProbeState(cachesValid: true);
        reference.Write(probe);
        byte* start = (byte*)implementation;
        int found = -1;
        // Reads stay inside the object: it holds the engine and the caches (2,537 bytes) after the base class, so the
        // first EngineSearchLimit + 8 bytes are its own; a candidate's fields are read only while they keep matching.
        for (int offset = 8; offset <= EngineSearchLimit; offset += 8)
        {
            if (ReadAt<ulong>(start, offset) != ProbeSeed)
                continue;
            if (found >= 0)
            {
                why = $"the probe seed appears twice in the CPU generator object (at {found} and {offset})";
                return null;
            }
            found = offset;
        }
        if (found < 0)
        {
            why = $"the engine's seed was not found in the first {EngineSearchLimit} bytes of the CPU generator object";
            return null;
        }
        byte* engine = start + found;
        bool fieldsMatch = ReadAt<int>(engine, LeftField) == ProbeLeft && engine[SeededField] == 1 && ReadAt<uint>(engine, NextField) == ProbeNext;
        for (int i = 0; fieldsMatch && i < CpuGeneratorState.WordCount; i++)
            fieldsMatch = ReadAt<uint>(engine, WordsField + 4 * i) == BinaryPrimitives.ReadUInt64LittleEndian(probe.AsSpan(CpuGeneratorState.WordsOffset + 8 * i));
        if (!fieldsMatch)
        {
            why = $"the fields after the engine's seed (at {found}) are not left, seeded, next and the 624 words of at::mt19937_data_pod";
            return null;
        }
        if (ReadAt<float>(engine, FloatValueField) != ProbeFloat || engine[FloatEngagedField] != 1
            || ReadAt<double>(engine, DoubleValueField) != ProbeDouble || engine[DoubleEngagedField] != 1)
        {
            why = "the cached normal samples are not the two std::optional members right after the engine";
            return null;
        }
        reference.Write(ProbeState(cachesValid: false));
        if (engine[FloatEngagedField] != 0 || engine[DoubleEngagedField] != 0)
        {
            why = "the cached normal samples' engaged flags do not follow set_state";
            return null;
        }
        why = null;
        return new CpuGeneratorMemory(implementation, found);
    }

    /// <summary>
    /// Compares this access with <paramref name="reference"/> on states chosen to exercise every field: just seeded,
    /// just twisted, about to twist, mid-stream, each cache alone, both and neither, and states whose ignored fields
    /// (normal_x, normal_rho, an invalid cache's value) are not zero. For each: written through TorchSharp, this must
    /// read what TorchSharp reads; written through this, TorchSharp must read what it reads after writing it itself.
    /// </summary>
    /// <returns>The first disagreement, or null.</returns>
    private string? Disagreement(ICpuStateReference reference)
    {
        byte[][] states = VerificationStates();
        byte[][] expected = new byte[states.Length][];
        byte[] seen = new byte[CpuGeneratorState.Size];
        for (int i = 0; i < states.Length; i++)
        {
            reference.Write(states[i]);
            reference.Read(expected[i] = new byte[CpuGeneratorState.Size]);
            Read(seen);
            if (FirstDifference(seen, expected[i]) is int at)
                return $"reading state {i} from memory differs from get_state at byte {at}";
        }
        for (int i = 0; i < states.Length; i++)
        {
            reference.Write(states[(i + 1) % states.Length]); // something else first, so that a write that does nothing shows
            Write(states[i]);
            reference.Read(seen);
            if (FirstDifference(seen, expected[i]) is int at)
                return $"get_state after writing state {i} to memory differs from get_state after set_state at byte {at}";
        }
        return null;
    }

    private static int? FirstDifference(ReadOnlySpan<byte> seen, ReadOnlySpan<byte> expected)
    {
        int common = seen.CommonPrefixLength(expected);
        return common == expected.Length && seen.Length == expected.Length ? null : common;
    }

    private static byte[] ProbeState(bool cachesValid)
    {
        byte[] state = new byte[CpuGeneratorState.Size];
        CpuGeneratorState.Derive(ProbeSeed ^ 0x9E3779B97F4A7C15, state);
        BinaryPrimitives.WriteUInt64LittleEndian(state.AsSpan(CpuGeneratorState.InitialSeedOffset), ProbeSeed);
        BinaryPrimitives.WriteInt32LittleEndian(state.AsSpan(CpuGeneratorState.LeftOffset), ProbeLeft);
        BinaryPrimitives.WriteUInt64LittleEndian(state.AsSpan(CpuGeneratorState.NextOffset), ProbeNext);
        SetCaches(state, cachesValid ? ProbeFloat : null, cachesValid ? ProbeDouble : null);
        return state;
    }

    private static void SetCaches(byte[] state, float? single, double? @double)
    {
        BinaryPrimitives.WriteDoubleLittleEndian(state.AsSpan(NormalYOffset), @double ?? 0);
        BinaryPrimitives.WriteInt32LittleEndian(state.AsSpan(CpuGeneratorState.NormalIsValidOffset), @double is null ? 0 : 1);
        BinaryPrimitives.WriteSingleLittleEndian(state.AsSpan(FloatValueOffset), single ?? 0);
        state[CpuGeneratorState.FloatNormalIsValidOffset] = single is null ? (byte)0 : (byte)1;
    }

    /// <summary>The states <see cref="Disagreement"/> checks: valid ones (<see cref="CpuGeneratorState.Validate"/>), whose draws stay inside the 624 words.</summary>
    internal static byte[][] VerificationStates()
    {
        (int Left, int Next, float? Single, double? Double)[] shapes =
        [
            (1, 0, null, null),                                   // just seeded: the next draw twists
            (CpuGeneratorState.WordCount, 1, 0.5f, null),         // just twisted, a float cached
            (2, CpuGeneratorState.WordCount - 1, null, -1.0e-300), // one draw before the twist, a double cached
            (1, CpuGeneratorState.WordCount, float.Epsilon, double.MaxValue),
            (17, CpuGeneratorState.WordCount + 1 - 17, float.NaN, double.NegativeInfinity),
            (400, CpuGeneratorState.WordCount + 1 - 400, -0.0f, 3.5),
        ];
        var states = new byte[shapes.Length + 1][];
        for (int i = 0; i < shapes.Length; i++)
        {
            byte[] state = states[i] = new byte[CpuGeneratorState.Size];
            CpuGeneratorState.Derive(0xC0FFEE00UL + (ulong)i, state);
            BinaryPrimitives.WriteUInt64LittleEndian(state.AsSpan(CpuGeneratorState.InitialSeedOffset), ulong.MaxValue - (ulong)i);
            BinaryPrimitives.WriteInt32LittleEndian(state.AsSpan(CpuGeneratorState.LeftOffset), shapes[i].Left);
            BinaryPrimitives.WriteUInt64LittleEndian(state.AsSpan(CpuGeneratorState.NextOffset), (ulong)shapes[i].Next);
            SetCaches(state, shapes[i].Single, shapes[i].Double);
        }
        // What set_state ignores: normal_x, normal_rho, the values of caches not marked valid, the padding.
        byte[] ignored = states[^1] = (byte[])states[^2].Clone();
        SetCaches(ignored, null, null);
        BinaryPrimitives.WriteDoubleLittleEndian(ignored.AsSpan(NormalXOffset), 1.5);
        BinaryPrimitives.WriteDoubleLittleEndian(ignored.AsSpan(NormalYOffset), 2.5);
        BinaryPrimitives.WriteDoubleLittleEndian(ignored.AsSpan(NormalXOffset + 16), 3.5); // normal_rho
        BinaryPrimitives.WriteSingleLittleEndian(ignored.AsSpan(FloatValueOffset), 4.5f);
        ignored[CpuGeneratorState.NormalIsValidOffset + 4] = 0xAA; // padding after normal_is_valid
        ignored[CpuGeneratorState.Size - 1] = 0xBB;               // padding at the end
        return states;
    }
}
