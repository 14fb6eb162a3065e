using System;
using System.Collections.Generic;

namespace ReproducibleBlock.Tool.Traces;

/// <summary>The first line of a trace: which format it is in and which run wrote it.</summary>
/// <param name="Format">The format version: 1 or 2 (<see cref="TraceReader.KnownFormat"/> is the newest this reader knows).</param>
/// <param name="Library">The ReproducibleBlock.Core version that wrote the trace.</param>
/// <param name="Pid">The writing process's id.</param>
/// <param name="Started">When tracing started (UTC), as written.</param>
/// <param name="Tensors">
/// Whether the run fingerprinted modules' output tensors (<c>REPRODUCIBLEBLOCK_TRACE_TENSORS=1</c>, format 2); false for
/// format 1, which has no outputs.
/// </param>
public sealed record TraceHeader(int Format, string Library, long Pid, string Started, bool Tensors = false);

/// <summary>How a block was opened: the <c>kind</c> property of an <c>enter</c> event.</summary>
public enum BlockKind
{
    /// <summary>A plain block (<c>"block"</c>).</summary>
    Block,

    /// <summary>An instance block, numbered by its ordinal among blocks with the same seed (<c>"instance"</c>).</summary>
    Instance,

    /// <summary>A continuing block: a stream that resumes where its owner's previous call left it (<c>"continuing"</c>).</summary>
    Continuing,

    /// <summary>
    /// A part of a woven constructor stored in a member or registered under a name (<c>"member"</c>, from 0.3), keyed by
    /// that name and how many parts of that name its block entered before it.
    /// </summary>
    Member,

    /// <summary>
    /// A call in a woven constructor (<c>"site"</c>, from 0.3), keyed by the callee's name and how many calls of it its
    /// block entered before it.
    /// </summary>
    Site,
}

/// <summary>One event of a trace, after the <c>trace</c> line.</summary>
/// <param name="Line">The 1-based line number in the file.</param>
/// <param name="Seq">The event's <c>seq</c> (0 for the first event after the <c>trace</c> line).</param>
public abstract record TraceEvent(long Line, long Seq);

/// <summary>A <c>seed</c> event: <c>SetSeed</c>, or <c>Restore</c>/<c>Resume</c> replacing the seeding.</summary>
/// <param name="Line">The 1-based line number in the file.</param>
/// <param name="Seq">The event's <c>seq</c>.</param>
/// <param name="RootSeed">The root seed.</param>
/// <param name="Derivation">The derivation, <c>"Keyed"</c> or <c>"ResetAndAdvance"</c>.</param>
/// <param name="Environment">The environment record's pairs (<c>ReproducibleEnvironment.ToPairs()</c>).</param>
/// <param name="Restored">
/// For a snapshot put back (format 2): <c>"Restore"</c> or <c>"Resume"</c>; null for <c>SetSeed</c>.
/// </param>
/// <param name="Path">For a snapshot put back: the path of the innermost open block where it was applied (empty at the top level); null otherwise.</param>
/// <param name="State">For a snapshot put back: the generators' fingerprints once it was applied; null otherwise.</param>
public sealed record SeedEvent(
    long Line, long Seq, long RootSeed, string Derivation, IReadOnlyDictionary<string, string> Environment,
    string? Restored = null, string? Path = null, GeneratorFingerprints? State = null)
    : TraceEvent(Line, Seq);

/// <summary>
/// An <c>environment</c> event (format 2): values of the environment record that changed after the last <c>seed</c> or
/// <c>environment</c> event, such as the deterministic switch turned on after <c>SetSeed</c>, or the torch thread count.
/// </summary>
/// <param name="Line">The 1-based line number in the file.</param>
/// <param name="Seq">The event's <c>seq</c>.</param>
/// <param name="Changed">The keys that changed, with their new values.</param>
public sealed record EnvironmentEvent(long Line, long Seq, IReadOnlyDictionary<string, string> Changed) : TraceEvent(Line, Seq);

/// <summary>
/// A <c>code</c> event (format 2): the identity of an assembly whose woven code opens blocks, written before the first
/// event that comes from it.
/// </summary>
/// <param name="Line">The 1-based line number in the file.</param>
/// <param name="Seq">The event's <c>seq</c>.</param>
/// <param name="Assembly">The assembly's simple name.</param>
/// <param name="Version">Its assembly version.</param>
/// <param name="Mvid">Its module version id: a deterministic build gives the same one for the same code, another for changed code.</param>
public sealed record CodeEvent(long Line, long Seq, string Assembly, string Version, string Mvid) : TraceEvent(Line, Seq);

/// <summary>
/// A <c>passive</c> event (format 2): a woven call ran on a thread that does not own the open blocks, without switching
/// the generators (and without drawing), written when it ended.
/// </summary>
/// <param name="Line">The 1-based line number in the file.</param>
/// <param name="Seq">The event's <c>seq</c>.</param>
/// <param name="Path">The innermost block open on the owning flow (empty at the top level).</param>
/// <param name="Name">The call, as the library describes it.</param>
/// <param name="Thread">The managed thread id it ran on.</param>
/// <param name="ThreadName">The thread's name; null when it has none.</param>
/// <param name="Reason">Why it ran passively: <c>DataLoading</c>, <c>Fork</c>, <c>OtherFlow</c> or <c>Concurrent</c>.</param>
public sealed record PassiveEvent(long Line, long Seq, string Path, string Name, long Thread, string? ThreadName, string Reason)
    : TraceEvent(Line, Seq);

/// <summary>
/// A <c>draw</c> event (format 2): something drew from torch's global generator where no run can repeat the draw, and the
/// library refused it (a <c>Dataset.GetTensor</c> while its batch loaded, a woven call on a thread that does not own the
/// blocks).
/// </summary>
/// <param name="Line">The 1-based line number in the file.</param>
/// <param name="Seq">The event's <c>seq</c>.</param>
/// <param name="Path">The innermost block open on the owning flow (empty at the top level).</param>
/// <param name="Name">Who drew: <c>Namespace.Dataset.GetTensor</c>, or the woven call.</param>
/// <param name="Thread">The managed thread id the refusal was made on.</param>
/// <param name="ThreadName">The thread's name; null when it has none.</param>
/// <param name="Reason">When: <c>DataLoading</c>, <c>Fork</c>, <c>OtherFlow</c> or <c>Concurrent</c>.</param>
/// <param name="Detail">Where, in words (<c>batch 0 of epoch 0</c>).</param>
public sealed record DrawEvent(long Line, long Seq, string Path, string Name, long Thread, string? ThreadName, string Reason, string Detail)
    : TraceEvent(Line, Seq);

/// <summary>An <c>enter</c> event: a block was entered.</summary>
/// <param name="Line">The 1-based line number in the file.</param>
/// <param name="Seq">The event's <c>seq</c>.</param>
/// <param name="Path">The block's path from the root, itself last (<c>"128#0/1#0"</c>).</param>
/// <param name="Name">Who opened the block (member, <c>file:line</c> or owner type); null when unknown.</param>
/// <param name="Kind">The block's kind.</param>
/// <param name="Restore">Whether leaving the block puts the enclosing state back.</param>
/// <param name="Before">The enclosing stream just before entry.</param>
/// <param name="State">The state the block starts from.</param>
public sealed record EnterEvent(
    long Line, long Seq, string Path, string? Name, BlockKind Kind, bool Restore, GeneratorFingerprints Before, GeneratorFingerprints State)
    : TraceEvent(Line, Seq);

/// <summary>An <c>exit</c> event: a block was left.</summary>
/// <param name="Line">The 1-based line number in the file.</param>
/// <param name="Seq">The event's <c>seq</c>.</param>
/// <param name="Path">The block's path.</param>
/// <param name="Name">Who opened the block; null when unknown.</param>
/// <param name="State">The state the block ends with, before the enclosing state is put back.</param>
/// <param name="Output">
/// For a continuing block of a module, when the run traced tensors (format 2): XXH3-64 of its output tensors' bytes,
/// 16 lowercase hex digits; null otherwise.
/// </param>
public sealed record ExitEvent(long Line, long Seq, string Path, string? Name, GeneratorFingerprints State, string? Output = null) : TraceEvent(Line, Seq);

/// <summary>A <c>mark</c> event: <c>BlockTrace.Mark(name, tensors)</c>.</summary>
/// <param name="Line">The 1-based line number in the file.</param>
/// <param name="Seq">The event's <c>seq</c>.</param>
/// <param name="Path">The path of the innermost open block; empty at the top level.</param>
/// <param name="Name">The mark's name.</param>
/// <param name="Fingerprint">XXH3-64 of the marked tensors' bytes, 16 lowercase hex digits.</param>
public sealed record MarkEvent(long Line, long Seq, string Path, string Name, string Fingerprint) : TraceEvent(Line, Seq);

/// <summary>An <c>end</c> event: tracing stopped, or the process exited normally. Only a complete trace has one, last.</summary>
/// <param name="Line">The 1-based line number in the file.</param>
/// <param name="Seq">The event's <c>seq</c>.</param>
public sealed record EndEvent(long Line, long Seq) : TraceEvent(Line, Seq);

/// <summary>
/// Fingerprints of the three generators (XXH3-64 of their state bytes, 16 lowercase hex digits), each null when that
/// generator is absent (<c>cuda</c> without CUDA).
/// </summary>
/// <param name="Cpu">The torch CPU generator.</param>
/// <param name="Managed">The managed generator (<c>Reproducible.Random</c>).</param>
/// <param name="Cuda">The CUDA generators; null without CUDA.</param>
public readonly record struct GeneratorFingerprints(string? Cpu, string? Managed, string? Cuda)
{
    /// <summary>
    /// The names of the generators whose fingerprints differ from <paramref name="other"/>'s (<c>cpu</c>, <c>managed</c>,
    /// <c>cuda</c>), in that order.
    /// </summary>
    public IReadOnlyList<string> DifferingGenerators(GeneratorFingerprints other)
    {
        var names = new List<string>(3);
        if (!string.Equals(Cpu, other.Cpu, StringComparison.Ordinal)) names.Add("cpu");
        if (!string.Equals(Managed, other.Managed, StringComparison.Ordinal)) names.Add("managed");
        if (!string.Equals(Cuda, other.Cuda, StringComparison.Ordinal)) names.Add("cuda");
        return names;
    }

    /// <summary>The fingerprints as text: <c>cpu 8d1f0c9a52e3b771, managed 04c2aa9d1e7f3360, cuda none</c>.</summary>
    public override string ToString() => $"cpu {Cpu ?? "none"}, managed {Managed ?? "none"}, cuda {Cuda ?? "none"}";
}

/// <summary>The text forms of <see cref="BlockKind"/> in traces.</summary>
internal static class BlockKinds
{
    public static string ToText(this BlockKind kind) => kind switch
    {
        BlockKind.Block => "block",
        BlockKind.Instance => "instance",
        BlockKind.Continuing => "continuing",
        BlockKind.Member => "member",
        BlockKind.Site => "site",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    public static bool TryParse(string text, out BlockKind kind)
    {
        switch (text)
        {
            case "block": kind = BlockKind.Block; return true;
            case "instance": kind = BlockKind.Instance; return true;
            case "continuing": kind = BlockKind.Continuing; return true;
            case "member": kind = BlockKind.Member; return true;
            case "site": kind = BlockKind.Site; return true;
            default: kind = default; return false;
        }
    }
}
