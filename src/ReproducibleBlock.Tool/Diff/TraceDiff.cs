using System.Collections.Generic;
using ReproducibleBlock.Tool.Traces;

namespace ReproducibleBlock.Tool.Diff;

/// <summary>How two traces part at their first divergence (the README's trace format, "How diff compares two traces").</summary>
public enum DivergenceKind
{
    /// <summary>
    /// The events differ in <c>ev</c>, <c>path</c>, <c>name</c>, <c>kind</c> or <c>restore</c>, or one complete trace has
    /// events the other has not.
    /// </summary>
    Structure,

    /// <summary><c>enter</c> events agree in structure but the state the block starts from differs.</summary>
    Entry,

    /// <summary><c>exit</c> events of a block whose entry agreed differ in state: something in that block is nondeterministic.</summary>
    Inside,

    /// <summary><c>mark</c> events differ in their fingerprint.</summary>
    Mark,

    /// <summary>One trace ends without its <c>end</c> event while the other goes on.</summary>
    Truncated,

    /// <summary>
    /// <c>exit</c> events of a continuing block (a module's <c>forward</c>) agree in state but not in <c>output</c>: the
    /// module computed another output while every random stream before it agreed (format 2, tensors traced).
    /// </summary>
    Output,

    /// <summary>
    /// Before the traces part, a run drew from torch's global generator where no run can repeat the draw, and the library
    /// refused it (a <c>draw</c> event: a <c>Dataset.GetTensor</c> while its batch loaded, a woven call on another thread).
    /// </summary>
    Draw,
}

/// <summary>Why an <see cref="DivergenceKind.Entry"/> divergence happened, as far as the traces tell.</summary>
public enum EntryCause
{
    /// <summary>The runs were seeded with other root seeds.</summary>
    RootSeed,

    /// <summary>The runs use other derivations (<c>Keyed</c>, <c>ResetAndAdvance</c>).</summary>
    Derivation,

    /// <summary>Keys of the environment records differ.</summary>
    Environment,

    /// <summary>The enclosing state just before entry (<c>before</c>) differs.</summary>
    EnclosingState,

    /// <summary>A continuing block resumed another stream state: the stream's earlier calls differ.</summary>
    StreamState,

    /// <summary>Seeding, environment and enclosing state are the same: the traces do not say why.</summary>
    Unexplained,

    /// <summary>The runs restored (or resumed from) snapshots that hold other states.</summary>
    Snapshot,

    /// <summary>The code that opens the blocks changed (a <c>code</c> event's assembly has another MVID).</summary>
    CodeChange,
}

/// <summary>Where counting later blocks stopped.</summary>
public enum CountStop
{
    /// <summary>Nothing was counted: the traces agree, so there is no "later".</summary>
    NotCounted,

    /// <summary>Both traces ended at the same point.</summary>
    End,

    /// <summary>The structure parted (or the first divergence was one of structure): later events no longer line up.</summary>
    Structure,

    /// <summary>One trace ended, without its <c>end</c> event, before the other.</summary>
    Truncated,
}

/// <summary>The first place two traces part.</summary>
/// <param name="Kind">How they part.</param>
/// <param name="Name">The block's (or mark's) name; null when unknown or for an <c>end</c> event.</param>
/// <param name="Path">The block's path (for a mark, its innermost open block's; empty at the top level); null for an <c>end</c> event.</param>
/// <param name="LineA">The event's line in A; null when A has no event there (it ended early).</param>
/// <param name="LineB">The event's line in B; null when B has no event there.</param>
/// <param name="Detail">What differs and why, in sentences.</param>
/// <param name="A">The value in A that differs (a state, a fingerprint, the event).</param>
/// <param name="B">The value in B that differs.</param>
/// <param name="Cause">For <see cref="DivergenceKind.Entry"/>, the cause; null otherwise.</param>
/// <param name="Step">
/// For <see cref="DivergenceKind.Output"/>: which call of the module it is (1 for its first): with one call per training
/// step, the step. Null otherwise.
/// </param>
/// <param name="Environment">
/// For <see cref="DivergenceKind.Output"/>: the environment keys whose values differ where it happens (thread counts, CPU
/// capability, the deterministic switch, with changes made after <c>SetSeed</c>), possibly empty; null for the other kinds.
/// </param>
/// <param name="FollowsCodeChange">Whether the traces come from different code (<see cref="TraceDiff.CodeChanges"/>): the divergence is its consequence.</param>
public sealed record Divergence(
    DivergenceKind Kind, string? Name, string? Path, long? LineA, long? LineB, string Detail, string? A, string? B, EntryCause? Cause,
    long? Step = null, IReadOnlyList<EnvironmentDifference>? Environment = null, bool FollowsCodeChange = false);

/// <summary>An assembly whose woven code opens blocks in both runs, built from different code (another MVID).</summary>
/// <param name="Assembly">The assembly's simple name.</param>
/// <param name="A">Its identity in A: <c>version 1.0.0.0, MVID 3f2a...</c>.</param>
/// <param name="B">Its identity in B.</param>
/// <param name="LineA">The <c>code</c> event's line in A.</param>
/// <param name="LineB">The <c>code</c> event's line in B.</param>
public sealed record CodeChange(string Assembly, string A, string B, long LineA, long LineB);

/// <summary>How the blocks entered after the first divergence compare (<c>enter</c>/<c>exit</c> pairs, in order).</summary>
/// <param name="Agree">Blocks whose entry and exit states are the same in both traces.</param>
/// <param name="Differ">Blocks whose entry or exit state differs.</param>
/// <param name="StoppedBy">Why counting stopped.</param>
/// <param name="StopLineA">
/// A's line where counting stopped (the first event that no longer lines up, or the last line); null when not counted.
/// </param>
/// <param name="StopLineB">B's line where counting stopped; null when not counted.</param>
public sealed record LaterBlocks(long Agree, long Differ, CountStop StoppedBy, long? StopLineA, long? StopLineB)
{
    /// <summary>The blocks compared: <see cref="Agree"/> + <see cref="Differ"/>.</summary>
    public long Compared => Agree + Differ;
}

/// <summary>An environment key whose values differ (a warning: the environment alone is no divergence).</summary>
/// <param name="Key">The key, a <c>ReproducibleEnvironment</c> field name.</param>
/// <param name="A">The value in A; null when A does not have the key.</param>
/// <param name="B">The value in B; null when B does not have the key.</param>
public sealed record EnvironmentDifference(string Key, string? A, string? B);

/// <summary>One of the two traces, as far as the comparison read it.</summary>
/// <param name="File">The file as the user named it.</param>
/// <param name="Header">Its <c>trace</c> line.</param>
/// <param name="Complete">Whether it ends with its <c>end</c> event.</param>
/// <param name="Events">Its events after the <c>trace</c> line.</param>
/// <param name="LastLine">Its last line read.</param>
/// <param name="Derivation">The derivation of its last <c>seed</c> event; null when it has none.</param>
/// <param name="PassiveCalls">Woven calls that ran on threads that do not own the blocks (<c>passive</c> events).</param>
/// <param name="Draws">Draws from the global generator the library refused (<c>draw</c> events).</param>
public sealed record TraceSide(string File, TraceHeader Header, bool Complete, long Events, long LastLine, string? Derivation,
    long PassiveCalls = 0, long Draws = 0);

/// <summary>The comparison of two traces: <see cref="TraceDiffer"/>'s result.</summary>
/// <param name="A">The first trace.</param>
/// <param name="B">The second trace.</param>
/// <param name="Divergence">The first divergence; null when the traces agree (as far as they both go).</param>
/// <param name="LaterBlocks">How the blocks after the first divergence compare.</param>
/// <param name="EnvironmentDifferences">Environment keys whose values differ between the runs' <c>seed</c> events.</param>
/// <param name="Warnings">What the user should know that is no divergence: ignored lines, incomplete traces, seeding.</param>
/// <param name="CodeChanges">
/// The assemblies that opened blocks in both runs from different code: when there are any, the runs are not two runs
/// of one program, and the divergence is a consequence of the change, not nondeterminism.
/// </param>
public sealed record TraceDiff(
    TraceSide A,
    TraceSide B,
    Divergence? Divergence,
    LaterBlocks LaterBlocks,
    IReadOnlyList<EnvironmentDifference> EnvironmentDifferences,
    IReadOnlyList<string> Warnings,
    IReadOnlyList<CodeChange> CodeChanges)
{
    /// <summary>Whether the traces come from different code (see <see cref="CodeChanges"/>).</summary>
    public bool CodeDiffers => CodeChanges.Count > 0;

    /// <summary>Whether the traces agree (both may still be incomplete, see <see cref="Complete"/>).</summary>
    public bool Same => Divergence is null;

    /// <summary>Whether both traces end with their <c>end</c> event.</summary>
    public bool Complete => A.Complete && B.Complete;

    /// <summary>The tool's exit code: 0 when the traces agree, 1 at a divergence.</summary>
    public int ExitCode => Same ? ExitCodes.Same : ExitCodes.Diverged;
}
