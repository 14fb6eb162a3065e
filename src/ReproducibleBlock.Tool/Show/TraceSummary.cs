using System;
using System.Collections.Generic;
using System.Globalization;
using ReproducibleBlock.Tool.Traces;

namespace ReproducibleBlock.Tool.Show;

/// <summary>A distinct seeding of a run: a root seed and a derivation, and how often the run was seeded with them.</summary>
/// <param name="RootSeed">The root seed.</param>
/// <param name="Derivation">The derivation.</param>
/// <param name="Count">How many <c>seed</c> events had this root seed and derivation.</param>
/// <param name="FirstLine">The line of the first of them.</param>
public sealed record SeedingSummary(long RootSeed, string Derivation, long Count, long FirstLine);

/// <summary>A block opened under one path by one name and kind, and how often.</summary>
/// <param name="Name">Who opened it; null when unknown.</param>
/// <param name="Kind">Its kind.</param>
/// <param name="Entered">How many times it was entered.</param>
public sealed record BlockEntry(string? Name, BlockKind Kind, long Entered);

/// <summary>The marks of one name made in one block.</summary>
/// <param name="Name">The mark's name.</param>
/// <param name="Count">How many times it was made there.</param>
/// <param name="LastFingerprint">The fingerprint of the last one.</param>
/// <param name="FirstLine">The line of the first one.</param>
public sealed record MarkSummary(string Name, long Count, string LastFingerprint, long FirstLine);

/// <summary>One distinct block path of a run, with what was entered there, its marks and the paths under it.</summary>
public sealed class BlockNode
{
    private readonly List<BlockNode> _children = [];
    private readonly List<BlockEntry> _entries = [];
    private readonly List<MarkSummary> _marks = [];

    internal BlockNode(string path, long firstLine)
    {
        Path = path;
        int slash = path.LastIndexOf('/');
        Segment = slash < 0 ? path : path[(slash + 1)..];
        FirstLine = firstLine;
    }

    /// <summary>The path from the root (empty for the top level).</summary>
    public string Path { get; }

    /// <summary>The last frame of the path: <c>blockSeed#ordinal</c>, or <c>~key</c> for a continuing block.</summary>
    public string Segment { get; }

    /// <summary>The line where the path first appears.</summary>
    public long FirstLine { get; }

    /// <summary>The names and kinds that opened blocks at this path (usually one), with their counts, in order of first entry.</summary>
    public IReadOnlyList<BlockEntry> Entries => _entries;

    /// <summary>How many times a block at this path was entered.</summary>
    public long Entered { get; private set; }

    /// <summary>How many times a block at this path was left.</summary>
    public long Exited { get; internal set; }

    /// <summary>The marks made directly in this block, by name, in order of first appearance.</summary>
    public IReadOnlyList<MarkSummary> Marks => _marks;

    /// <summary>The paths directly under this one, in order of first appearance.</summary>
    public IReadOnlyList<BlockNode> Children => _children;

    internal void AddChild(BlockNode child) => _children.Add(child);

    internal void Enter(EnterEvent enter)
    {
        Entered++;
        for (int i = 0; i < _entries.Count; i++)
        {
            BlockEntry entry = _entries[i];
            if (string.Equals(entry.Name, enter.Name, StringComparison.Ordinal) && entry.Kind == enter.Kind)
            {
                _entries[i] = entry with { Entered = entry.Entered + 1 };
                return;
            }
        }
        _entries.Add(new BlockEntry(enter.Name, enter.Kind, 1));
    }

    internal void Mark(MarkEvent mark)
    {
        for (int i = 0; i < _marks.Count; i++)
        {
            MarkSummary summary = _marks[i];
            if (string.Equals(summary.Name, mark.Name, StringComparison.Ordinal))
            {
                _marks[i] = summary with { Count = summary.Count + 1, LastFingerprint = mark.Fingerprint };
                return;
            }
        }
        _marks.Add(new MarkSummary(mark.Name, 1, mark.Fingerprint, mark.Line));
    }
}

/// <summary>
/// One run's trace aggregated: its seedings and environment, its block tree (each distinct path once, with counts) and
/// whether it is complete. Built while the trace streams through: memory grows with the distinct paths, not the events.
/// </summary>
public sealed class TraceSummary
{
    /// <summary>
    /// How many levels of blocks the tree holds. Events on paths nested deeper are counted (<see cref="Entered"/>,
    /// <see cref="Marks"/>) and named in a warning, but left out of the tree, which goes down to their ancestor at this
    /// depth. Each level costs its path again (every node holds its whole path) and a level of indentation in both
    /// reports, so a hostile path of a hundred thousand levels would otherwise fill the memory; real programs nest a few
    /// dozen.
    /// </summary>
    public const int MaxTreeDepth = 200;

    private readonly Dictionary<string, BlockNode> _nodes = new(StringComparer.Ordinal);
    private readonly List<SeedingSummary> _seedings = [];
    private readonly List<string> _warnings = [];
    private readonly OpenBlocks _open = new();
    private readonly HashSet<string> _changedKeys = new(StringComparer.Ordinal);
    private readonly List<CodeEvent> _code = [];
    private readonly List<DrawEvent> _draws = [];

    /// <summary>How many refused draws are kept for the report (all are counted).</summary>
    private const int KeptDraws = 100;
    private long _unmatchedExits;
    private long _tooDeep;
    private (long Line, int Depth) _firstTooDeep;

    private TraceSummary(TraceReader reader)
    {
        File = reader.File;
        Header = reader.Header;
        Root = new BlockNode("", 1);
        _nodes[""] = Root;
    }

    /// <summary>The file as the user named it.</summary>
    public string File { get; }

    /// <summary>The <c>trace</c> line.</summary>
    public TraceHeader Header { get; }

    /// <summary>The top level: its children are the outermost blocks, its marks those made outside any block.</summary>
    public BlockNode Root { get; }

    /// <summary>The distinct seedings, in order of first appearance.</summary>
    public IReadOnlyList<SeedingSummary> Seedings => _seedings;

    /// <summary>The first <c>seed</c> event's environment; null when the trace has no <c>seed</c> event.</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; private set; }

    /// <summary>Whether the trace ends with its <c>end</c> event.</summary>
    public bool Complete { get; private set; }

    /// <summary>The events after the <c>trace</c> line.</summary>
    public long Events { get; private set; }

    /// <summary>The last line read.</summary>
    public long LastLine { get; private set; }

    /// <summary>The distinct block paths in the tree (those at most <see cref="MaxTreeDepth"/> deep).</summary>
    public long Paths => _nodes.Count - 1;

    /// <summary>Blocks entered, in all.</summary>
    public long Entered { get; private set; }

    /// <summary>Marks made, in all.</summary>
    public long Marks { get; private set; }

    /// <summary>Exits that carry an output fingerprint (continuing blocks of modules, with tensors traced).</summary>
    public long Outputs { get; private set; }

    /// <summary>The woven assemblies whose code opened blocks, as their <c>code</c> events name them, in order.</summary>
    public IReadOnlyList<CodeEvent> Code => _code;

    /// <summary>Woven calls that ran passively, on threads that do not own the blocks (<c>passive</c> events).</summary>
    public long PassiveCalls { get; private set; }

    /// <summary>Draws from the global generator the library refused, in all.</summary>
    public long DrawCount { get; private set; }

    /// <summary>The first of those draws (up to 100).</summary>
    public IReadOnlyList<DrawEvent> Draws => _draws;

    /// <summary>The blocks still open where the trace ends (a run that stopped early), outermost first.</summary>
    public IReadOnlyList<EnterEvent> OpenAtEnd { get; private set; } = [];

    /// <summary>What was ignored or looks wrong: a last line cut short, unknown events, exits without an entry, a changed environment.</summary>
    public IReadOnlyList<string> Warnings => _warnings;

    /// <summary>Reads the trace file at <paramref name="path"/> to its end.</summary>
    /// <exception cref="TraceFormatException">The file is not a readable trace.</exception>
    public static TraceSummary Read(string path)
    {
        using TraceReader reader = TraceReader.Open(path);
        return Read(reader);
    }

    /// <summary>Reads <paramref name="reader"/>'s remaining events to the end.</summary>
    /// <exception cref="TraceFormatException">A line breaks the format.</exception>
    public static TraceSummary Read(TraceReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var summary = new TraceSummary(reader);
        while (reader.Read() is { } read)
            summary.Add(read);
        summary.Finish(reader);
        return summary;
    }

    private void Add(TraceEvent read)
    {
        switch (read)
        {
            case SeedEvent seed:
                AddSeed(seed);
                break;
            case EnterEvent enter:
                Entered++;
                TreeNode(enter.Path, enter.Line)?.Enter(enter);
                _open.Follow(enter);
                break;
            case ExitEvent exit:
                if (exit.Output is not null)
                    Outputs++;
                if (TreeNode(exit.Path, exit.Line) is { } left)
                    left.Exited++;
                if (_open.Follow(exit) is null && _unmatchedExits++ == 0)
                    _warnings.Add($"{File}:{exit.Line}: an exit of {EventText.Block(exit.Name, exit.Path)} without an open block of that path");
                break;
            case MarkEvent mark:
                Marks++;
                TreeNode(mark.Path, mark.Line)?.Mark(mark);
                break;
            case EnvironmentEvent changed:
                foreach ((string key, string value) in changed.Changed)
                {
                    string? first = Environment is not null && Environment.TryGetValue(key, out string? v) ? v : null;
                    if (_changedKeys.Add(key))
                        _warnings.Add($"{File}:{changed.Line}: the environment changed after SetSeed: {key} {first ?? "absent"} -> {value}");
                }
                break;
            case CodeEvent code:
                _code.Add(code);
                break;
            case PassiveEvent:
                PassiveCalls++;
                break;
            case DrawEvent draw:
                if (DrawCount++ < KeptDraws)
                    _draws.Add(draw);
                if (DrawCount == 1)
                    _warnings.Add($"{File}:{draw.Line}: {draw.Name} drew from torch's global generator ({draw.Reason}, {draw.Detail}), and the library refused it");
                break;
        }
    }

    private void AddSeed(SeedEvent seed)
    {
        int known = _seedings.FindIndex(s => s.RootSeed == seed.RootSeed && s.Derivation == seed.Derivation);
        if (known >= 0)
            _seedings[known] = _seedings[known] with { Count = _seedings[known].Count + 1 };
        else
            _seedings.Add(new SeedingSummary(seed.RootSeed, seed.Derivation, 1, seed.Line));
        if (Environment is null)
        {
            Environment = seed.Environment;
            return;
        }
        // Seeding keys change with every new seed on purpose: not an environment change.
        foreach ((string key, string value) in seed.Environment)
        {
            string? first = Environment.TryGetValue(key, out string? v) ? v : null;
            if (!string.Equals(first, value, StringComparison.Ordinal) && key is not ("RootSeed" or "Derivation") && _changedKeys.Add(key))
                _warnings.Add($"{File}:{seed.Line}: the environment changed since the first seed event: {key} {first ?? "absent"} -> {value}");
        }
    }

    /// <summary>
    /// The node for <paramref name="path"/>, made (with any missing parents) on first sight; null for a path deeper than
    /// <see cref="MaxTreeDepth"/>, which is counted for the warning and makes its ancestors down to that depth.
    /// </summary>
    private BlockNode? TreeNode(string path, long line)
    {
        if (_nodes.TryGetValue(path, out BlockNode? known))
            return known;
        int depth = path.AsSpan().Count('/') + 1;
        if (depth <= MaxTreeDepth)
            return NodeAt(path, line);
        if (_tooDeep++ == 0)
            _firstTooDeep = (line, depth);
        int end = -1;
        for (int level = 0; level < MaxTreeDepth; level++)
            end = path.IndexOf('/', end + 1);
        NodeAt(path[..end], line);
        return null;
    }

    /// <summary>The node for <paramref name="path"/>, made with any missing parents, outermost first: a loop, as paths can be deep.</summary>
    private BlockNode NodeAt(string path, long line)
    {
        if (_nodes.TryGetValue(path, out BlockNode? node))
            return node;
        // Up to the nearest ancestor that exists (the root at worst), then down, making each level.
        var missing = new Stack<string>();
        BlockNode parent = Root;
        for (string at = path; ;)
        {
            missing.Push(at);
            int slash = at.LastIndexOf('/');
            if (slash < 0)
                break;
            at = at[..slash];
            if (_nodes.TryGetValue(at, out BlockNode? ancestor))
            {
                parent = ancestor;
                break;
            }
        }
        while (missing.TryPop(out string? make))
        {
            node = new BlockNode(make, line);
            parent.AddChild(node);
            _nodes[make] = node;
            parent = node;
        }
        return node!;
    }

    private void Finish(TraceReader reader)
    {
        Complete = reader.IsComplete;
        Events = reader.EventCount;
        LastLine = reader.LastLine;
        OpenAtEnd = _open.ToList();
        if (_tooDeep > 0)
        {
            _warnings.Add($"{File}:{_firstTooDeep.Line}: a path {_firstTooDeep.Depth.ToString(CultureInfo.InvariantCulture)} blocks deep: " +
                $"the tree stops at {MaxTreeDepth} levels and leaves out the {_tooDeep.ToString(CultureInfo.InvariantCulture)} " +
                $"event{(_tooDeep == 1 ? "" : "s")} below them (this is the first)");
        }
        if (_unmatchedExits > 1)
            _warnings.Add($"{File}: {_unmatchedExits.ToString(CultureInfo.InvariantCulture)} exits in all without an open block of their path");
        _warnings.InsertRange(0, reader.Warnings);
    }
}
