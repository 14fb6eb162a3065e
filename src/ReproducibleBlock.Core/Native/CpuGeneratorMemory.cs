using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using ReproducibleBlock.State;

namespace ReproducibleBlock.Native;

/// <summary>
/// The ground truth a <see cref="CpuGeneratorMemory"/> is checked against: the same generator's state through
/// TorchSharp's tensors (<c>get_state</c> and <c>set_state</c>), 5,056 bytes in PyTorch's <c>CPUGeneratorImplState</c>
/// format (<see cref="CpuGeneratorState"/>).
/// </summary>
internal interface ICpuStateReference
{
    void Read(Span<byte> destination);

    /// <summary>Sets a state that <see cref="CpuGeneratorState.Validate"/> accepts.</summary>
    void Write(ReadOnlySpan<byte> state);
}

/// <summary>
/// Reads and writes a libtorch CPU generator's state in the generator object itself, in the byte format of
/// <c>get_state</c> and <c>set_state</c>, without the tensor each of those allocates or fills: a state read or write is
/// one pass over its 5 KB instead of a native call, a tensor and a copy.
/// </summary>
/// <remarks>
/// <para>
/// <c>at::CPUGeneratorImpl</c> holds an <c>at::mt19937</c> engine (<c>mt19937_data_pod</c>: <c>uint64 seed_</c>,
/// <c>int left_</c>, <c>bool seeded_</c>, <c>uint32 next_</c>, <c>uint32 state_[624]</c>, 2,520 bytes with padding)
/// followed by <c>std::optional&lt;float&gt;</c> and <c>std::optional&lt;double&gt;</c>, the cached second normal
/// samples (each a value, then a one-byte engaged flag). <c>get_state</c> writes them as the legacy format's
/// <c>the_initial_seed</c>, <c>left</c>, <c>seeded</c>, <c>next</c> and 624 words in 64-bit slots, zeroes
/// <c>normal_x</c> and <c>normal_rho</c>, puts the cached double in <c>normal_y</c> with <c>normal_is_valid</c>, and the
/// cached float with its flag at the end; padding is zero. <c>set_state</c> does the reverse, truncating the 64-bit
/// slots to 32 bits and ignoring <c>normal_x</c>, <c>normal_rho</c> and a <c>normal_y</c> not marked valid.
/// <see cref="Read"/> and <see cref="Write(ReadOnlySpan{byte})"/> do exactly that, field by field.
/// </para>
/// <para>
/// Nothing here is taken on trust: the engine's place in the object is found at start-up, the members after it are
/// checked to be where the C++ layout rules put them, and the whole mapping is then checked in both directions against TorchSharp's own <c>get_state</c> and <c>set_state</c> on several states
/// (<see cref="TryOpen"/>). Any difference, a platform other than 64-bit little-endian Linux (Windows' MSVC layout and
/// macOS are not verified), or a libtorch that does not export the class's vtable, and the caller keeps TorchSharp's
/// tensor path.
/// </para>
/// <para>
/// No function is called through these pointers, and they stay valid for the life of the process: the generator object
/// is kept alive by the TorchSharp <c>Generator</c> whose handle it came from (an <c>at::Generator</c> holds a strong
/// reference to its implementation; the default one is also a static inside libtorch), and libtorch_cpu stays mapped
/// because <see cref="LoadedLibraries.TryGet"/> took a reference to it that is never released. Like TorchSharp's own
/// <c>get_state</c> and <c>set_state</c>, these take no lock: draws on other threads race with them.
/// </para>
/// </remarks>
internal sealed unsafe partial class CpuGeneratorMemory
{
    /// <summary>The vtable of <c>at::CPUGeneratorImpl</c> (Itanium C++ ABI), to check that a handle leads to one.</summary>
    internal const string VtableExport = "_ZTVN2at16CPUGeneratorImplE";

    // The engine's fields, from its start (at::mt19937_data_pod, Itanium/System V layout).
    private const int SeedField = 0;       // uint64_t seed_
    private const int LeftField = 8;       // int left_
    private const int SeededField = 12;    // bool seeded_
    private const int NextField = 16;      // uint32_t next_
    private const int WordsField = 20;     // std::array<uint32_t, 624> state_
    /// <summary>sizeof(at::mt19937): 20 + 4 × 624 = 2,516 bytes, padded to the 8 of its uint64_t.</summary>
    internal const int EngineSize = 2520;
    // The members after the engine: std::optional<float> (4-byte aligned), then std::optional<double> (8-byte aligned).
    private const int FloatValueField = EngineSize;
    private const int FloatEngagedField = EngineSize + 4;
    private const int DoubleValueField = EngineSize + 8;
    private const int DoubleEngagedField = EngineSize + 16;

    // The state format (CPUGeneratorImplState) fields this class maps that CpuGeneratorState does not name.
    private const int NormalXOffset = 5016;      // double normal_x, always 0 in get_state
    private const int NormalYOffset = 5024;      // double normal_y, the cached double
    private const int FloatValueOffset = 5048;   // float next_float_normal_sample

    private readonly byte* _engine;

    private CpuGeneratorMemory(IntPtr implementation, int engineOffset)
    {
        Implementation = implementation;
        EngineOffset = engineOffset;
        _engine = (byte*)implementation + engineOffset;
    }

    /// <summary>The <c>at::CPUGeneratorImpl</c> this reads and writes.</summary>
    public IntPtr Implementation { get; }

    /// <summary>Where the engine starts in the object, found at start-up (80 bytes in libtorch 2.10 on Linux x64).</summary>
    public int EngineOffset { get; }

    /// <summary>Writes the generator's state into <paramref name="destination"/> exactly as <c>get_state</c> would.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is not <see cref="CpuGeneratorState.Size"/> bytes.</exception>
    public void Read(Span<byte> destination)
    {
        if (destination.Length != CpuGeneratorState.Size)
            throw new ArgumentException($"A CPU generator state is {CpuGeneratorState.Size} bytes.", nameof(destination));
        byte* engine = _engine;
        fixed (byte* state = destination)
        {
            WriteAt(state, CpuGeneratorState.InitialSeedOffset, ReadAt<ulong>(engine, SeedField));
            WriteAt(state, CpuGeneratorState.LeftOffset, ReadAt<int>(engine, LeftField));
            WriteAt(state, CpuGeneratorState.SeededOffset, (int)engine[SeededField]);
            WriteAt(state, CpuGeneratorState.NextOffset, (ulong)ReadAt<uint>(engine, NextField));
            Widen((uint*)(engine + WordsField), (ulong*)(state + CpuGeneratorState.WordsOffset), WideVectors);

            // normal_x, normal_y, normal_rho, normal_is_valid and its padding; then the float, its flag and padding.
            new Span<byte>(state + NormalXOffset, CpuGeneratorState.Size - NormalXOffset).Clear();
            if (engine[DoubleEngagedField] != 0)
            {
                WriteAt(state, NormalYOffset, ReadAt<double>(engine, DoubleValueField));
                WriteAt(state, CpuGeneratorState.NormalIsValidOffset, 1);
            }
            if (engine[FloatEngagedField] != 0)
            {
                WriteAt(state, FloatValueOffset, ReadAt<float>(engine, FloatValueField));
                state[CpuGeneratorState.FloatNormalIsValidOffset] = 1;
            }
        }
    }

    /// <summary>
    /// Sets the generator's state exactly as <c>set_state</c> would, for a state <see cref="CpuGeneratorState.Validate"/>
    /// accepts (this checks only the size: libtorch's check is the caller's, as it is before <c>set_state</c>).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="state"/> is not <see cref="CpuGeneratorState.Size"/> bytes.</exception>
    public void Write(ReadOnlySpan<byte> state) => Write(state, default);

    /// <summary>
    /// <see cref="Write(ReadOnlySpan{byte})"/>, also copying <paramref name="state"/> into <paramref name="copy"/> from
    /// the same loads (what a caller that keeps the last state written would otherwise copy in a second pass).
    /// </summary>
    /// <exception cref="ArgumentException">
    /// <paramref name="state"/> is not <see cref="CpuGeneratorState.Size"/> bytes, or <paramref name="copy"/> is neither
    /// that size nor empty.
    /// </exception>
    public void Write(ReadOnlySpan<byte> state, Span<byte> copy)
    {
        if (state.Length != CpuGeneratorState.Size)
            throw new ArgumentException($"A CPU generator state is {CpuGeneratorState.Size} bytes.", nameof(state));
        if (copy.Length is not (0 or CpuGeneratorState.Size))
            throw new ArgumentException($"A copy of a CPU generator state is {CpuGeneratorState.Size} bytes.", nameof(copy));
        if (!copy.IsEmpty)
        {
            state[..CpuGeneratorState.WordsOffset].CopyTo(copy);
            state[NormalXOffset..].CopyTo(copy[NormalXOffset..]);
        }
        byte* engine = _engine;
        fixed (byte* source = state)
        fixed (byte* kept = copy)
        {
            Narrow((ulong*)(source + CpuGeneratorState.WordsOffset), (uint*)(engine + WordsField), copy.IsEmpty ? null : (ulong*)(kept + CpuGeneratorState.WordsOffset), WideVectors);
            WriteAt(engine, SeedField, ReadAt<ulong>(source, CpuGeneratorState.InitialSeedOffset));
            WriteAt(engine, LeftField, ReadAt<int>(source, CpuGeneratorState.LeftOffset));
            engine[SeededField] = ReadAt<int>(source, CpuGeneratorState.SeededOffset) != 0 ? (byte)1 : (byte)0;
            WriteAt(engine, NextField, (uint)ReadAt<ulong>(source, CpuGeneratorState.NextOffset));

            // A cache not marked valid is reset; set_state leaves a reset optional's value bytes as they were, and so does this.
            if (source[CpuGeneratorState.FloatNormalIsValidOffset] != 0)
            {
                WriteAt(engine, FloatValueField, ReadAt<float>(source, FloatValueOffset));
                engine[FloatEngagedField] = 1;
            }
            else
            {
                engine[FloatEngagedField] = 0;
            }
            if (ReadAt<int>(source, CpuGeneratorState.NormalIsValidOffset) != 0)
            {
                WriteAt(engine, DoubleValueField, ReadAt<double>(source, NormalYOffset));
                engine[DoubleEngagedField] = 1;
            }
            else
            {
                engine[DoubleEngagedField] = 0;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T ReadAt<T>(byte* at, int offset) where T : unmanaged => Unsafe.ReadUnaligned<T>(at + offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteAt<T>(byte* at, int offset, T value) where T : unmanaged => Unsafe.WriteUnaligned(at + offset, value);

    /// <summary>Whether the word loops use 256-bit vectors: where they are accelerated (AVX2), they took the loops from about 400 to 150 ns here.</summary>
    internal static bool WideVectors => Vector256.IsHardwareAccelerated;

    /// <summary>The engine's 624 32-bit words into the format's 64-bit slots (get_state's std::copy).</summary>
    /// <param name="words">The engine's words.</param>
    /// <param name="slots">The format's slots.</param>
    /// <param name="wide">256-bit vectors, else 128-bit (accelerated on every 64-bit CPU .NET runs on; both are correct anywhere, only slower where not accelerated).</param>
    /// <remarks>624 is a multiple of both vectors' word counts (8 and 4), so there is no scalar tail.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Widen(uint* words, ulong* slots, bool wide)
    {
        if (wide)
        {
            for (int i = 0; i < CpuGeneratorState.WordCount; i += Vector256<uint>.Count)
            {
                (Vector256<ulong> lower, Vector256<ulong> upper) = Vector256.Widen(Vector256.Load(words + i));
                lower.Store(slots + i);
                upper.Store(slots + i + Vector256<ulong>.Count);
            }
        }
        else
        {
            for (int i = 0; i < CpuGeneratorState.WordCount; i += Vector128<uint>.Count)
            {
                (Vector128<ulong> lower, Vector128<ulong> upper) = Vector128.Widen(Vector128.Load(words + i));
                lower.Store(slots + i);
                upper.Store(slots + i + Vector128<ulong>.Count);
            }
        }
    }

    /// <summary>
    /// The format's 64-bit slots into the engine's 32-bit words, keeping the low halves (set_state's std::copy), and into
    /// <paramref name="copy"/> unchanged when it is not null.
    /// </summary>
    /// <param name="slots">The format's slots.</param>
    /// <param name="words">The engine's words.</param>
    /// <param name="copy">Where the slots are copied too, or null.</param>
    /// <param name="wide">As for <see cref="Widen"/>.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Narrow(ulong* slots, uint* words, ulong* copy, bool wide)
    {
        if (wide)
        {
            for (int i = 0; i < CpuGeneratorState.WordCount; i += Vector256<uint>.Count)
            {
                Vector256<ulong> lower = Vector256.Load(slots + i), upper = Vector256.Load(slots + i + Vector256<ulong>.Count);
                Vector256.Narrow(lower, upper).Store(words + i);
                if (copy != null)
                {
                    lower.Store(copy + i);
                    upper.Store(copy + i + Vector256<ulong>.Count);
                }
            }
        }
        else
        {
            for (int i = 0; i < CpuGeneratorState.WordCount; i += Vector128<uint>.Count)
            {
                Vector128<ulong> lower = Vector128.Load(slots + i), upper = Vector128.Load(slots + i + Vector128<ulong>.Count);
                Vector128.Narrow(lower, upper).Store(words + i);
                if (copy != null)
                {
                    lower.Store(copy + i);
                    upper.Store(copy + i + Vector128<ulong>.Count);
                }
            }
        }
    }
}
