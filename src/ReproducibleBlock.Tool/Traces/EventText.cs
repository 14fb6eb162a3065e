using System.Globalization;

namespace ReproducibleBlock.Tool.Traces;

/// <summary>Events and their parts in words, for messages and reports.</summary>
internal static class EventText
{
    /// <summary>A block by name and path: <c>Demo.Net..ctor (1#0)</c>.</summary>
    public static string Block(string? name, string path) => $"{name ?? "(unnamed)"} ({Where(path)})";

    /// <summary>A path, or "the top level" for the empty path.</summary>
    public static string Where(string path) => path.Length == 0 ? "the top level" : path;

    /// <summary>What an event does: "enters block X (1#0)", "leaves ...", "marks 'loss' in ...", "ends".</summary>
    public static string Describe(TraceEvent read) => read switch
    {
        EnterEvent e => $"enters {e.Kind.ToText()} {Block(e.Name, e.Path)}{(e.Restore ? "" : ", not restoring")}",
        ExitEvent e => $"leaves {Block(e.Name, e.Path)}",
        MarkEvent e => $"marks '{e.Name}' in {Where(e.Path)}",
        EndEvent => "ends (its end event)",
        SeedEvent { Restored: { } how } e => $"{how.ToLowerInvariant()}s a snapshot seeded with {e.RootSeed.ToString(CultureInfo.InvariantCulture)} ({e.Derivation})",
        SeedEvent e => $"seeds with {e.RootSeed.ToString(CultureInfo.InvariantCulture)} ({e.Derivation})",
        EnvironmentEvent e => $"changes the environment ({string.Join(", ", e.Changed.Keys)})",
        CodeEvent e => $"runs code of {e.Assembly} (MVID {e.Mvid})",
        PassiveEvent e => $"runs {e.Name} passively on thread {e.Thread.ToString(CultureInfo.InvariantCulture)}",
        DrawEvent e => $"refuses a draw of {e.Name} ({e.Detail})",
        _ => read.GetType().Name,
    };

    /// <summary>The event with its line: "line 12: enters block X (1#0)".</summary>
    public static string WithLine(TraceEvent read) => $"line {read.Line}: {Describe(read)}";
}
