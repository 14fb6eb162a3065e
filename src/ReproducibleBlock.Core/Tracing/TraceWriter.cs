using System;
using System.Buffers;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text.Json;

namespace ReproducibleBlock.Tracing;

/// <summary>
/// Writes a trace: JSON Lines (format 2, described in the README's "Trace format" section) into a buffer that goes to the file in batches, at each
/// seed event and when the trace ends, so a run that crashes leaves a prefix of whole lines.
/// </summary>
/// <remarks>
/// Not thread-safe by itself: the runtime calls it under its lock. Format 2 added to format 1 the <c>tensors</c> header
/// property, <c>exit</c>'s <c>output</c>, <c>seed</c>'s <c>restored</c>/<c>path</c>/<c>state</c>, and the
/// <c>environment</c>, <c>code</c>, <c>passive</c> and <c>draw</c> events; a continuing block of a module is named by its
/// path in the model tree.
/// </remarks>
internal sealed class TraceWriter : IDisposable
{
    public const int Format = 2;
    private const int BatchBytes = 64 * 1024;

    private readonly FileStream _file;
    private readonly ArrayBufferWriter<byte> _buffer = new(BatchBytes + 4096);
    private readonly Utf8JsonWriter _json;
    private long _seq;

    /// <summary>Creates (or replaces) the file at <paramref name="path"/>, held exclusively, and writes the first line.</summary>
    /// <param name="path">The file.</param>
    /// <param name="tensors">Whether modules' output tensors are fingerprinted (the header says so, for <c>diff</c>).</param>
    public TraceWriter(string path, bool tensors = false)
    {
        Path = path;
        string? folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (folder is not null)
            Directory.CreateDirectory(folder);
        _file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 1, FileOptions.None); // readable while written (Windows)
        _json = new Utf8JsonWriter(_buffer, new JsonWriterOptions { SkipValidation = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        _json.WriteStartObject();
        _json.WriteString("ev", "trace");
        _json.WriteNumber("format", Format);
        _json.WriteString("library", LibraryVersion);
        _json.WriteNumber("pid", Environment.ProcessId);
        _json.WriteString("started", DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
        _json.WriteBoolean("tensors", tensors);
        EndEvent(flush: true);
    }

    public string Path { get; }

    public bool IsClosed { get; private set; }

    internal static string LibraryVersion { get; } = ReproducibleEnvironment.VersionOf(typeof(TraceWriter).Assembly);

    public void Seed(long rootSeed, BlockDerivation derivation, IEnumerable<(string Name, string Value)> environment) =>
        Seed(rootSeed, derivation, environment, restored: null, path: "", state: default);

    /// <summary>A seed event; for a snapshot put back, <paramref name="restored"/> (Restore or Resume), where, and the state it left.</summary>
    public void Seed(long rootSeed, BlockDerivation derivation, IEnumerable<(string Name, string Value)> environment, string? restored, string path, in Fingerprint state)
    {
        Begin("seed");
        _json.WriteNumber("rootSeed", rootSeed);
        _json.WriteString("derivation", derivation.ToString());
        _json.WriteStartObject("environment");
        foreach ((string name, string value) in environment)
            _json.WriteString(name, value);
        _json.WriteEndObject();
        if (restored is not null)
        {
            _json.WriteString("restored", restored);
            _json.WriteString("path", path);
            Write("state", state);
        }
        EndEvent(flush: true);
    }

    /// <summary>Values of the environment record that changed since the last seed or environment event.</summary>
    public void EnvironmentChanged(string path, IEnumerable<(string Name, string Value)> changed)
    {
        Begin("environment");
        _json.WriteString("path", path);
        _json.WriteStartObject("changed");
        foreach ((string name, string value) in changed)
            _json.WriteString(name, value);
        _json.WriteEndObject();
        EndEvent(flush: false);
    }

    /// <summary>The identity of a woven assembly, before its first event.</summary>
    public void Code(string assembly, string version, Guid mvid)
    {
        Begin("code");
        _json.WriteString("assembly", assembly);
        _json.WriteString("version", version);
        _json.WriteString("mvid", mvid.ToString("D", CultureInfo.InvariantCulture));
        EndEvent(flush: false);
    }

    /// <summary>A woven call that ran passively on a thread that does not own the blocks, at its end.</summary>
    public void Passive(string path, string name, int thread, string? threadName, string reason)
    {
        Begin("passive");
        Where(path, name);
        WriteThread(thread, threadName);
        _json.WriteString("reason", reason);
        EndEvent(flush: false);
    }

    /// <summary>A draw from the global generator that the library refused; flushed, as the refusal may end the process.</summary>
    public void Draw(string path, string name, int thread, string? threadName, string reason, string detail)
    {
        Begin("draw");
        Where(path, name);
        WriteThread(thread, threadName);
        _json.WriteString("reason", reason);
        _json.WriteString("detail", detail);
        EndEvent(flush: true);
    }

    public void Enter(string path, string? name, string kind, bool restore, in Fingerprint before, in Fingerprint state)
    {
        Begin("enter");
        Where(path, name);
        _json.WriteString("kind", kind);
        _json.WriteBoolean("restore", restore);
        Write("before", before);
        Write("state", state);
        EndEvent(flush: false);
    }

    public void Exit(string path, string? name, in Fingerprint state, ulong? output = null)
    {
        Begin("exit");
        Where(path, name);
        Write("state", state);
        if (output is { } tensors)
        {
            Span<char> hex = stackalloc char[16];
            _json.WriteString("output", Hex(tensors, hex));
        }
        EndEvent(flush: false);
    }

    public void Mark(string path, string name, ulong fingerprint)
    {
        Begin("mark");
        Where(path, name);
        Span<char> hex = stackalloc char[16];
        _json.WriteString("fingerprint", Hex(fingerprint, hex));
        EndEvent(flush: false);
    }

    /// <summary>Writes the <c>end</c> line and closes the file.</summary>
    public void End()
    {
        if (IsClosed)
            return;
        Begin("end");
        EndEvent(flush: true);
        Dispose();
    }

    /// <summary>Writes what is buffered, without ending the trace (the process may still go on, or be dying).</summary>
    public void Flush()
    {
        if (IsClosed || _buffer.WrittenCount == 0)
            return;
        _file.Write(_buffer.WrittenSpan);
        _file.Flush();
        _buffer.ResetWrittenCount();
    }

    /// <summary>Closes the file after writing what is buffered; a trace closed this way has no <c>end</c> line.</summary>
    public void Dispose()
    {
        if (IsClosed)
            return;
        Flush();
        IsClosed = true;
        _json.Dispose();
        _file.Dispose();
    }

    private void Begin(string ev)
    {
        _json.WriteStartObject();
        _json.WriteString("ev", ev);
        _json.WriteNumber("seq", _seq++);
    }

    private void Where(string path, string? name)
    {
        _json.WriteString("path", path);
        if (name is null)
            _json.WriteNull("name");
        else
            _json.WriteString("name", name);
    }

    private void WriteThread(int thread, string? name)
    {
        _json.WriteNumber("thread", thread);
        if (name is null)
            _json.WriteNull("threadName");
        else
            _json.WriteString("threadName", name);
    }

    private void Write(string property, in Fingerprint fingerprint)
    {
        Span<char> hex = stackalloc char[16];
        _json.WriteStartObject(property);
        _json.WriteString("cpu", Hex(fingerprint.Cpu, hex));
        _json.WriteString("managed", Hex(fingerprint.Managed, hex));
        if (fingerprint.Cuda is { } cuda)
            _json.WriteString("cuda", Hex(cuda, hex));
        else
            _json.WriteNull("cuda");
        _json.WriteEndObject();
    }

    private static ReadOnlySpan<char> Hex(ulong value, Span<char> destination)
    {
        value.TryFormat(destination, out int written, "x16", CultureInfo.InvariantCulture);
        return destination[..written];
    }

    private void EndEvent(bool flush)
    {
        _json.WriteEndObject();
        _json.Flush();
        _json.Reset();
        _buffer.Write("\n"u8);
        if (flush || _buffer.WrittenCount >= BatchBytes)
            Flush();
    }
}
