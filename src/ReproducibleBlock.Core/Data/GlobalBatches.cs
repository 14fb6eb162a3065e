using System;

namespace ReproducibleBlock;

/// <summary>
/// How a sharded <see cref="ReproducibleSampler"/> splits an epoch: its order into global batches of
/// <see cref="Size"/> positions (the last one partial, or dropped with <see cref="DropLast"/>), and each global batch
/// into one contiguous shard per rank, as even as possible (the first <c>size % W</c> ranks get one more). A rank's
/// shard of a whole global batch is <c>Size / W</c> positions, so its <c>DataLoader</c>, taking that many at a time,
/// takes exactly one shard per batch.
/// </summary>
internal sealed class GlobalBatches
{
    public GlobalBatches(long count, int size, DataParallel ranks, bool dropLast)
    {
        Count = count;
        Size = size;
        Ranks = ranks;
        DropLast = dropLast;
        Length = dropLast ? count / size * size : count;
        Batches = (Length + size - 1) / size;
        ShardSize = size / ranks.WorldSize;
    }

    public long Count { get; }

    /// <summary>The global batch size.</summary>
    public int Size { get; }

    public DataParallel Ranks { get; }

    public bool DropLast { get; }

    /// <summary>The positions of an epoch that are used: all, or with <see cref="DropLast"/> those of whole global batches.</summary>
    public long Length { get; }

    /// <summary>How many global batches an epoch has.</summary>
    public long Batches { get; }

    /// <summary>A rank's share of a whole global batch: its <c>DataLoader</c>'s batch size.</summary>
    public int ShardSize { get; }

    /// <summary>The first position of this rank's shard of global batch <paramref name="batch"/>, and its length (0 when it gets none).</summary>
    public (long Start, long Length) Shard(long batch)
    {
        long start = batch * Size;
        long size = Math.Min(Size, Length - start);
        int ranks = Ranks.WorldSize, rank = Ranks.Rank;
        long each = size / ranks, extra = size % ranks;
        return (start + rank * each + Math.Min(rank, extra), each + (rank < extra ? 1 : 0));
    }

    /// <summary>The global position where global batch <paramref name="batch"/> starts (the epoch's length after the last).</summary>
    public long Start(long batch) => Math.Min(batch * Size, Length);

    /// <summary>
    /// The global position at which this rank has taken <paramref name="taken"/> positions of the epoch: the start of the
    /// first global batch whose shard it has not finished. Null when <paramref name="taken"/> falls inside a shard (the
    /// <c>DataLoader</c>'s batch size is not <see cref="ShardSize"/>).
    /// </summary>
    public long? GlobalPosition(long taken)
    {
        long whole = Length / Size; // global batches of Size positions
        if (taken <= whole * ShardSize)
            return taken % ShardSize == 0 ? taken / ShardSize * Size : null;
        long last = Shard(whole).Length; // the partial last global batch's shard
        return taken == whole * ShardSize + last ? Length : null;
    }

    /// <summary>How many positions this rank has taken when the epoch is at global position <paramref name="position"/> (a global batch's start).</summary>
    public long Taken(long position)
    {
        long batch = position / Size;
        return position >= Length && Length % Size != 0
            ? batch * ShardSize + Shard(batch).Length
            : batch * ShardSize;
    }

    /// <summary>Whether <paramref name="position"/> is the start of a global batch (or the epoch's end).</summary>
    public bool IsBoundary(long position) => position == Length || (position % Size == 0 && position < Length);
}
