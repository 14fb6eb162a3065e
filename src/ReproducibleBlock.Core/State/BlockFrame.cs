using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace ReproducibleBlock.State;

/// <summary>One segment of a key path: a block seed and the ordinal under its parent (<see cref="KeyDerivation.Child"/>).</summary>
internal readonly record struct Segment(long Seed, long Ordinal);

/// <summary>One level of the scope stack: an open block, or the root (the level outside every block).</summary>
/// <remarks>Frames are kept per depth and reused, so entering a block allocates no frame.</remarks>
internal sealed class BlockFrame
{
    private Dictionary<long, long>? _instances;

    /// <summary>The handle that opened this frame; null for the root and for a free frame.</summary>
    public BlockScope? Owner { get; set; }

    public long BlockSeed { get; set; }

    /// <summary>For instance blocks, how many blocks with this seed were entered under the same parent before.</summary>
    public long Ordinal { get; set; }

    /// <summary>The derivation key; children derive from it.</summary>
    public ulong Key { get; set; }

    public bool RestoreOnExit { get; set; }

    /// <summary>For a continuing block, the stream it resumes and saves on exit; null otherwise.</summary>
    public ContinuingStream? Stream { get; set; }

    /// <summary>
    /// For a nested entry of a stream that is already open (a <c>forward</c> calling <c>base.forward</c>, an overload, a
    /// recursion): the stream it continues. Such a frame switches nothing when the stream's frame is innermost; otherwise
    /// it carries the stream's live state in and out (see <see cref="StreamBlocks"/>).
    /// </summary>
    public ContinuingStream? Reentered { get; set; }

    /// <summary>For a nested entry that carries its stream's live state in: the index of the frame whose saved state holds it.</summary>
    public int ReentryHolder { get; set; } = -1;

    /// <summary>For a site of a woven constructor (see <see cref="BlockRuntime.EnterSite"/>), what it is named by; null otherwise.</summary>
    public SiteKind? Site { get; set; }

    /// <summary>Whether an exit of an enclosing block may close this frame when it was left open by an exception.</summary>
    public bool ClosedByEnclosingExit { get; set; }

    /// <summary>A spare state a continuing block's exit reads into, then trades with its stream's (no allocation per call).</summary>
    public RngState? Spare { get; set; }

    /// <summary>The state before entry, for <see cref="RestoreOnExit"/>; allocated on first use and kept.</summary>
    public RngState? Saved { get; set; }

    /// <summary>While tracing: the block's path from the root, as the trace writes it (<c>""</c> for the root).</summary>
    public string TracePath { get; set; } = "";

    /// <summary>While tracing: the block's name in the trace.</summary>
    public string? TraceName { get; set; }

    /// <summary>While tracing tensors: the fingerprint of the output its module's forward returned, for the exit event; null when none was given.</summary>
    public ulong? TraceOutput { get; set; }

    /// <summary>How many restoring exits happened directly under this frame (for CUDA continuation seeds).</summary>
    public ulong ExitCount { get; set; }

    /// <summary>Instance counts per block seed, for instance blocks entered directly under this frame.</summary>
    public IReadOnlyDictionary<long, long> InstanceCounts => _instances ?? (IReadOnlyDictionary<long, long>)EmptyCounts;

    private static readonly Dictionary<long, long> EmptyCounts = new();

    /// <summary>The ordinal the next instance block with <paramref name="blockSeed"/> gets under this frame.</summary>
    public long InstanceOrdinal(long blockSeed) => _instances is not null && _instances.TryGetValue(blockSeed, out long count) ? count : 0;

    /// <summary>Counts an instance block with <paramref name="blockSeed"/> entered under this frame (once its entry succeeded).</summary>
    public void CountInstance(long blockSeed)
    {
        _instances ??= new Dictionary<long, long>();
        CollectionsMarshal.GetValueRefOrAddDefault(_instances, blockSeed, out _)++;
    }

    /// <summary>Takes back <see cref="CountInstance"/> (an entry that failed after it was counted).</summary>
    public void UncountInstance(long blockSeed)
    {
        long left = InstanceOrdinal(blockSeed) - 1;
        if (left > 0)
            _instances![blockSeed] = left;
        else
            _instances?.Remove(blockSeed);
    }

    public void SetInstanceCounts(IReadOnlyDictionary<long, long> counts)
    {
        _instances?.Clear();
        foreach (KeyValuePair<long, long> pair in counts)
            (_instances ??= new Dictionary<long, long>())[pair.Key] = pair.Value;
    }

    /// <summary>Prepares a kept frame for a new block.</summary>
    public void Open(BlockScope? owner, long blockSeed, long ordinal, ulong key, bool restoreOnExit)
    {
        Owner = owner;
        BlockSeed = blockSeed;
        Ordinal = ordinal;
        Key = key;
        RestoreOnExit = restoreOnExit;
        Stream = null;
        Reentered = null;
        ReentryHolder = -1;
        Site = null;
        ClosedByEnclosingExit = false;
        TracePath = "";
        TraceName = null;
        TraceOutput = null;
        ExitCount = 0;
        _instances?.Clear();
    }
}
