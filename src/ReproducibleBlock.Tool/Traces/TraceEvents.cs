using System;
using System.Collections.Generic;

namespace ReproducibleBlock.Tool.Traces;

/// <summary>The first line of a trace: which format it is in and which run wrote it.</summary>
/// <param name="Format">The format version; this reader knows <see cref="TraceReader.KnownFormat"/> only.</param>
/// <param name="Library">The ReproducibleBlock.Core version that wrote the trace.</param>
/// <param name="Pid">The writing process's id.</param>
/// <param name="Started">When tracing started (UTC), as written.</param>
public sealed record TraceHeader(int Format, string Library, long Pid, string Started);

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
public sealed record SeedEvent(long Line, long Seq, long RootSeed, string Derivation, IReadOnlyDictionary<string, string> Environment)
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
public sealed record ExitEvent(long Line, long Seq, string Path, string? Name, GeneratorFingerprints State) : TraceEvent(Line, Seq);

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
