using System;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;

namespace ReproducibleBlock;

/// <summary>
/// Which of several processes (ranks) training one model this process is: rank <see cref="Rank"/> of
/// <see cref="WorldSize"/>. A <see cref="ReproducibleSampler"/> made with it gives this rank its share of every global
/// batch, with the streams the samples have on one rank.
/// </summary>
/// <remarks>
/// <para>
/// What does not depend on the world size: the epochs' orders (one global permutation, the same on every rank),
/// which samples make up each global batch, and every sample's stream (its augmentation). Blocks, woven constructors
/// and module streams are keyed as on one process, so the model's initial weights, and the streams of its modules,
/// are the same on every rank (as data-parallel training needs, since every rank holds a copy of one model); a
/// module's dropout masks depend on the shape of the batch it sees, its rank's share. For randomness that must differ
/// between ranks, enter a block whose seed is <see cref="BlockSeed"/>.
/// </para>
/// <para>
/// The library does no communication: averaging the gradients (and the order in which that sums them) is the
/// training code's.
/// </para>
/// </remarks>
public sealed class DataParallel
{
    /// <summary>Domain separation of rank block seeds: "RB.rank\0" as a little-endian integer.</summary>
    private const long RankDomain = 0x006B6E61722E4252;

    /// <param name="rank">This process's rank, from 0 to <paramref name="worldSize"/> - 1.</param>
    /// <param name="worldSize">How many processes train the model.</param>
    /// <param name="localRank">This process's rank on its machine (which GPU it uses); null when not known.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="worldSize"/> is below 1, or <paramref name="rank"/> or <paramref name="localRank"/> is not below it.</exception>
    public DataParallel(int rank, int worldSize, int? localRank = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(worldSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(rank, worldSize);
        if (localRank is { } local)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(local, nameof(localRank));
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(local, worldSize, nameof(localRank));
        }
        Rank = rank;
        WorldSize = worldSize;
        LocalRank = localRank;
    }

    /// <summary>This process's rank.</summary>
    public int Rank { get; }

    /// <summary>How many processes train the model.</summary>
    public int WorldSize { get; }

    /// <summary>This process's rank on its machine; null when not known.</summary>
    public int? LocalRank { get; }

    /// <summary>
    /// This process's rank as the last <see cref="TrainingRun"/> or <see cref="ReproducibleSampler.ForRank"/> was told it
    /// (else as the launcher's environment variables say, when they parse), for the environment record.
    /// </summary>
    internal static DataParallel? Current
    {
        get
        {
            if (s_current is { } current)
                return current;
            try
            {
                return FromEnvironment() is { WorldSize: > 1 } launched ? launched : null;
            }
            catch (FormatException)
            {
                return null;
            }
        }
        set => s_current = value is { WorldSize: > 1 } ? value : null;
    }

    private static DataParallel? s_current;

    /// <summary>One process: rank 0 of 1.</summary>
    public static DataParallel Single { get; } = new(0, 1);

    /// <summary>
    /// The rank and world size a launcher (torchrun's conventions, which MPI and cluster launchers follow) put in the
    /// environment variables <c>RANK</c>, <c>WORLD_SIZE</c> and <c>LOCAL_RANK</c>; <see cref="Single"/> when neither
    /// <c>RANK</c> nor <c>WORLD_SIZE</c> is set.
    /// </summary>
    /// <exception cref="FormatException">
    /// One of <c>RANK</c> and <c>WORLD_SIZE</c> is set without the other, or a variable is not a whole number in range.
    /// </exception>
    public static DataParallel FromEnvironment() =>
        FromVariables(Environment.GetEnvironmentVariable("RANK"), Environment.GetEnvironmentVariable("WORLD_SIZE"), Environment.GetEnvironmentVariable("LOCAL_RANK"));

    internal static DataParallel FromVariables(string? rank, string? worldSize, string? localRank)
    {
        if (string.IsNullOrEmpty(rank) && string.IsNullOrEmpty(worldSize))
            return Single;
        if (string.IsNullOrEmpty(rank) || string.IsNullOrEmpty(worldSize))
            throw new FormatException($"RANK is '{rank}' and WORLD_SIZE is '{worldSize}': a launcher sets both. Set both, or neither for one process.");
        int r = Parse("RANK", rank), w = Parse("WORLD_SIZE", worldSize);
        int? local = string.IsNullOrEmpty(localRank) ? null : Parse("LOCAL_RANK", localRank);
        if (w < 1 || r >= w || local >= w)
            throw new FormatException($"RANK {r}, LOCAL_RANK {local?.ToString(CultureInfo.InvariantCulture) ?? "unset"} and WORLD_SIZE {w} do not fit together: ranks go from 0 to WORLD_SIZE - 1.");
        return new DataParallel(r, w, local);

        static int Parse(string name, string text) =>
            int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value)
                ? value
                : throw new FormatException($"The environment variable {name} is '{text}', not a whole number of 0 or more.");
    }

    /// <summary>
    /// The seed of this rank's own block for <paramref name="blockSeed"/>: <c>Reproducible.Block(ranks.BlockSeed(7))</c>
    /// draws differently on every rank (noise that must differ between ranks), the same on every run with the same rank.
    /// </summary>
    /// <param name="blockSeed">The block's seed, as on one process.</param>
    /// <returns>XXH64 (seed "RB.rank\0") of the little-endian block seed and rank, as a <see cref="long"/>: unrelated to the seeds of other ranks and blocks.</returns>
    /// <remarks>For the <see cref="BlockDerivation.Keyed"/> derivation (the default): <see cref="BlockDerivation.ResetAndAdvance"/> takes seeds as numbers of draws to skip, and refuses these.</remarks>
    public long BlockSeed(long blockSeed)
    {
        Span<byte> input = stackalloc byte[16];
        BinaryPrimitives.WriteInt64LittleEndian(input, blockSeed);
        BinaryPrimitives.WriteInt64LittleEndian(input[8..], Rank);
        return unchecked((long)XxHash64.HashToUInt64(input, RankDomain));
    }

    /// <summary>"rank 1 of 4".</summary>
    public override string ToString() => $"rank {Rank} of {WorldSize}";
}
