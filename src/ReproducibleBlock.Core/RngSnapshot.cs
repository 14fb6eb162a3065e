using System;
using ReproducibleBlock.State;

namespace ReproducibleBlock;

/// <summary>
/// Everything ReproducibleBlock controls, at one moment: made by <see cref="Reproducible.Capture"/>, put back by
/// <see cref="Reproducible.Restore"/>. Save <see cref="ToBytes"/> with a training checkpoint to resume it exactly.
/// </summary>
/// <remarks>
/// The byte form is versioned and checksummed; <see cref="FromBytes"/> checks every field before anything can reach
/// libtorch. A snapshot is immutable.
/// </remarks>
public sealed class RngSnapshot
{
    internal RngSnapshot(SnapshotData data) => Data = data;

    internal SnapshotData Data { get; }

    /// <summary>The seed given to <see cref="Reproducible.SetSeed"/> before this snapshot was captured.</summary>
    public long RootSeed => Data.RootSeed;

    /// <summary>The derivation given to <see cref="Reproducible.SetSeed"/> before this snapshot was captured.</summary>
    public BlockDerivation Derivation => Data.Derivation;

    /// <summary>What ran the code at capture (see <see cref="ReproducibleEnvironment"/>); null for snapshots written by 0.1.0.</summary>
    public ReproducibleEnvironment? Environment => Data.Environment;

    /// <summary>The snapshot as bytes (a versioned format with a checksum), to store beside a checkpoint.</summary>
    public byte[] ToBytes() => SnapshotFormat.Write(Data);

    /// <summary>Reads a snapshot written by <see cref="ToBytes"/>, checking all of it.</summary>
    /// <exception cref="FormatException">The bytes are truncated, corrupted, of an unknown version, or not a snapshot at all.</exception>
    public static RngSnapshot FromBytes(ReadOnlySpan<byte> bytes) => new(SnapshotFormat.Read(bytes));
}
