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
        // Stryker disable Bitwise : on ulong, >> and >>> are the same shift
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
        // Stryker restore Bitwise
    }

    /// <summary>The state after <paramref name="steps"/> calls of <see cref="Next"/> (wrapping, any count).</summary>
    public static ulong Advance(ulong state, ulong steps) => unchecked(state + steps * Gamma);
}
