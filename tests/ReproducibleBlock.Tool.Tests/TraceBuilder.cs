using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;

namespace ReproducibleBlock.Tool.Tests;

/// <summary>The generators' fingerprints in an event: what the builder writes as <c>{"cpu": ..., "managed": ..., "cuda": ...}</c>.</summary>
internal sealed record States(string? Cpu, string? Managed, string? Cuda = null)
{
    /// <summary>Fingerprints made from a tag: the same tag gives the same states, another tag others.</summary>
    public static States Of(string tag) => new(Fp.Of(tag + "/cpu"), Fp.Of(tag + "/managed"));

    /// <summary>These states with another CPU fingerprint only.</summary>
    public States WithCpu(string tag) => this with { Cpu = Fp.Of(tag) };

    /// <summary>How the tool prints them.</summary>
    public override string ToString() => $"cpu {Cpu ?? "none"}, managed {Managed ?? "none"}, cuda {Cuda ?? "none"}";
}

/// <summary>Fingerprints for tests: 16 lowercase hex digits from a tag (FNV-1a 64), so tests name states, not hex.</summary>
internal static class Fp
{
    public static string Of(string tag)
    {
        ulong hash = 14695981039346656037UL;
        foreach (char c in tag)
        {
            hash ^= c;
            hash *= 1099511628211UL;
        }
        return hash.ToString("x16", CultureInfo.InvariantCulture);
    }
}

/// <summary>
/// Writes trace files event by event as the README's trace format specifies (one JSON object per line, <c>\n</c> after each,
/// <c>seq</c> counting from 0 after the <c>trace</c> line), and remembers each event's line number for the assertions.
/// </summary>
internal sealed class TraceBuilder
{
    public static readonly IReadOnlyDictionary<string, string> DefaultEnvironment = new Dictionary<string, string>
    {
        ["ReproducibleBlockVersion"] = "0.2.0",
        ["LibTorchVersion"] = "2.10.0",
        ["CpuCapability"] = "AVX2",
        ["CpuVendor"] = "AuthenticAMD",
        ["TorchThreads"] = "2",
    };

    private readonly StringBuilder _text = new();
    private long _seq;

    /// <summary>Starts a trace with its <c>trace</c> line (line 1); <paramref name="tensors"/> (format 2) says outputs are traced.</summary>
    public TraceBuilder(string library = "0.2.0", int format = 1, bool? tensors = null)
    {
        Line(Json(w =>
        {
            w.WriteString("ev", "trace");
            w.WriteNumber("format", format);
            w.WriteString("library", library);
            w.WriteNumber("pid", 4211);
            w.WriteString("started", "2026-11-27T13:02:11.532Z");
            if (tensors is { } traced)
                w.WriteBoolean("tensors", traced);
        }));
    }

    /// <summary>A format 2 trace, as ReproducibleBlock 0.3 writes it, with output tensors traced or not.</summary>
    public static TraceBuilder Format2(bool tensors = true) => new("0.3.0", format: 2, tensors);

    /// <summary>The number of lines written so far: the line number of the last event.</summary>
    public int Lines { get; private set; }

    /// <summary>The trace's text.</summary>
    public string Text => _text.ToString();

    /// <summary>
    /// A <c>seed</c> event. Its environment ends with <c>RootSeed</c> and <c>Derivation</c>, as the library's
    /// (<c>ReproducibleEnvironment.ToPairs()</c> of a seeded runtime) does.
    /// </summary>
    public TraceBuilder Seed(long rootSeed = 42, string derivation = "Keyed", IReadOnlyDictionary<string, string>? environment = null) =>
        Event("seed", w =>
        {
            w.WriteNumber("rootSeed", rootSeed);
            w.WriteString("derivation", derivation);
            w.WriteStartObject("environment");
            foreach ((string key, string value) in environment ?? DefaultEnvironment)
                w.WriteString(key, value);
            w.WriteString("RootSeed", rootSeed.ToString(CultureInfo.InvariantCulture));
            w.WriteString("Derivation", derivation);
            w.WriteEndObject();
        });

    /// <summary>A <c>seed</c> event whose environment is the default one with <paramref name="key"/> set to <paramref name="value"/>.</summary>
    public TraceBuilder SeedWith(string key, string value, long rootSeed = 42, string derivation = "Keyed")
    {
        var environment = DefaultEnvironment.ToDictionary(p => p.Key, p => p.Value);
        environment[key] = value;
        return Seed(rootSeed, derivation, environment);
    }

    /// <summary>An <c>enter</c> event.</summary>
    public TraceBuilder Enter(string path, string? name, States before, States state, string kind = "block", bool restore = true) =>
        Event("enter", w =>
        {
            w.WriteString("path", path);
            w.WriteString("name", name);
            w.WriteString("kind", kind);
            w.WriteBoolean("restore", restore);
            WriteStates(w, "before", before);
            WriteStates(w, "state", state);
        });

    /// <summary>An <c>exit</c> event, with an <c>output</c> fingerprint when <paramref name="output"/> is given.</summary>
    public TraceBuilder Exit(string path, string? name, States state, string? output = null) =>
        Event("exit", w =>
        {
            w.WriteString("path", path);
            w.WriteString("name", name);
            WriteStates(w, "state", state);
            if (output is not null)
                w.WriteString("output", output);
        });

    /// <summary>
    /// A continuing block of a module entered and left, its exit with the output fingerprint Fp.Of(<paramref name="outputTag"/>):
    /// states from the path and <paramref name="call"/>, the same in every trace built with the same arguments.
    /// </summary>
    /// <remarks>A null <paramref name="outputTag"/> writes no output, as a run that does not trace tensors.</remarks>
    public TraceBuilder Module(string path, string name, string? outputTag, int call = 1, string? exitTag = null) =>
        Enter(path, name, States.Of($"before {path} {call}"), States.Of($"enter {path} {call}"), "continuing", restore: true)
            .Exit(path, name, States.Of(exitTag ?? $"exit {path} {call}"), outputTag is null ? null : Fp.Of(outputTag));

    /// <summary>A <c>code</c> event (format 2).</summary>
    public TraceBuilder Code(string assembly, string mvid, string version = "1.0.0.0") =>
        Event("code", w =>
        {
            w.WriteString("assembly", assembly);
            w.WriteString("version", version);
            w.WriteString("mvid", mvid);
        });

    /// <summary>An <c>environment</c> event (format 2): <paramref name="key"/> changed to <paramref name="value"/>.</summary>
    public TraceBuilder EnvironmentChange(string key, string value) =>
        Event("environment", w =>
        {
            w.WriteStartObject("changed");
            w.WriteString(key, value);
            w.WriteEndObject();
        });

    /// <summary>A <c>passive</c> event (format 2).</summary>
    public TraceBuilder Passive(string path, string name, long thread = 7, string reason = "Fork") =>
        Event("passive", w =>
        {
            w.WriteString("path", path);
            w.WriteString("name", name);
            w.WriteNumber("thread", thread);
            w.WriteNull("threadName");
            w.WriteString("reason", reason);
        });

    /// <summary>A <c>draw</c> event (format 2).</summary>
    public TraceBuilder Draw(string path, string name, string detail, long thread = 9, string reason = "DataLoading") =>
        Event("draw", w =>
        {
            w.WriteString("path", path);
            w.WriteString("name", name);
            w.WriteNumber("thread", thread);
            w.WriteString("threadName", ".NET TP Worker");
            w.WriteString("reason", reason);
            w.WriteString("detail", detail);
        });

    /// <summary>A <c>seed</c> event of a snapshot put back (format 2): <c>Restore</c> or <c>Resume</c>, with the state it left.</summary>
    public TraceBuilder Restored(string how, States state, string path = "", long rootSeed = 42, string derivation = "Keyed") =>
        Event("seed", w =>
        {
            w.WriteNumber("rootSeed", rootSeed);
            w.WriteString("derivation", derivation);
            w.WriteStartObject("environment");
            foreach ((string key, string value) in DefaultEnvironment)
                w.WriteString(key, value);
            w.WriteEndObject();
            w.WriteString("restored", how);
            w.WriteString("path", path);
            WriteStates(w, "state", state);
        });

    /// <summary>
    /// A block entered and left: enter with <c>before</c> = States.Of("before " + path) and <c>state</c> =
    /// States.Of(<paramref name="enterTag"/>), exit with States.Of(<paramref name="exitTag"/>). Tags default from the path.
    /// </summary>
    public TraceBuilder Block(string path, string? name, string? enterTag = null, string? exitTag = null, string kind = "block",
        bool restore = true, string? beforeTag = null) =>
        Enter(path, name, States.Of(beforeTag ?? "before " + path), States.Of(enterTag ?? "enter " + path), kind, restore)
            .Exit(path, name, States.Of(exitTag ?? "exit " + path));

    /// <summary>A <c>mark</c> event.</summary>
    public TraceBuilder Mark(string path, string name, string fingerprint) =>
        Event("mark", w =>
        {
            w.WriteString("path", path);
            w.WriteString("name", name);
            w.WriteString("fingerprint", fingerprint);
        });

    /// <summary>The <c>end</c> event.</summary>
    public TraceBuilder End() => Event("end", _ => { });

    /// <summary>A line written as given (a broken one, for the reader's checks), with its newline.</summary>
    public TraceBuilder Raw(string line)
    {
        Line(line);
        return this;
    }

    /// <summary>Text at the end of the file without a newline: a last line cut short.</summary>
    public TraceBuilder CutShort(string text)
    {
        _text.Append(text);
        Lines++;
        return this;
    }

    /// <summary>Writes the trace into <paramref name="directory"/> and returns the file's path.</summary>
    public string WriteTo(string directory, string name)
    {
        string path = Path.Combine(directory, name);
        File.WriteAllText(path, Text, new UTF8Encoding(false));
        return path;
    }

    private TraceBuilder Event(string ev, Action<Utf8JsonWriter> properties)
    {
        long seq = _seq++;
        Line(Json(w =>
        {
            w.WriteString("ev", ev);
            w.WriteNumber("seq", seq);
            properties(w);
        }));
        return this;
    }

    private void Line(string json)
    {
        _text.Append(json).Append('\n');
        Lines++;
    }

    private static void WriteStates(Utf8JsonWriter w, string name, States states)
    {
        w.WriteStartObject(name);
        w.WriteString("cpu", states.Cpu);
        w.WriteString("managed", states.Managed);
        w.WriteString("cuda", states.Cuda);
        w.WriteEndObject();
    }

    private static string Json(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            write(writer);
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
