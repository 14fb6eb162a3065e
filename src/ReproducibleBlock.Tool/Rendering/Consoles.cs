using System;
using System.IO;
using System.Text.Encodings.Web;
using System.Text.Json;
using Spectre.Console;

namespace ReproducibleBlock.Tool.Rendering;

/// <summary>The outputs renderers write to.</summary>
internal static class Consoles
{
    /// <summary>Width for output that goes to a file or a pipe (or a test's writer): wide enough that no line wraps.</summary>
    public const int RedirectedWidth = 1000;

    /// <summary>
    /// A Spectre.Console console writing to <paramref name="writer"/>: colours and the terminal's width when it is the
    /// process's own standard output on a terminal; plain text without wrapping otherwise, so output compares and greps.
    /// </summary>
    public static IAnsiConsole For(TextWriter writer)
    {
        bool terminal = ReferenceEquals(writer, Console.Out) && !Console.IsOutputRedirected;
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        if (!terminal)
            console.Profile.Width = RedirectedWidth;
        return console;
    }

    /// <summary>Writes one JSON object to <paramref name="writer"/>, indented, with a newline after it.</summary>
    public static void WriteJson(TextWriter writer, Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        var options = new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        using (var json = new Utf8JsonWriter(buffer, options))
            write(json);
        writer.Write(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
        writer.Write('\n');
        writer.Flush();
    }

    /// <summary>Writes a number or null.</summary>
    public static void WriteNumberOrNull(this Utf8JsonWriter json, string name, long? value)
    {
        if (value is { } v)
            json.WriteNumber(name, v);
        else
            json.WriteNull(name);
    }
}
