using System;
using System.Collections.Generic;

namespace ReproducibleBlock.Tool.Traces;

/// <summary>
/// The blocks entered and not yet left, as a trace's events open and close them. Exits are matched by path (the latest
/// open block with that path), so blocks of several threads, interleaved in one trace, pair up as well.
/// </summary>
internal sealed class OpenBlocks
{
    private readonly List<EnterEvent> _open = [];
    private readonly IEqualityComparer<string> _paths;

    /// <summary>Open blocks matched by path, compared ordinally.</summary>
    public OpenBlocks()
        : this(StringComparer.Ordinal)
    {
    }

    /// <summary>Open blocks matched by <paramref name="paths"/>: it must compare ordinally; tests pass one that counts its calls.</summary>
    internal OpenBlocks(IEqualityComparer<string> paths) => _paths = paths;

    /// <summary>How many blocks are open.</summary>
    public int Count => _open.Count;

    /// <summary>The block entered last that is still open; null when none is.</summary>
    public EnterEvent? Innermost => _open.Count == 0 ? null : _open[^1];

    /// <summary>Follows one event: an enter opens a block, an exit closes the latest open one with its path.</summary>
    /// <returns>For an exit, the enter it closes; null for an exit with no open block of its path, and for other events.</returns>
    public EnterEvent? Follow(TraceEvent read)
    {
        switch (read)
        {
            case EnterEvent enter:
                _open.Add(enter);
                return null;
            case ExitEvent exit:
                for (int i = _open.Count - 1; i >= 0; i--)
                {
                    if (_paths.Equals(_open[i].Path, exit.Path))
                    {
                        EnterEvent entered = _open[i];
                        _open.RemoveAt(i);
                        return entered;
                    }
                }
                return null;
            default:
                return null;
        }
    }

    /// <summary>The open blocks, outermost (entered first) first.</summary>
    public IReadOnlyList<EnterEvent> ToList() => _open.ToArray();

    /// <summary>The open block with <paramref name="path"/> entered last; null when none.</summary>
    public EnterEvent? Find(string path)
    {
        for (int i = _open.Count - 1; i >= 0; i--)
        {
            if (_paths.Equals(_open[i].Path, path))
                return _open[i];
        }
        return null;
    }

    /// <summary>Where a trace that stopped here stopped: "outside any block", or its innermost open block.</summary>
    public string DescribeWhere()
    {
        if (Innermost is not { } innermost)
            return "outside any block";
        string others = Count == 1 ? "" : $" ({Count} blocks open)";
        return $"inside {EventText.Block(innermost.Name, innermost.Path)}, entered on line {innermost.Line}{others}";
    }
}
