using System;
using System.Collections;
using System.Collections.Generic;
using System.Diagnostics;
using System.Buffers.Binary;
using System.IO.Hashing;
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
/// Two samplers with the same stream seed whose epochs start in the same block get the same streams: give each
/// sampler of a run its own stream seed (a new sampler per fold, for instance).
/// </para>
/// </remarks>
[DebuggerDisplay("Count = {Count}, epochs started = {EpochsStarted}, position in epoch = {PositionInEpoch}")]
[DebuggerTypeProxy(typeof(DebugView))] // the debugger's Results View would enumerate it, which starts an epoch
public sealed class ReproducibleSampler : IEnumerable<long>, ICollection
{
    private sealed class DebugView(ReproducibleSampler sampler)
    {
        public long Count => sampler.Count;
        public bool Shuffle => sampler.Shuffle;
        public long StreamSeed => sampler.StreamSeed;
        public long EpochsStarted => sampler.EpochsStarted;
        public long PositionInEpoch => sampler.PositionInEpoch;
    }

    private static ReadOnlySpan<byte> Magic => "RBLKSAMP"u8;
    private const ushort FormatVersion = 3;

    private readonly object _gate = new();
    private readonly BatchLoading _loading;
    private Epoch? _current;
    private long _epochsStarted;
    private long _handedOut; // positions of the current epoch the DataLoader has taken
    private volatile bool _currentEnded; // the current epoch's enumerator was disposed: the DataLoader's loop over it is over
    private volatile bool _currentExhausted; // the current epoch's enumerator said it has no more: this process took all it takes
    private Epoch? _resumeAt; // loaded by LoadState: the next enumeration continues it
    private long _resumePosition; // the global position it continues from
    private readonly GlobalBatches? _batches; // null: not sharded, every position is this process's

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
        _loading = new BatchLoading(this);
    }

    /// <summary>
    /// A sampler for one rank of several processes training one model: every epoch's order is split into global
    /// batches of <paramref name="globalBatchSize"/> samples, and this rank takes its shard of each
    /// (<see cref="LocalBatchSize"/> samples, the <c>DataLoader</c>'s batch size). Every sample of an epoch is taken
    /// once, by one rank, with the stream it has on one process, whatever the world size.
    /// </summary>
    /// <param name="count">How many samples to order (the dataset's <c>Count</c>).</param>
    /// <param name="globalBatchSize">The batch size of the whole run, over every rank: a multiple of the world size.</param>
    /// <param name="ranks">This process's rank and the world size (<see cref="DataParallel.FromEnvironment"/> reads the launcher's).</param>
    /// <param name="dropLast">
    /// Whether an epoch's last global batch, when partial, is left out (on every rank: pass <c>drop_last: false</c> to
    /// the <c>DataLoader</c>). Otherwise it is split as evenly as possible, and a rank may get none of it.
    /// </param>
    /// <param name="shuffle">True (the default) for a fresh random order each epoch; false for 0, 1, ... each epoch.</param>
    /// <param name="streamSeed">Separates the streams of samplers that start their epochs in the same block. Any value.</param>
    /// <remarks>
    /// Make the <c>DataLoader</c> with <c>batchSize: sampler.LocalBatchSize</c>: the sampler hands out one shard per
    /// batch, and a checkpoint refuses a position inside a shard. Which samples make up each global batch does not
    /// depend on the world size, so a checkpoint taken on W ranks resumes on any world size that divides the global
    /// batch size.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="ranks"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="count"/> is negative or too large for one array, or <paramref name="globalBatchSize"/> is not a
    /// positive multiple of the world size.
    /// </exception>
    /// <returns>The sampler of rank <c>ranks.Rank</c>.</returns>
    public static ReproducibleSampler ForRank(long count, int globalBatchSize, DataParallel ranks, bool dropLast = false, bool shuffle = true, long streamSeed = 0)
    {
        ArgumentNullException.ThrowIfNull(ranks);
        return new ReproducibleSampler(count, globalBatchSize, ranks, dropLast, shuffle, streamSeed);
    }

    private ReproducibleSampler(long count, int globalBatchSize, DataParallel ranks, bool dropLast, bool shuffle, long streamSeed)
        : this(count, shuffle, streamSeed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(globalBatchSize, 1);
        if (globalBatchSize % ranks.WorldSize != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(globalBatchSize), globalBatchSize,
                $"The global batch size {globalBatchSize} is not a multiple of the world size {ranks.WorldSize}: every rank's share of a global batch is one "
                + $"DataLoader batch of the same size. Use a global batch size that {ranks.WorldSize} divides, or a world size that divides {globalBatchSize}.");
        }
        _batches = new GlobalBatches(count, globalBatchSize, ranks, dropLast);
        DataParallel.Current = ranks;
    }

    /// <summary>A fresh sampler made as this one was (to check that its states load).</summary>
    internal ReproducibleSampler Twin() =>
        _batches is null ? new ReproducibleSampler(Count, Shuffle, StreamSeed) : new ReproducibleSampler(Count, _batches.Size, _batches.Ranks, _batches.DropLast, Shuffle, StreamSeed);

    /// <summary>This process's rank and the world size; null for a sampler that is not sharded.</summary>
    public DataParallel? Ranks => _batches?.Ranks;

    /// <summary>The batch size of the whole run, over every rank; null for a sampler that is not sharded.</summary>
    public int? GlobalBatchSize => _batches?.Size;

    /// <summary>This rank's share of a global batch: the batch size to give its <c>DataLoader</c>; null for a sampler that is not sharded.</summary>
    public int? LocalBatchSize => _batches?.ShardSize;

    /// <summary>Whether a partial last global batch is left out (a sharded sampler; otherwise the <c>DataLoader</c>'s <c>drop_last</c> decides).</summary>
    public bool DropLast => _batches?.DropLast ?? false;

    /// <summary>How many samples an epoch has.</summary>
    public long Count { get; }

    /// <summary>Whether each epoch has a fresh random order.</summary>
    public bool Shuffle { get; }

    /// <summary>The seed that separates this sampler's streams from other samplers'.</summary>
    public long StreamSeed { get; }

    /// <summary>
    /// How many samples of the current epoch the <c>DataLoader</c> has taken (after batch b of an epoch, b times the batch
    /// size, or the epoch's end); for a sharded sampler, this rank's.
    /// </summary>
    public long PositionInEpoch => Volatile.Read(ref _handedOut);

    /// <summary>How many epochs have started (the number of the current epoch is one less).</summary>
    public long EpochsStarted => Interlocked.Read(ref _epochsStarted);

    /// <summary>
    /// Starts an epoch: draws its order and records the block open now. Called by the <c>DataLoader</c>. After
    /// <see cref="LoadState"/>, the first call continues the saved epoch from its next sample instead.
    /// </summary>
    /// <exception cref="InvalidOperationException"><see cref="Reproducible.SetSeed"/> has not been called, or another flow has a block open.</exception>
    public IEnumerator<long> GetEnumerator()
    {
        lock (_gate)
        {
            if (_resumeAt is { } resumed)
            {
                _current = resumed;
                _currentEnded = false;
                _currentExhausted = false;
                _resumeAt = null;
                Volatile.Write(ref _handedOut, _batches?.Taken(_resumePosition) ?? _resumePosition);
                return HandOut(resumed, _resumePosition);
            }
        }
        ulong blockKey = BlockRuntime.Shared.CurrentKey("A ReproducibleSampler's epoch");
        long[] order = BlockShuffler.Order(Count, Shuffle ? Reproducible.Random : null); // BlockShuffler's order
        Epoch epoch;
        lock (_gate)
        {
            long number = _epochsStarted;
            epoch = new Epoch(number, KeyDerivation.Epoch(blockKey, StreamSeed, number), order);
            _current = epoch;
            _currentEnded = false;
            _currentExhausted = false;
            Volatile.Write(ref _handedOut, 0);
            Interlocked.Increment(ref _epochsStarted);
        }
        return HandOut(epoch, 0);
    }

    /// <summary>The epoch's indices from global position <paramref name="position"/> on, counting what the DataLoader takes.</summary>
    private IEnumerator<long> HandOut(Epoch epoch, long position) => new EpochEnumerator(this, epoch, position);

    /// <summary>
    /// For a sharded sampler whose current epoch this rank has taken all of: the epoch's number of global batches (the
    /// rank may have had no share of the last); otherwise null.
    /// </summary>
    internal long? GlobalBatchesOfExhaustedEpoch => _batches is not null && _currentExhausted ? _batches.Batches : null;

    /// <summary>How many positions of an epoch this process takes: all, or a sharded sampler's rank's shards.</summary>
    private long PositionsHere => _batches?.Taken(_batches.Length) ?? Count;

    /// <summary>
    /// Hands out one epoch's indices. The epoch's enumeration ends when the enumerator is disposed (the DataLoader's
    /// loop is over, whole or cut short), not when the last index is taken: a checkpoint taken in the last batch's body
    /// is still inside the epoch, whose end-of-epoch code has not run yet.
    /// </summary>
    private sealed class EpochEnumerator : IEnumerator<long>
    {
        private readonly ReproducibleSampler _sampler;
        private readonly Epoch _epoch;
        private readonly GlobalBatches? _batches;
        private long _next; // the next global position to hand out
        private long _shardEnd; // where the positions this process takes in a row end
        private long _batch; // the global batch of the shard being handed out (sharded)
        private long _taken; // positions this process has taken in the epoch
        private bool _disposed;

        public EpochEnumerator(ReproducibleSampler sampler, Epoch epoch, long position)
        {
            _sampler = sampler;
            _epoch = epoch;
            _batches = sampler._batches;
            _next = position;
            if (_batches is null)
            {
                _shardEnd = epoch.Order.LongLength;
                _taken = position;
            }
            else
            {
                _batch = position / _batches.Size;
                (_next, long length) = position < _batches.Length ? _batches.Shard(_batch) : (_batches.Length, 0);
                _shardEnd = _next + length;
                _taken = _batches.Taken(position);
            }
        }

        public long Current { get; private set; }

        object IEnumerator.Current => Current;

        public bool MoveNext()
        {
            if (_disposed)
                return false;
            while (_next >= _shardEnd)
            {
                // The next global batch's shard (this rank may have none of a partial last one).
                if (_batches is null || ++_batch >= _batches.Batches)
                {
                    if (ReferenceEquals(Volatile.Read(ref _sampler._current), _epoch))
                        _sampler._currentExhausted = true;
                    return false;
                }
                (_next, long length) = _batches.Shard(_batch);
                _shardEnd = _next + length;
            }
            if (!ReferenceEquals(Volatile.Read(ref _sampler._current), _epoch))
            {
                throw new InvalidOperationException(
                    $"Epoch {_epoch.Number} of this sampler was still being taken when another epoch started or a state was loaded: enumerating the sampler "
                    + "starts an epoch (LINQ's ToList or foreach on it does too), and the streams of the samples still to come would be the new epoch's. "
                    + "Enumerate it once per epoch, through the DataLoader.");
            }
            Volatile.Write(ref _sampler._handedOut, ++_taken);
            _sampler._loading.HandedOut(_epoch, _epoch.Number, _next);
            Current = _epoch.Order[_next++];
            return true;
        }

        public void Reset() => throw new NotSupportedException("An epoch of a ReproducibleSampler is enumerated once; enumerate the sampler again for the next epoch.");

        public void Dispose()
        {
            if (_disposed)
                return;
            _disposed = true;
            lock (_sampler._gate)
            {
                if (ReferenceEquals(_sampler._current, _epoch))
                    _sampler._currentEnded = true;
            }
            _sampler._loading.Ended(_epoch, exhausted: _taken >= _sampler.PositionsHere);
        }
    }

    /// <summary>
    /// The number of the epoch the next enumeration gives: the saved epoch after <see cref="LoadState"/> of an unfinished
    /// one (which continues it), else <see cref="EpochsStarted"/>.
    /// </summary>
    public long NextEpoch
    {
        get
        {
            lock (_gate)
                return _resumeAt?.Number ?? _epochsStarted;
        }
    }

    /// <summary>
    /// The sampler's position, for a checkpoint: how many epochs started, and the current epoch's order, key, how many
    /// of its samples the <c>DataLoader</c> has taken, and whether its loop over the epoch is over. Call it between
    /// batches: at the end of a batch's body (the last batch's too: the epoch then goes on, with its end-of-epoch code,
    /// when resumed), or after the loop (the next enumeration then starts the next epoch, also after an epoch cut short).
    /// </summary>
    /// <returns>Versioned, checksummed bytes for <see cref="LoadState"/>.</returns>
    public byte[] SaveState() => SaveState(rewindTo: null);

    /// <summary>
    /// <see cref="SaveState()"/>, as if the current epoch's indices from <paramref name="rewindTo"/> on had not been
    /// handed out yet (a batch taken whose body has not trained it).
    /// </summary>
    internal byte[] SaveState(long? rewindTo)
    {
        lock (_gate)
        {
            Epoch? epoch = _resumeAt ?? _current;
            long next;
            if (_resumeAt is not null)
            {
                next = _resumePosition;
            }
            else
            {
                long taken = Volatile.Read(ref _handedOut);
                if (rewindTo is { } rewound && rewound <= taken)
                    taken = rewound;
                // A rank that has no share of a partial last global batch has taken as much before it as after it: that its
                // enumeration ran out says which.
                next = _batches is null ? taken : _currentExhausted && taken == Volatile.Read(ref _handedOut) ? _batches.Length : _batches.GlobalPosition(taken) ?? throw new InvalidOperationException(
                    $"This rank has taken {taken} samples of the epoch, which ends no shard of a global batch: its DataLoader's batch size is not the sampler's "
                    + $"LocalBatchSize ({_batches.ShardSize}), or the state is saved inside a batch. Make the DataLoader with batchSize: sampler.LocalBatchSize and "
                    + "save between batches.");
            }
            bool ended = _resumeAt is null && _currentEnded;
            long size = 8 + 2 + 8 + 1 + 8 + 1 + (_batches is null ? 0 : 4 + 1 + 4 + 4) + 8 + 1 + (epoch is null ? 0 : 8 + 8 + 8 + 8 * Count + 1) + 8;
            byte[] bytes = new byte[checked((int)size)];
            var rest = bytes.AsSpan();
            Magic.CopyTo(rest);
            rest = rest[8..];
            BinaryPrimitives.WriteUInt16LittleEndian(rest, FormatVersion);
            rest = rest[2..];
            Put(ref rest, Count);
            rest[0] = Shuffle ? (byte)1 : (byte)0;
            rest = rest[1..];
            Put(ref rest, StreamSeed);
            rest[0] = _batches is null ? (byte)0 : (byte)1;
            rest = rest[1..];
            if (_batches is not null)
            {
                // Where the state was saved, for messages; a sampler of another world size loads it.
                BinaryPrimitives.WriteInt32LittleEndian(rest, _batches.Size);
                rest[4] = _batches.DropLast ? (byte)1 : (byte)0;
                BinaryPrimitives.WriteInt32LittleEndian(rest[5..], _batches.Ranks.Rank);
                BinaryPrimitives.WriteInt32LittleEndian(rest[9..], _batches.Ranks.WorldSize);
                rest = rest[13..];
            }
            Put(ref rest, _epochsStarted);
            rest[0] = epoch is null ? (byte)0 : (byte)1;
            rest = rest[1..];
            if (epoch is not null)
            {
                Put(ref rest, epoch.Number);
                Put(ref rest, unchecked((long)epoch.Key));
                Put(ref rest, next);
                foreach (long index in epoch.Order)
                    Put(ref rest, index);
                rest[0] = ended ? (byte)1 : (byte)0;
                rest = rest[1..];
            }
            int end = bytes.Length - 8;
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(end), XxHash64.HashToUInt64(bytes.AsSpan(0, end)));
            return bytes;

            static void Put(ref Span<byte> rest, long value)
            {
                BinaryPrimitives.WriteInt64LittleEndian(rest, value);
                rest = rest[8..];
            }
        }
    }

    /// <summary>
    /// Puts the sampler back where <see cref="SaveState()"/> recorded it: when the saved epoch's loop was not over, the
    /// next enumeration continues it from its next sample (TorchSharp's <c>DataLoader</c> cannot skip batches; after its
    /// last batch, it gives no more), with the same order and the same per-sample streams; otherwise the next enumeration
    /// starts the next epoch. Later epochs start as they would have. States written by 0.1 and 0.2 are read too. Restore
    /// <see cref="Reproducible"/>'s snapshot too, which holds the generator the next epochs' orders are drawn from.
    /// </summary>
    /// <remarks>
    /// A sharded sampler's state records the global position (the global batches taken), so any rank of any world size
    /// that divides the global batch size loads it and continues with its shard of the next global batch.
    /// </remarks>
    /// <exception cref="FormatException">
    /// The bytes are not an intact sampler state, or are one of a sampler with another count, shuffle or stream seed, or
    /// another global batch size or drop-last (or one sharded where this one is not, or the reverse).
    /// </exception>
    public void LoadState(ReadOnlySpan<byte> state)
    {
        if (state.Length < 8 + 2 + 8 + 1 + 8 + 8 + 1 + 8 || !state[..8].SequenceEqual(Magic))
            throw new FormatException("These bytes are not a ReproducibleSampler state (they do not start with its 'RBLKSAMP' header).");
        int end = state.Length - 8;
        if (XxHash64.HashToUInt64(state[..end]) != BinaryPrimitives.ReadUInt64LittleEndian(state[end..]))
            throw new FormatException("The sampler state's checksum does not match its contents: the bytes were corrupted or truncated.");
        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(state[8..]);
        if (version is < 1 or > FormatVersion)
            throw new FormatException($"This sampler state has format version {version}; this version of ReproducibleBlock reads versions 1 to {FormatVersion}.");
        ReadOnlySpan<byte> rest = state[10..end];
        long count = Take(ref rest);
        bool shuffle = rest[0] != 0;
        rest = rest[1..];
        long streamSeed = Take(ref rest);
        if (count != Count || shuffle != Shuffle || streamSeed != StreamSeed)
        {
            throw new FormatException(
                $"The state is of a sampler of {count} samples (shuffle: {shuffle}, stream seed {streamSeed}); this one has {Count} (shuffle: {Shuffle}, stream seed {StreamSeed}). "
                + "Load it into a sampler made as the saved one was.");
        }
        string savedSharding = "not sharded";
        (int Size, bool DropLast)? saved = null;
        if (version >= 3)
        {
            if (rest.Length < 1 || rest[0] > 1 || (rest[0] == 1 && rest.Length < 14))
                throw new FormatException("The sampler state's sharding record is malformed.");
            if (rest[0] == 1)
            {
                int size = BinaryPrimitives.ReadInt32LittleEndian(rest[1..]);
                int rank = BinaryPrimitives.ReadInt32LittleEndian(rest[6..]), worldSize = BinaryPrimitives.ReadInt32LittleEndian(rest[10..]);
                if (size < 1 || rest[5] > 1 || worldSize < 1 || rank < 0 || rank >= worldSize)
                    throw new FormatException("The sampler state's sharding record is malformed.");
                saved = (size, rest[5] == 1);
                savedSharding = $"saved by rank {rank} of {worldSize} with global batches of {size} (drop last: {rest[5] == 1})";
                rest = rest[14..];
            }
            else
            {
                rest = rest[1..];
            }
        }
        (int Size, bool DropLast)? mine = _batches is null ? null : (_batches.Size, _batches.DropLast);
        if (saved != mine)
        {
            string here = _batches is null ? "this sampler is not sharded" : $"this one shards global batches of {_batches.Size} (drop last: {_batches.DropLast}) over {_batches.Ranks.WorldSize} rank(s)";
            throw new FormatException(
                $"The sampler state was {savedSharding}; {here}. A state resumes on any world size, with the same global batch size and drop-last: make the sampler with those.");
        }
        long started = Take(ref rest);
        bool hasEpoch = rest[0] == 1;
        if (rest[0] > 1 || started < 0 || hasEpoch != (started > 0))
            throw new FormatException("The sampler state's epoch record is inconsistent.");
        rest = rest[1..];
        Epoch? epoch = null;
        long next = 0;
        bool ended = false;
        if (hasEpoch)
        {
            long number = Take(ref rest);
            ulong key = unchecked((ulong)Take(ref rest));
            next = Take(ref rest);
            int flags = version >= 2 ? 1 : 0;
            if (number != started - 1 || next < 0 || next > count || rest.Length != 8 * count + flags || (_batches is not null && (next > _batches.Length || !_batches.IsBoundary(next))))
                throw new FormatException("The sampler state's current epoch is inconsistent (its number, position or order length).");
            long[] order = new long[count];
            var seen = new bool[count];
            for (long i = 0; i < count; i++)
            {
                long index = Take(ref rest);
                if (index < 0 || index >= count || seen[index])
                    throw new FormatException("The sampler state's order is not a permutation of the sample indices.");
                seen[index] = true;
                order[i] = index;
            }
            epoch = new Epoch(number, key, order);
            if (version >= 2)
            {
                if (rest[0] > 1)
                    throw new FormatException("The sampler state's end-of-epoch flag is neither 0 nor 1.");
                // Version 1 had no flag: an epoch whose indices were all taken was over.
                ended = rest[0] == 1;
                rest = rest[1..];
            }
            else
            {
                ended = next == count;
            }
        }
        if (!rest.IsEmpty)
            throw new FormatException($"The sampler state has {rest.Length} unexpected bytes after its last record.");

        lock (_gate)
        {
            _epochsStarted = started;
            _current = epoch;
            bool unfinished = epoch is not null && !ended;
            _currentEnded = ended;
            _resumeAt = unfinished ? epoch : null;
            _resumePosition = unfinished ? next : 0;
            Volatile.Write(ref _handedOut, _batches?.Taken(next) ?? next);
        }

        static long Take(ref ReadOnlySpan<byte> rest)
        {
            if (rest.Length < 8)
                throw new FormatException("The sampler state ends in the middle of a record.");
            long value = BinaryPrimitives.ReadInt64LittleEndian(rest);
            rest = rest[8..];
            return value;
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    // A collection to LINQ, so that Count() and Any() read the count instead of enumerating the sampler, which starts an
    // epoch (in 0.2 that left Resolve on that epoch forever when the DataLoader shuffled by itself). Only the
    // non-generic interface: ToList and ToArray trust ICollection<T>.Count, and a resumed epoch has fewer indices left.
    int ICollection.Count => checked((int)Count);

    bool ICollection.IsSynchronized => false;

    object ICollection.SyncRoot => _gate;

    /// <summary>Copies an epoch's order: like enumerating the sampler, it starts an epoch.</summary>
    void ICollection.CopyTo(Array array, int index)
    {
        ArgumentNullException.ThrowIfNull(array);
        using IEnumerator<long> epoch = GetEnumerator();
        for (int i = index; epoch.MoveNext(); i++)
            array.SetValue(epoch.Current, i);
    }

    /// <summary>
    /// The random stream of the sample at <paramref name="index"/> in the current epoch. Thread-safe: call it from
    /// <c>Dataset.GetTensor</c> on any worker thread.
    /// </summary>
    /// <param name="index">The index the <c>DataLoader</c> passed to <c>GetTensor</c>.</param>
    /// <returns>
    /// The sample's stream. Its generators belong to the calling thread and are set to this sample's state: draw from
    /// them before this thread resolves another sample.
    /// </returns>
    /// <remarks>
    /// Call it first in <c>GetTensor</c>, once for each sample loaded, and draw everything from the stream: while a batch
    /// loads (from its hand-out to its last <c>Resolve</c>) nothing may move torch's global generators, and woven calls
    /// made there run passively (they are refused if they draw).
    /// </remarks>
    /// <exception cref="InvalidOperationException">
    /// No epoch has started yet: enumerate the sampler first (the <c>DataLoader</c> does). Or, from the batch's last
    /// <c>Resolve</c>: torch's global generator (or <see cref="Reproducible.Random"/>) moved while the batch loaded (a
    /// <c>GetTensor</c> drew from it; the message names the dataset). Or the sampler's epoch was loaded whole and
    /// <c>Resolve</c> goes on being called (the loader does not take its order from this sampler).
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not an index of this sampler.</exception>
    public SampleStream Resolve(long index)
    {
        Epoch epoch = Volatile.Read(ref _current) ?? throw new InvalidOperationException(
            "No epoch has started: Resolve gives the stream of a sample of the current epoch. Pass the sampler to the DataLoader "
            + "(its shuffler argument) and call Resolve from Dataset.GetTensor while the DataLoader is enumerated.");
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        long position = epoch.PositionOf(index);
        TorchSharp.DisposeScope? scope = TorchSharp.torch.CurrentDisposeScope;
        bool loading = _loading.InItsOwnScope(scope);
        if (loading && _currentEnded && ReferenceEquals(Volatile.Read(ref _current), epoch) && !_loading.IsLastBatchStillLoading(epoch, position))
        {
            // A DataLoader loads this sample (GetTensor runs in a dispose scope of its own), but no loop over this sampler is
            // running: the loader takes its order elsewhere.
            throw new InvalidOperationException(
                $"Sample {index} is being loaded after the loop over epoch {epoch.Number} of this sampler was over (its enumeration was disposed): "
                + "the DataLoader does not take its order from this sampler (it was built with shuffle: true, or with another shuffler), and other code "
                + "enumerated the sampler (foreach, LINQ's ToList or Take). Every epoch would give this epoch's streams again. Pass the sampler to the "
                + "DataLoader as its shuffler argument.");
        }
        _loading.Resolved(epoch, position);
        return SampleStream.For(KeyDerivation.Sample(epoch.Key, position), index, epoch.Number, position, loading ? scope : null);
    }

    /// <summary>One epoch: its number, key and order, and where each index falls in it (computed on first use).</summary>
    private sealed class Epoch(long number, ulong key, long[] order)
    {
        private long[]? _positions;

        public long Number { get; } = number;

        public ulong Key { get; } = key;

        public long[] Order { get; } = order;

        public long PositionOf(long index)
        {
            long[]? positions = Volatile.Read(ref _positions);
            if (positions is null)
            {
                // Built by whichever worker comes first; a duplicate built by a racing worker is identical.
                positions = new long[Order.Length];
                for (long position = 0; position < Order.LongLength; position++)
                    positions[Order[position]] = position;
                Volatile.Write(ref _positions, positions);
            }
            return positions[index];
        }
    }
}
