using System.Collections.Generic;
using System.Text.Json;
using ReproducibleBlock.Tool.Show;
using ReproducibleBlock.Tool.Traces;

namespace ReproducibleBlock.Tool.Rendering;

/// <summary><c>show --json</c>: the summary as one JSON object, described in the tool's README.</summary>
internal static class ShowJson
{
    public static void Write(Utf8JsonWriter json, TraceSummary summary)
    {
        json.WriteStartObject();
        json.WriteString("file", summary.File);
        json.WriteNumber("format", summary.Header.Format);
        json.WriteString("library", summary.Header.Library);
        json.WriteNumber("pid", summary.Header.Pid);
        json.WriteString("started", summary.Header.Started);
        json.WriteBoolean("tensors", summary.Header.Tensors);
        json.WriteBoolean("complete", summary.Complete);
        json.WriteNumber("events", summary.Events);
        json.WriteNumber("lastLine", summary.LastLine);

        json.WriteStartArray("seeds");
        foreach (SeedingSummary seeding in summary.Seedings)
        {
            json.WriteStartObject();
            json.WriteNumber("rootSeed", seeding.RootSeed);
            json.WriteString("derivation", seeding.Derivation);
            json.WriteNumber("count", seeding.Count);
            json.WriteNumber("firstLine", seeding.FirstLine);
            json.WriteEndObject();
        }
        json.WriteEndArray();

        if (summary.Environment is { } environment)
        {
            json.WriteStartObject("environment");
            foreach (KeyValuePair<string, string> pair in environment)
                json.WriteString(pair.Key, pair.Value);
            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("environment");
        }

        json.WriteNumber("paths", summary.Paths);
        json.WriteNumber("entered", summary.Entered);
        json.WriteNumber("marks", summary.Marks);
        json.WriteNumber("outputs", summary.Outputs);
        json.WriteNumber("passiveCalls", summary.PassiveCalls);
        json.WriteNumber("draws", summary.DrawCount);
        json.WriteStartArray("code");
        foreach (CodeEvent code in summary.Code)
        {
            json.WriteStartObject();
            json.WriteString("assembly", code.Assembly);
            json.WriteString("version", code.Version);
            json.WriteString("mvid", code.Mvid);
            json.WriteNumber("line", code.Line);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        WriteMarks(json, "topLevelMarks", summary.Root);
        json.WriteStartArray("blocks");
        foreach (BlockNode child in summary.Root.Children)
            WriteNode(json, child);
        json.WriteEndArray();

        json.WriteStartArray("openAtEnd");
        foreach (EnterEvent open in summary.OpenAtEnd)
        {
            json.WriteStartObject();
            json.WriteString("path", open.Path);
            json.WriteString("name", open.Name);
            json.WriteNumber("line", open.Line);
            json.WriteEndObject();
        }
        json.WriteEndArray();

        json.WriteStartArray("warnings");
        foreach (string warning in summary.Warnings)
            json.WriteStringValue(warning);
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteNode(Utf8JsonWriter json, BlockNode node)
    {
        json.WriteStartObject();
        json.WriteString("path", node.Path);
        json.WriteString("segment", node.Segment);
        json.WriteNumber("entered", node.Entered);
        json.WriteNumber("exited", node.Exited);
        json.WriteStartArray("entries");
        foreach (BlockEntry entry in node.Entries)
        {
            json.WriteStartObject();
            json.WriteString("name", entry.Name);
            json.WriteString("kind", entry.Kind.ToText());
            json.WriteNumber("entered", entry.Entered);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        WriteMarks(json, "marks", node);
        json.WriteStartArray("children");
        foreach (BlockNode child in node.Children)
            WriteNode(json, child);
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteMarks(Utf8JsonWriter json, string property, BlockNode node)
    {
        json.WriteStartArray(property);
        foreach (MarkSummary mark in node.Marks)
        {
            json.WriteStartObject();
            json.WriteString("name", mark.Name);
            json.WriteNumber("count", mark.Count);
            json.WriteString("lastFingerprint", mark.LastFingerprint);
            json.WriteNumber("firstLine", mark.FirstLine);
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }
}
