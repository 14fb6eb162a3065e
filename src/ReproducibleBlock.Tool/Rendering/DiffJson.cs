using System.Text.Json;
using ReproducibleBlock.Tool.Diff;

namespace ReproducibleBlock.Tool.Rendering;

/// <summary><c>diff --json</c>: the comparison as one JSON object, described in the tool's README.</summary>
internal static class DiffJson
{
    public static void Write(Utf8JsonWriter json, TraceDiff diff)
    {
        json.WriteStartObject();
        json.WriteString("result", diff.Same ? "same" : "diverged");
        json.WriteBoolean("complete", diff.Complete);
        json.WriteBoolean("codeDiffers", diff.CodeDiffers);
        json.WriteStartArray("codeChanges");
        foreach (CodeChange change in diff.CodeChanges)
        {
            json.WriteStartObject();
            json.WriteString("assembly", change.Assembly);
            json.WriteString("a", change.A);
            json.WriteString("b", change.B);
            json.WriteNumber("lineA", change.LineA);
            json.WriteNumber("lineB", change.LineB);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        if (diff.Divergence is { } d)
        {
            json.WriteStartObject("divergence");
            json.WriteString("kind", Text(d.Kind));
            json.WriteString("name", d.Name);
            json.WriteString("path", d.Path);
            json.WriteNumberOrNull("lineA", d.LineA);
            json.WriteNumberOrNull("lineB", d.LineB);
            json.WriteString("detail", d.Detail);
            json.WriteString("a", d.A);
            json.WriteString("b", d.B);
            json.WriteString("cause", d.Cause is { } cause ? Text(cause) : null);
            json.WriteNumberOrNull("step", d.Step);
            json.WriteBoolean("followsCodeChange", d.FollowsCodeChange);
            if (d.Environment is { } environment)
            {
                json.WriteStartArray("environment");
                foreach (EnvironmentDifference difference in environment)
                    WriteDifference(json, difference);
                json.WriteEndArray();
            }
            else
            {
                json.WriteNull("environment");
            }
            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("divergence");
        }

        LaterBlocks later = diff.LaterBlocks;
        json.WriteStartObject("laterBlocks");
        json.WriteNumber("agree", later.Agree);
        json.WriteNumber("differ", later.Differ);
        json.WriteNumber("compared", later.Compared);
        json.WriteString("stoppedBy", later.StoppedBy switch
        {
            CountStop.End => "end",
            CountStop.Structure => "structure",
            CountStop.Truncated => "truncated",
            _ => null,
        });
        json.WriteNumberOrNull("stopLineA", later.StopLineA);
        json.WriteNumberOrNull("stopLineB", later.StopLineB);
        json.WriteEndObject();

        json.WriteStartArray("environmentDifferences");
        foreach (EnvironmentDifference difference in diff.EnvironmentDifferences)
            WriteDifference(json, difference);
        json.WriteEndArray();

        json.WriteStartArray("warnings");
        foreach (string warning in diff.Warnings)
            json.WriteStringValue(warning);
        json.WriteEndArray();

        json.WriteStartObject("traces");
        WriteSide(json, "a", diff.A);
        WriteSide(json, "b", diff.B);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WriteDifference(Utf8JsonWriter json, EnvironmentDifference difference)
    {
        json.WriteStartObject();
        json.WriteString("key", difference.Key);
        json.WriteString("a", difference.A);
        json.WriteString("b", difference.B);
        json.WriteEndObject();
    }

    /// <summary>For input that is not a readable trace: <c>{"result": "unreadable", "error": ...}</c>.</summary>
    public static void WriteUnreadable(Utf8JsonWriter json, Traces.TraceFormatException error)
    {
        json.WriteStartObject();
        json.WriteString("result", "unreadable");
        json.WriteString("error", error.Message);
        json.WriteString("file", error.File);
        json.WriteNumberOrNull("line", error.Line);
        json.WriteEndObject();
    }

    private static void WriteSide(Utf8JsonWriter json, string name, TraceSide side)
    {
        json.WriteStartObject(name);
        json.WriteString("file", side.File);
        json.WriteBoolean("complete", side.Complete);
        json.WriteNumber("events", side.Events);
        json.WriteNumber("lastLine", side.LastLine);
        json.WriteString("library", side.Header.Library);
        json.WriteString("derivation", side.Derivation);
        json.WriteNumber("format", side.Header.Format);
        json.WriteBoolean("tensors", side.Header.Tensors);
        json.WriteNumber("passiveCalls", side.PassiveCalls);
        json.WriteNumber("draws", side.Draws);
        json.WriteEndObject();
    }

    public static string Text(DivergenceKind kind) => kind switch
    {
        DivergenceKind.Structure => "structure",
        DivergenceKind.Entry => "entry",
        DivergenceKind.Inside => "inside",
        DivergenceKind.Mark => "mark",
        DivergenceKind.Output => "output",
        DivergenceKind.Draw => "draw",
        _ => "truncated",
    };

    public static string Text(EntryCause cause) => cause switch
    {
        EntryCause.RootSeed => "rootSeed",
        EntryCause.Derivation => "derivation",
        EntryCause.Environment => "environment",
        EntryCause.EnclosingState => "enclosingState",
        EntryCause.StreamState => "streamState",
        EntryCause.Snapshot => "snapshot",
        EntryCause.CodeChange => "codeChange",
        _ => "unexplained",
    };
}
