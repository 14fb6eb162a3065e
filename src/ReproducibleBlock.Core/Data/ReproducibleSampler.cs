using System;
using System.Collections;
using System.Collections.Generic;
using System.Threading;
using ReproducibleBlock.State;

namespace ReproducibleBlock;

/// <summary>
/// A data order for TorchSharp's <c>DataLoader</c>, and a random stream for every sample of every epoch that does not
/// depend on how many workers load the data or in which order their threads run.
/// </summary>
/// <remarks>
/// <para>
/// Pass it as the <c>DataLoader</c>'s <c>shuffler</c>. Each time an epoch starts (the <c>DataLoader</c> enumerates the
/// sampler on the caller's thread when a <c>foreach</c> begins), it draws the epoch's order from
/// <see cref="Reproducible.Random"/>, exactly as <see cref="BlockShuffler"/> does, and records the block open at that
/// moment. In <c>Dataset.GetTensor(index)</c>, which <c>DataLoader(num_worker: N)</c> runs on parallel threads, call
/// <see cref="Resolve"/>: the <see cref="SampleStream"/> it returns draws from a state that is a pure function of that
/// block, this sampler's stream seed, the epoch and the sample's position in the epoch.
/// </para>
/// <para>
/// Each sample's CPU generator state is a whole 19,937-bit state derived from a 64-bit key, as a block's is (never
/// <c>manual_seed</c>, whose 32 bits would make sample-epochs collide), and sample streams never touch torch's or
/// <see cref="Reproducible.Random"/>'s global generators, so they are safe on worker threads while the main flow draws
/// inside blocks. The sampler yields every index once per epoch, so an index identifies its draw within an epoch.
/// </para>
/// </remarks>
public sealed class ReproducibleSampler : IEnumerable<long>
{
    private readonly object _gate = new();
    private Epoch? _current;
    private long _epochsStarted;

    /// <param name="count">How many samples to order (the dataset's <c>Count</c>).</param>
    /// <param name="shuffle">True (the default) for a fresh random order each epoch; false for 0, 1, ... each epoch.</param>
    /// <param name="streamSeed">
    /// Separates the streams of samplers that start their epochs in the same block (a training and a validation set):
    /// give each its own. Any value.
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative or too large for one array.</exception>
    public ReproducibleSampler(long count, bool shuffle = true, long streamSeed = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, (long)Array.MaxLength);
        Count = count;
        Shuffle = shuffle;
        StreamSeed = streamSeed;
    }

    /// <summary>How many samples an epoch has.</summary>
    public long Count { get; }

    /// <summary>Whether each epoch has a fresh random order.</summary>
    public bool Shuffle { get; }

    /// <summary>The seed that separates this sampler's streams from other samplers'.</summary>
    public long StreamSeed { get; }

    /// <summary>How many epochs have started (the number of the current epoch is one less).</summary>
    public long EpochsStarted => Interlocked.Read(ref _epochsStarted);

    /// <summary>Starts an epoch: draws its order and records the block open now. Called by the <c>DataLoader</c>.</summary>
    /// <exception cref="InvalidOperationException"><see cref="Reproducible.SetSeed"/> has not been called, or another flow has a block open.</exception>
    public IEnumerator<long> GetEnumerator()
    {
        ulong blockKey = BlockRuntime.Shared.CurrentKey("A ReproducibleSampler's epoch");
        long[] order = new long[Count];
        for (long i = 0; i < order.LongLength; i++)
            order[i] = i;
        if (Shuffle)
        {
            Random random = Reproducible.Random;
            for (int i = order.Length - 1; i > 0; i--)
            {
                int j = random.Next(i + 1);
                (order[i], order[j]) = (order[j], order[i]);
            }
        }
        lock (_gate)
        {
            long number = _epochsStarted;
            _current = new Epoch(number, KeyDerivation.Epoch(blockKey, StreamSeed, number), order);
            Interlocked.Increment(ref _epochsStarted);
        }
        return ((IEnumerable<long>)order).GetEnumerator();
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>
    /// The random stream of the sample at <paramref name="index"/> in the current epoch. Thread-safe: call it from
    /// <c>Dataset.GetTensor</c> on any worker thread.
    /// </summary>
    /// <param name="index">The index the <c>DataLoader</c> passed to <c>GetTensor</c>.</param>
    /// <returns>
    /// The sample's stream. Its generators belong to the calling thread and are set to this sample's state: draw from
    /// them before this thread resolves another sample.
    /// </returns>
    /// <exception cref="InvalidOperationException">No epoch has started yet: enumerate the sampler first (the <c>DataLoader</c> does).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not an index of this sampler.</exception>
    public SampleStream Resolve(long index)
    {
        Epoch epoch = Volatile.Read(ref _current) ?? throw new InvalidOperationException(
            "No epoch has started: Resolve gives the stream of a sample of the current epoch. Pass the sampler to the DataLoader "
            + "(its shuffler argument) and call Resolve from Dataset.GetTensor while the DataLoader is enumerated.");
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        long position = epoch.PositionOf(index);
        return SampleStream.For(KeyDerivation.Sample(epoch.Key, position), index, epoch.Number, position);
    }

    /// <summary>One epoch: its number, key and order, and where each index falls in it (computed on first use).</summary>
    private sealed class Epoch(long number, ulong key, long[] order)
    {
        private long[]? _positions;

        public long Number { get; } = number;

        public ulong Key { get; } = key;

        public long PositionOf(long index)
        {
            long[]? positions = Volatile.Read(ref _positions);
            if (positions is null)
            {
                // Built by whichever worker comes first; a duplicate built by a racing worker is identical.
                positions = new long[order.Length];
                for (long position = 0; position < order.LongLength; position++)
                    positions[order[position]] = position;
                Volatile.Write(ref _positions, positions);
            }
            return positions[index];
        }
    }
}
