using System;

namespace ReproducibleBlock.State;

/// <summary>How a block's state is derived (one implementation per <see cref="BlockDerivation"/>).</summary>
internal interface IBlockDerivation
{
    BlockDerivation Kind { get; }

    /// <summary>Throws when <paramref name="blockSeed"/> is not a block seed under this derivation; runs before anything changes.</summary>
    void CheckBlockSeed(long blockSeed);

    /// <summary>
    /// Sets every source to the state of the block with this key and seed. CUDA is set first: it is the step that
    /// can fail, and then nothing else has moved.
    /// </summary>
    void Enter(Sources sources, ulong key, long blockSeed);
}

/// <summary>The derivations and the one place that maps <see cref="BlockDerivation"/> to them.</summary>
internal static class Derivations
{
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="kind"/> is not a defined value.</exception>
    public static void CheckDefined(BlockDerivation kind)
    {
        if (kind is not (BlockDerivation.Keyed or BlockDerivation.ResetAndAdvance))
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "Use BlockDerivation.Keyed or BlockDerivation.ResetAndAdvance.");
    }

    /// <summary>The derivation of <paramref name="kind"/>, a defined value (<see cref="CheckDefined"/>).</summary>
    public static IBlockDerivation Create(BlockDerivation kind, long rootSeed, RngState reference) =>
        kind == BlockDerivation.ResetAndAdvance ? new ResetAndAdvanceDerivation(rootSeed, reference) : KeyedDerivation.Instance;
}

/// <summary>Every source derived from the block's key (see <see cref="KeyDerivation"/>): the same cost for every seed.</summary>
internal sealed class KeyedDerivation : IBlockDerivation
{
    public static readonly KeyedDerivation Instance = new();

    private KeyedDerivation()
    {
    }

    public BlockDerivation Kind => BlockDerivation.Keyed;

    public void CheckBlockSeed(long blockSeed) { } // any long

    public void Enter(Sources sources, ulong key, long blockSeed)
    {
        sources.Cuda.Seed(KeyDerivation.CudaSeed(key)); // offset 0 on every device
        sources.Cpu.WriteDerived(key);
        sources.Managed.State = KeyDerivation.ManagedState(key);
    }
}

/// <summary>
/// The seed package's algorithm: back to the state SetSeed recorded, then skip <c>blockSeed</c> draws. CUDA is reset
/// to the root seed but never advanced, so every block sees the same CUDA stream, exactly as there.
/// </summary>
internal sealed class ResetAndAdvanceDerivation(long rootSeed, RngState reference) : IBlockDerivation
{
    /// <summary>The largest block seed accepted: 2^32 - 1 draws, about 20 seconds of skipping.</summary>
    internal const long MaxBlockSeed = uint.MaxValue;

    public BlockDerivation Kind => BlockDerivation.ResetAndAdvance;

    public void CheckBlockSeed(long blockSeed)
    {
        if (blockSeed < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(blockSeed), blockSeed,
                "Under BlockDerivation.ResetAndAdvance a block seed is a number of draws to skip, so it cannot be negative. Use a seed of 0 or more, or the Keyed derivation, where any value is valid.");
        }
        if (blockSeed > MaxBlockSeed)
        {
            // Skipping is linear in the seed (as in the seed package): beyond this it would run for minutes to
            // hours, which is never what was meant. The usual cause is a woven block's 63-bit name-derived seed.
            throw new ArgumentOutOfRangeException(nameof(blockSeed), blockSeed,
                $"Under BlockDerivation.ResetAndAdvance a block seed is a number of draws to skip, and skipping {blockSeed:N0} draws would take hours. "
                + $"Use seeds up to {MaxBlockSeed:N0} (give woven blocks explicit seeds: [ReproducibleBlock(seed)]), or the Keyed derivation, where any value costs the same.");
        }
    }

    public void Enter(Sources sources, ulong key, long blockSeed)
    {
        sources.Cuda.Seed(unchecked((ulong)rootSeed)); // the reference CUDA state: (root seed, offset 0) on every device
        sources.Cpu.Write(reference.Cpu);
        sources.Cpu.Advance(blockSeed);
        sources.Managed.State = SplitMix64.Advance(reference.Managed, (ulong)blockSeed);
    }
}
