using System;
using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace ReproducibleBlock.State;

/// <summary>
/// The byte layout of libtorch's CPU generator state (PyTorch's <c>CPUGeneratorImplState</c>, 5056 bytes,
/// little-endian), its validity rules, and the derivation of a whole state from a 64-bit block key.
/// </summary>
/// <remarks>
/// libtorch aborts the process on a state tensor it cannot read, so every state this library hands to
/// <c>set_state</c> passes <see cref="Validate"/> first. libtorch's own check (<c>mt19937::is_valid</c>: seeded,
/// 0 &lt; left ≤ 624, next ≤ 624) is not enough: it accepts states whose next draws read past the last word. These rules
/// are what the engine itself maintains (left = 1, or left + next = 625), what the layout implies (Mersenne Twister words
/// are 32-bit, flags are 0 or 1), and a state that is not degenerate (all words zero). Every state libtorch produces
/// passes them, a fresh seed and every derived block state included.
/// </remarks>
internal static class CpuGeneratorState
{
    /// <summary>sizeof(CPUGeneratorImplState) in libtorch 1.x and 2.x.</summary>
    public const int Size = 5056;
    /// <summary>The Mersenne Twister's state length, in 32-bit words.</summary>
    public const int WordCount = 624;

    internal const int InitialSeedOffset = 0;     // uint64 the_initial_seed
    internal const int LeftOffset = 8;            // int32  left
    internal const int SeededOffset = 12;         // int32  seeded
    internal const int NextOffset = 16;           // uint64 next
    internal const int WordsOffset = 24;          // uint64 state[624], each holding a 32-bit word
    internal const int NormalIsValidOffset = 5040; // int32 normal_is_valid (after normal_x, normal_y, normal_rho)
    internal const int FloatNormalIsValidOffset = 5052; // bool is_next_float_normal_sample_valid

    /// <summary>Why <paramref name="state"/> would be rejected by libtorch, or null when it is valid.</summary>
    public static string? Validate(ReadOnlySpan<byte> state)
    {
        if (state.Length != Size)
            return $"a CPU generator state is {Size} bytes, not {state.Length}";
        if (BinaryPrimitives.ReadInt32LittleEndian(state[SeededOffset..]) != 1)
            return "the CPU generator state is not marked as seeded";
        int left = BinaryPrimitives.ReadInt32LittleEndian(state[LeftOffset..]);
        if (left <= 0 || left > WordCount)
            return $"the CPU generator state's 'left' count is {left}, outside 1..{WordCount}";
        ulong next = BinaryPrimitives.ReadUInt64LittleEndian(state[NextOffset..]);
        // The engine reads word `next` after counting `left` down, and twists (resetting next to 0) when left reaches 0:
        // so left + next is 625 between twists, and with left = 1 the next draw twists before it reads anything.
        // libtorch's own check (next <= 624) lets left = 624, next = 624 read past the last word.
        if (left != 1 && (ulong)left + next != WordCount + 1)
            return $"the CPU generator state's 'left' count ({left}) and 'next' index ({next}) do not add up to {WordCount + 1}, as they do between two twists";
        if (next > WordCount)
            return $"the CPU generator state's 'next' index is {next}, above {WordCount}";
        bool restZero = true;
        for (int i = 0; i < WordCount; i++)
        {
            ulong word = BinaryPrimitives.ReadUInt64LittleEndian(state[(WordsOffset + 8 * i)..]);
            if (word > uint.MaxValue)
                return $"Mersenne Twister word {i} of the CPU generator state is wider than 32 bits";
            if (i > 0 && word != 0)
                restZero = false;
        }
        // MT19937 uses only the top bit of word 0: with it clear and every other word zero, it draws zeros forever.
        if (restZero && (BinaryPrimitives.ReadUInt64LittleEndian(state[WordsOffset..]) & 0x80000000) == 0)
            return "the CPU generator state's Mersenne Twister words are all zero (but for the bits of word 0 it never uses), so it would draw zeros forever";
        int normalIsValid = BinaryPrimitives.ReadInt32LittleEndian(state[NormalIsValidOffset..]);
        if (normalIsValid is not (0 or 1))
            return "the CPU generator state's cached-normal flag is neither 0 nor 1";
        if (state[FloatNormalIsValidOffset] > 1)
            return "the CPU generator state's cached-float-normal flag is neither 0 nor 1";
        return null;
    }

    /// <summary>
    /// Writes the state of a freshly seeded generator whose 19,937-bit Mersenne Twister state comes from
    /// <paramref name="key"/>, not from a 32-bit seed.
    /// </summary>
    /// <remarks>
    /// <c>manual_seed</c> keeps only the low 32 bits of its seed for this generator, which would make
    /// keys that agree in those bits collide. Instead the 624 words are the outputs of SplitMix64 seeded
    /// with the key (two 32-bit words per output, low half first); word 0 is then set to 0x80000000, as
    /// MT19937's init_by_array does, so the state can never be all zeros. <c>left = 1, next = 0</c> is
    /// what <c>manual_seed</c> leaves: the first draw twists the whole state. The initial-seed field holds
    /// the key, so <c>torch.initial_seed()</c> inside a block names the block's key.
    /// </remarks>
    public static void Derive(ulong key, Span<byte> destination)
    {
        if (destination.Length != Size)
            throw new ArgumentException($"A CPU generator state is {Size} bytes.", nameof(destination));
        // The hot path of every Keyed block entry: the 624 words are written as 64-bit integers in place, and only
        // the bytes outside them are cleared.
        destination[..WordsOffset].Clear();
        destination[(WordsOffset + 8 * WordCount)..].Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(destination[InitialSeedOffset..], key);
        BinaryPrimitives.WriteInt32LittleEndian(destination[LeftOffset..], 1);
        BinaryPrimitives.WriteInt32LittleEndian(destination[SeededOffset..], 1);
        Span<ulong> words = MemoryMarshal.Cast<byte, ulong>(destination.Slice(WordsOffset, 8 * WordCount));
        ulong stream = key;
        for (int i = 0; i < words.Length; i += 2)
        {
            ulong output = SplitMix64.Next(ref stream);
            words[i] = (uint)output;
            // Stryker disable once Bitwise : on ulong, >> and >>> are the same shift
            words[i + 1] = output >> 32;
        }
        words[0] = 0x80000000;
        if (!BitConverter.IsLittleEndian)
        {
            for (int i = 0; i < words.Length; i++)
                words[i] = BinaryPrimitives.ReverseEndianness(words[i]);
        }
    }
}
