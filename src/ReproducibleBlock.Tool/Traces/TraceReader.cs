using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace ReproducibleBlock.Tool.Traces;

/// <summary>
/// Reads a trace (the README's trace format) one event at a time and checks each line against the format: a trace of a
/// million events streams through, with no line's text kept after it is read.
/// </summary>
/// <remarks>
/// The <c>trace</c> line is read when the reader is created. Anything that breaks the format throws a
/// <see cref="TraceFormatException"/> naming the file, the line and what is wrong. A last line cut short (no newline at
/// the end, and not complete JSON: the run stopped while writing it) is ignored with a warning, and so are events of a
/// kind this reader does not know; properties it does not know are ignored silently, as the format says.
/// </remarks>
public sealed class TraceReader : IDisposable
{
    /// <summary>The newest format version this reader knows; it reads every format from 1 up to it.</summary>
    public const int KnownFormat = 2;

    private readonly Stream _stream;
    private readonly Utf8LineReader _lines;
    private readonly List<string> _warnings = [];
    private long _line;
    private long _nextSeq;
    private bool _finished;
    private long _unknownEvents;

    /// <summary>Reads a trace from <paramref name="stream"/>, starting with its <c>trace</c> line.</summary>
    /// <param name="stream">The trace's bytes; the reader disposes it.</param>
    /// <param name="file">The name used in messages: the file as the user named it.</param>
    /// <exception cref="TraceFormatException">The first line is not a <c>trace</c> event of a known format.</exception>
    public TraceReader(Stream stream, string file)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
        File = file ?? throw new ArgumentNullException(nameof(file));
        _lines = new Utf8LineReader(stream);
        try
        {
            Header = ReadHeader();
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>The name used in messages.</summary>
    public string File { get; }

    /// <summary>The <c>trace</c> line.</summary>
    public TraceHeader Header { get; }

    /// <summary>Whether the <c>end</c> event was read: the trace is complete.</summary>
    public bool IsComplete { get; private set; }

    /// <summary>The events read so far after the <c>trace</c> line, events of unknown kinds included.</summary>
    public long EventCount => _nextSeq;

    /// <summary>The number of the last line read (ignored lines included).</summary>
    public long LastLine => _line;

    /// <summary>What was ignored: a last line cut short, events of unknown kinds. Each names the file and line.</summary>
    public IReadOnlyList<string> Warnings => _warnings;

    /// <summary>Opens the trace file at <paramref name="path"/> and reads its <c>trace</c> line.</summary>
    /// <param name="path">The file; it is also the name used in messages.</param>
    /// <exception cref="TraceFormatException">The file cannot be read, or does not start with a <c>trace</c> line of a known format.</exception>
    public static TraceReader Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        FileStream stream;
        try
        {
            if (Directory.Exists(path))
                throw new TraceFormatException(path, null, "is a directory, not a trace file");
            // A run may still be writing the trace: share it for writing.
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 64 * 1024,
                FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new TraceFormatException(path, null, "no such file", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new TraceFormatException(path, null, $"cannot be read: {e.Message}", e);
        }
        return new TraceReader(stream, path);
    }

    /// <summary>Reads the next event.</summary>
    /// <returns>The event, or null at the end of the trace (after its <c>end</c> event, or where a run that stopped early left off).</returns>
    /// <exception cref="TraceFormatException">A line breaks the format.</exception>
    public TraceEvent? Read()
    {
        while (!_finished)
        {
            if (!NextLine(out ReadOnlyMemory<byte> text, out bool terminated))
            {
                _finished = true;
                break;
            }
            using JsonDocument? document = Parse(text, terminated);
            if (document is null)
            {
                _finished = true; // a last line cut short
                break;
            }
            if (IsComplete)
                throw Error("an event after the end event: a complete trace ends with its end event");
            TraceEvent? read = ReadEvent(document.RootElement);
            if (read is not null)
                return read;
        }
        return null;
    }

    /// <summary>Reads every remaining event.</summary>
    /// <exception cref="TraceFormatException">A line breaks the format.</exception>
    public IEnumerable<TraceEvent> ReadAll()
    {
        while (Read() is { } read)
            yield return read;
    }

    /// <summary>Closes the file.</summary>
    public void Dispose() => _stream.Dispose();

    private TraceHeader ReadHeader()
    {
        if (!NextLine(out ReadOnlyMemory<byte> text, out bool terminated))
            throw new TraceFormatException(File, null, "is empty: a trace starts with a trace line");
        using JsonDocument document = Parse(text, terminated)
            ?? throw Error("the first line is cut short (no newline at its end, and not complete JSON): not a trace");
        JsonElement root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
            throw Error($"the first line must be a trace event, a JSON object, not {Describe(root)}");
        if (!root.TryGetProperty("ev", out JsonElement ev))
            throw Error("the first line has no 'ev' property: a trace starts with a trace event");
        if (ev.ValueKind != JsonValueKind.String || ev.GetString() != "trace")
            throw Error($"the first line must be a trace event, not {(ev.ValueKind == JsonValueKind.String ? $"'{ev.GetString()}'" : Describe(ev))}");
        var line = new LineObject(this, root, "trace");
        long format = line.Integer("format");
        if (format is < 1 or > KnownFormat)
            throw Error($"unknown trace format {format}: this reader knows formats 1 to {KnownFormat} " +
                "(a newer ReproducibleBlock wrote it: update reproducible-block)");
        string library = line.String("library");
        long pid = line.Integer("pid");
        string started = line.String("started");
        if (!DateTimeOffset.TryParse(started, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out _))
            throw Error($"trace event: 'started' must be a UTC time in ISO 8601, not \"{started}\"");
        return new TraceHeader((int)format, library, pid, started, line.OptionalBoolean("tensors") ?? false);
    }

    private TraceEvent? ReadEvent(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw Error($"an event must be a JSON object, not {Describe(root)}");
        if (!root.TryGetProperty("ev", out JsonElement evElement))
            throw Error("property 'ev' is missing: every event names its kind");
        if (evElement.ValueKind != JsonValueKind.String)
            throw Error($"property 'ev' must be a string, not {Describe(evElement)}");
        string ev = evElement.GetString()!;
        var line = new LineObject(this, root, ev);
        long seq = ev == "trace"
            ? throw Error("a second trace event: only the first line is one")
            : line.Integer("seq");
        if (seq != _nextSeq)
            throw Error($"{ev} event: seq is {seq} where {_nextSeq} was expected (a line is missing, repeated or out of order)");
        _nextSeq++;
        switch (ev)
        {
            case "seed":
                string? restored = line.OptionalRestored("restored");
                return new SeedEvent(_line, seq, line.Integer("rootSeed"), line.Derivation("derivation"), line.StringMap("environment"),
                    restored, restored is null ? null : line.String("path"), restored is null ? null : line.Fingerprints("state"));
            case "enter":
                return new EnterEvent(_line, seq, line.String("path"), line.StringOrNull("name"), line.Kind("kind"), line.Boolean("restore"),
                    line.Fingerprints("before"), line.Fingerprints("state"));
            case "exit":
                return new ExitEvent(_line, seq, line.String("path"), line.StringOrNull("name"), line.Fingerprints("state"),
                    line.OptionalFingerprint("output"));
            case "environment":
                return new EnvironmentEvent(_line, seq, line.StringMap("changed"));
            case "code":
                return new CodeEvent(_line, seq, line.String("assembly"), line.String("version"), line.String("mvid"));
            case "passive":
                return new PassiveEvent(_line, seq, line.String("path"), line.String("name"), line.Integer("thread"),
                    line.OptionalString("threadName"), line.String("reason"));
            case "draw":
                return new DrawEvent(_line, seq, line.String("path"), line.String("name"), line.Integer("thread"),
                    line.OptionalString("threadName"), line.String("reason"), line.String("detail"));
            case "mark":
                return new MarkEvent(_line, seq, line.String("path"), line.String("name"), line.Fingerprint("fingerprint"));
            case "end":
                IsComplete = true;
                return new EndEvent(_line, seq);
            default:
                if (_unknownEvents++ == 0)
                    _warnings.Add($"{File}:{_line}: an event of unknown kind '{ev}' (from a newer ReproducibleBlock?): " +
                        "ignored, as are any later events of unknown kinds");
                return null;
        }
    }

    private bool NextLine(out ReadOnlyMemory<byte> text, out bool terminated)
    {
        try
        {
            if (!_lines.TryReadLine(out text, out terminated))
                return false;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            throw new TraceFormatException(File, _line + 1, $"cannot be read: {e.Message}", e);
        }
        _line++;
        if (_line == 1 && text.Span.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
            text = text[3..]; // a UTF-8 byte order mark
        return true;
    }

    /// <summary>The line as JSON; null for a last line cut short, which is ignored with a warning.</summary>
    private JsonDocument? Parse(ReadOnlyMemory<byte> text, bool terminated)
    {
        bool blank = text.Span.Trim((ReadOnlySpan<byte>)" \t\r"u8).IsEmpty;
        try
        {
            // JsonDocument leaves strings unchecked until they are read: check the whole line first.
            if (!Utf8.IsValid(text.Span))
                throw new JsonException($"invalid UTF-8 text at byte {InvalidUtf8At(text.Span) + 1} of the line");
            if (!blank)
            {
                JsonDocument document = JsonDocument.Parse(text);
                // It leaves escapes unchecked too: "\ud800" parses, and reading that string, or searching past it for a
                // property, throws InvalidOperationException. A lone surrogate is no character: refuse the line here.
                if (LoneSurrogateEscapeAt(text.Span) is int at and >= 0)
                {
                    document.Dispose();
                    throw Error($"not Unicode text: {Encoding.ASCII.GetString(text.Span.Slice(at, 6))} at byte {at + 1} of the line " +
                        "escapes half of a UTF-16 surrogate pair without the other half");
                }
                return document;
            }
        }
        catch (JsonException e) when (terminated)
        {
            throw Error($"not JSON: {JsonProblem(e)}", e);
        }
        catch (JsonException)
        {
        }
        if (terminated)
            throw Error("an empty line: every line of a trace is one JSON object");
        _warnings.Add($"{File}:{_line}: the last line is cut short (no newline at its end, and not complete JSON): " +
            "ignored, the run stopped while writing it");
        return null;
    }

    /// <summary>
    /// Where <paramref name="text"/>, a line that parsed as JSON, escapes a lone surrogate: the offset of the backslash of
    /// a <c>\uD800</c>-<c>\uDBFF</c> escape not followed at once by a <c>\uDC00</c>-<c>\uDFFF</c> one, or of a
    /// <c>\uDC00</c>-<c>\uDFFF</c> escape not preceded by one; -1 when there is none. In valid JSON a backslash is always
    /// the start of an escape inside a string, and UTF-8 checked valid holds no surrogates, so escapes are all there is to look at.
    /// </summary>
    private static int LoneSurrogateEscapeAt(ReadOnlySpan<byte> text)
    {
        int high = -1; // a high surrogate's escape, waiting for its low half
        int at = text.IndexOf((byte)'\\');
        while (at >= 0 && at + 1 < text.Length)
        {
            if (text[at + 1] != 'u' || at + 6 > text.Length || !ushort.TryParse(text.Slice(at + 2, 4), NumberStyles.AllowHexSpecifier,
                CultureInfo.InvariantCulture, out ushort unit))
            {
                if (high >= 0)
                    return high;
                at = Next(text, at + 2);
                continue;
            }
            if (char.IsLowSurrogate((char)unit))
            {
                if (high < 0)
                    return at;
                high = -1;
            }
            else if (high >= 0)
            {
                return high;
            }
            else if (char.IsHighSurrogate((char)unit))
            {
                high = at;
            }
            // The low half must be the very next escape: anything else after a high surrogate leaves it alone.
            at = high >= 0 ? (at + 6 < text.Length && text[at + 6] == '\\' ? at + 6 : -1) : Next(text, at + 6);
        }
        return high;

        static int Next(ReadOnlySpan<byte> text, int from)
        {
            if (from >= text.Length)
                return -1;
            int next = text[from..].IndexOf((byte)'\\');
            return next < 0 ? -1 : from + next;
        }
    }

    private static int InvalidUtf8At(ReadOnlySpan<byte> text)
    {
        int at = 0;
        while (at < text.Length && Rune.DecodeFromUtf8(text[at..], out _, out int consumed) == System.Buffers.OperationStatus.Done)
            at += consumed;
        return at;
    }

    private static string JsonProblem(JsonException e)
    {
        string message = e.Message;
        int cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut < 0) cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut >= 0) message = message[..cut];
        return e.BytePositionInLine is { } position ? $"{message.TrimEnd()} (at byte {position + 1} of the line)" : message.TrimEnd();
    }

    private TraceFormatException Error(string problem, Exception? inner = null) => new(File, _line, problem, inner);

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => value.ValueKind.ToString(),
    };

    private static bool IsFingerprint(string text)
    {
        if (text.Length != 16)
            return false;
        foreach (char c in text)
        {
            if (c is not (>= '0' and <= '9' or >= 'a' and <= 'f'))
                return false;
        }
        return true;
    }

    /// <summary>One event's JSON object, with typed reads that name the line, the event and the property in their errors.</summary>
    private readonly struct LineObject(TraceReader reader, JsonElement element, string ev)
    {
        private JsonElement Get(string name, string? parent = null)
        {
            if (!element.TryGetProperty(name, out JsonElement value))
                throw reader.Error($"{ev} event: property '{Qualified(name, parent)}' is missing");
            return value;
        }

        private TraceFormatException WrongType(string name, string expected, JsonElement value, string? parent = null) =>
            reader.Error($"{ev} event: property '{Qualified(name, parent)}' must be {expected}, not {Describe(value)}");

        private static string Qualified(string name, string? parent) => parent is null ? name : $"{parent}.{name}";

        public string String(string name)
        {
            JsonElement value = Get(name);
            return value.ValueKind == JsonValueKind.String ? value.GetString()! : throw WrongType(name, "a string", value);
        }

        public string? StringOrNull(string name)
        {
            JsonElement value = Get(name);
            return value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Null => null,
                _ => throw WrongType(name, "a string or null", value),
            };
        }

        public long Integer(string name)
        {
            JsonElement value = Get(name);
            if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out long integer))
                return integer;
            throw value.ValueKind == JsonValueKind.Number
                ? reader.Error($"{ev} event: property '{name}' must be an integer (64-bit), not {value.GetRawText()}")
                : WrongType(name, "an integer", value);
        }

        /// <summary>A property that may be absent (a later addition): its value, or null when it is absent or null.</summary>
        private JsonElement? Optional(string name) =>
            element.TryGetProperty(name, out JsonElement value) && value.ValueKind != JsonValueKind.Null ? value : null;

        public bool? OptionalBoolean(string name) => Optional(name) switch
        {
            null => null,
            { ValueKind: JsonValueKind.True } => true,
            { ValueKind: JsonValueKind.False } => false,
            { } other => throw WrongType(name, "true or false", other),
        };

        public string? OptionalString(string name) => Optional(name) switch
        {
            null => null,
            { ValueKind: JsonValueKind.String } text => text.GetString(),
            { } other => throw WrongType(name, "a string or null", other),
        };

        public string? OptionalFingerprint(string name) => OptionalString(name) switch
        {
            null => null,
            string text when IsFingerprint(text) => text,
            string text => throw reader.Error($"{ev} event: property '{name}' must be 16 lowercase hex digits or null, not \"{text}\""),
        };

        public string? OptionalRestored(string name) => OptionalString(name) switch
        {
            null => null,
            "Restore" => "Restore",
            "Resume" => "Resume",
            string text => throw reader.Error($"{ev} event: property '{name}' must be \"Restore\", \"Resume\" or null, not \"{text}\""),
        };

        public bool Boolean(string name)
        {
            JsonElement value = Get(name);
            return value.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw WrongType(name, "true or false", value),
            };
        }

        public BlockKind Kind(string name)
        {
            string text = String(name);
            return BlockKinds.TryParse(text, out BlockKind kind)
                ? kind
                : throw reader.Error($"{ev} event: property '{name}' must be \"block\", \"instance\", \"continuing\", \"member\" or \"site\", not \"{text}\"");
        }

        public string Derivation(string name)
        {
            string text = String(name);
            return text is "Keyed" or "ResetAndAdvance"
                ? text
                : throw reader.Error($"{ev} event: property '{name}' must be \"Keyed\" or \"ResetAndAdvance\", not \"{text}\"");
        }

        public string Fingerprint(string name)
        {
            string text = String(name);
            return IsFingerprint(text)
                ? text
                : throw reader.Error($"{ev} event: property '{name}' must be 16 lowercase hex digits, not \"{text}\"");
        }

        public IReadOnlyDictionary<string, string> StringMap(string name)
        {
            JsonElement value = Get(name);
            if (value.ValueKind != JsonValueKind.Object)
                throw WrongType(name, "an object of strings", value);
            var map = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (JsonProperty property in value.EnumerateObject())
            {
                if (property.Value.ValueKind != JsonValueKind.String)
                    throw WrongType(property.Name, "a string", property.Value, name);
                map[property.Name] = property.Value.GetString()!;
            }
            return map;
        }

        public GeneratorFingerprints Fingerprints(string name)
        {
            JsonElement value = Get(name);
            if (value.ValueKind != JsonValueKind.Object)
                throw WrongType(name, "an object {\"cpu\", \"managed\", \"cuda\"}", value);
            var inner = new LineObject(reader, value, ev);
            return new GeneratorFingerprints(
                inner.FingerprintOrNull("cpu", name), inner.FingerprintOrNull("managed", name), inner.FingerprintOrNull("cuda", name));
        }

        private string? FingerprintOrNull(string name, string parent)
        {
            JsonElement value = Get(name, parent);
            switch (value.ValueKind)
            {
                case JsonValueKind.Null:
                    return null;
                case JsonValueKind.String when IsFingerprint(value.GetString()!):
                    return value.GetString();
                case JsonValueKind.String:
                    throw reader.Error(
                        $"{ev} event: property '{parent}.{name}' must be 16 lowercase hex digits or null, not \"{value.GetString()}\"");
                default:
                    throw WrongType(name, "a string of 16 lowercase hex digits or null", value, parent);
            }
        }
    }
}
