using System.Collections.Generic;

namespace ReproducibleBlock.State;

/// <summary>Everything <see cref="Reproducible.Capture"/> records; block keys are not stored, they are re-derived.</summary>
internal sealed class SnapshotData
{
    public required long RootSeed { get; init; }
    public required BlockDerivation Derivation { get; init; }
    /// <summary>The state recorded by SetSeed, to which ResetAndAdvance blocks reset.</summary>
    public required RngState Reference { get; init; }
    /// <summary>The state at the moment of capture.</summary>
    public required RngState Current { get; init; }
    /// <summary>The root level's counters (outside every block).</summary>
    public required FrameData Root { get; init; }
    /// <summary>The open blocks, outermost first.</summary>
    public required IReadOnlyList<FrameData> Frames { get; init; }
    /// <summary>What ran the code at capture; null in snapshots of format version 1.</summary>
    public ReproducibleEnvironment? Environment { get; init; }
    /// <summary>Every continuing stream's saved state, by key, in key order; empty in version 1.</summary>
    public IReadOnlyList<(ulong Key, RngState State)> Streams { get; init; } = [];
    /// <summary>The claims made under each anchor since SetSeed (version 3); empty before.</summary>
    public IReadOnlyList<(ulong Anchor, ClaimCount Claims)> Claims { get; init; } = [];
}

/// <summary>What a snapshot records of one level of the scope stack.</summary>
internal sealed record FrameData(
    long BlockSeed,
    long Ordinal,
    bool RestoreOnExit,
    RngState? Saved,
    IReadOnlyDictionary<long, long> InstanceCounts,
    ulong ExitCount);
