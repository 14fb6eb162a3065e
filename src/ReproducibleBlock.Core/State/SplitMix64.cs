namespace ReproducibleBlock.State;

/// <summary>
/// SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014;
/// the generator behind java.util.SplittableRandom and the recommended seeder of the xoshiro family).
/// </summary>
/// <remarks>
/// Its state is one counter advanced by a fixed odd constant, so jumping ahead by n outputs is one
/// multiplication: that is what makes <see cref="BlockDerivation.ResetAndAdvance"/> O(1) for the managed generator.
/// </remarks>
internal static class SplitMix64
{
    /// <summary>The golden-ratio increment.</summary>
    public const ulong Gamma = 0x9E3779B97F4A7C15;

    /// <summary>Advances <paramref name="state"/> by one step and returns the output.</summary>
    public static ulong Next(ref ulong state)
    {
        state += Gamma;
        return Mix(state);
    }

    /// <summary>The output function (a bijective 64-bit finalizer, variant 13 of Stafford's mixers).</summary>
    public static ulong Mix(ulong z)
    {
        // Each shift on a line of its own, so that the equivalent >> to >>> mutant is the only one set aside.
        // Stryker disable once Bitwise : on ulong, >> and >>> are the same shift
        ulong shifted = z >> 30;
        z = (z ^ shifted) * 0xBF58476D1CE4E5B9;
        // Stryker disable once Bitwise : on ulong, >> and >>> are the same shift
        shifted = z >> 27;
        z = (z ^ shifted) * 0x94D049BB133111EB;
        // Stryker disable once Bitwise : on ulong, >> and >>> are the same shift
        shifted = z >> 31;
        return z ^ shifted;
    }

    /// <summary>The state after <paramref name="steps"/> calls of <see cref="Next"/> (wrapping, any count).</summary>
    public static ulong Advance(ulong state, ulong steps) => unchecked(state + steps * Gamma);
}
