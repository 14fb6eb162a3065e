using System;
using System.Buffers.Binary;

namespace ReproducibleBlock.State;

/// <summary>
/// The managed generator behind <see cref="Reproducible.Random"/>: a <see cref="System.Random"/> whose whole
/// state is one 64-bit SplitMix64 counter, so blocks can set, save and restore it exactly.
/// </summary>
/// <remarks>
/// Every virtual member of <see cref="System.Random"/> is overridden, so the base class's own generator is
/// never used. Like <see cref="System.Random"/>, an instance is not thread-safe.
/// </remarks>
internal sealed class BlockRandom : System.Random
{
    public BlockRandom(ulong state) : base(0) => State = state;

    /// <summary>The SplitMix64 counter.</summary>
    public ulong State { get; set; }

    private ulong NextUInt64()
    {
        ulong state = State;
        ulong output = SplitMix64.Next(ref state);
        State = state;
        return output;
    }

    /// <summary>Uniform in [0, bound) without bias (Lemire's multiply-and-reject); bound ≥ 1.</summary>
    private ulong NextBelow(ulong bound)
    {
        ulong high = Math.BigMul(NextUInt64(), bound, out ulong low);
        if (low < bound)
        {
            // Redraw only in the small biased zone; the remainder is computed only when it might be needed.
            ulong threshold = unchecked(0 - bound) % bound;
            while (low < threshold)
                high = Math.BigMul(NextUInt64(), bound, out low);
        }
        return high;
    }

    public override int Next() => (int)NextBelow(int.MaxValue);

    // The int overloads have the same contract as the long ones, over a range that always fits.
    public override int Next(int maxValue) => (int)NextInt64(maxValue);

    public override int Next(int minValue, int maxValue) => (int)NextInt64(minValue, maxValue);

    public override long NextInt64() => (long)NextBelow(long.MaxValue);

    public override long NextInt64(long maxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxValue);
        return maxValue <= 1 ? 0 : (long)NextBelow((ulong)maxValue);
    }

    public override long NextInt64(long minValue, long maxValue)
    {
        if (minValue > maxValue)
            throw new ArgumentOutOfRangeException(nameof(minValue), $"minValue ({minValue}) must not exceed maxValue ({maxValue}).");
        ulong range = unchecked((ulong)maxValue - (ulong)minValue);
        return range <= 1 ? minValue : unchecked(minValue + (long)NextBelow(range));
    }

    /// <summary>53 random bits scaled into [0, 1).</summary>
    public override double NextDouble() => Top53Bits(NextUInt64()) * (1.0 / (1UL << 53));

    // Stryker disable once Bitwise : on ulong, >> and >>> are the same shift
    private static ulong Top53Bits(ulong value) => value >> 11;

    /// <summary>24 random bits scaled into [0, 1).</summary>
    public override float NextSingle() => Top24Bits(NextUInt64()) * (1.0f / (1U << 24));

    // Stryker disable once Bitwise : on ulong, >> and >>> are the same shift
    private static ulong Top24Bits(ulong value) => value >> 40;

    protected override double Sample() => NextDouble();

    public override void NextBytes(byte[] buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        NextBytes(buffer.AsSpan());
    }

    public override void NextBytes(Span<byte> buffer)
    {
        // Stryker disable once Equality : with exactly 8 bytes left, the tail path below writes the same 8 bytes
        while (buffer.Length >= 8)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(buffer, NextUInt64());
            buffer = buffer[8..];
        }
        if (!buffer.IsEmpty)
        {
            Span<byte> last = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(last, NextUInt64());
            last[..buffer.Length].CopyTo(buffer);
        }
    }
}
