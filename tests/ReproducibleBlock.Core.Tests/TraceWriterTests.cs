using System;
using System.Buffers.Binary;
using System.Globalization;
using System.IO;
using System.IO.Hashing;
using System.Linq;
using System.Reflection;
using System.Text.Json;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.State;
using ReproducibleBlock.Tracing;

namespace ReproducibleBlock.Tests;

/// <summary>
/// The trace writer on its own: what each line holds, when lines reach the file (seed events at once, the rest in
/// 64 KB batches), how a trace ends or is only flushed, and the fingerprints, computed here from their definition.
/// </summary>
[TestClass]
public sealed class TraceWriterTests : RuntimeTest
{
    private string _folder = null!;

    [TestInitialize]
    public void NewFolder() => _folder = Path.Combine(Path.GetTempPath(), $"rb-writer-{Guid.NewGuid():N}");

    [TestCleanup]
    public void DeleteFolder()
    {
        BlockTrace.Stop();
        if (Directory.Exists(_folder))
            Directory.Delete(_folder, recursive: true);
    }

    /// <summary>The file as another process would read it while it is being written.</summary>
    private static string[] LinesNow(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    private static string Ev(string line) => JsonDocument.Parse(line).RootElement.GetProperty("ev").GetString()!;

    private static readonly Fingerprint Some = new(1, 2, null);

    [TestMethod]
    public void Header_NamesTheLibraryVersion_AndWhenItStarted_InAFolderItCreates()
    {
        string path = Path.Combine(_folder, "sub", "t.jsonl");
        DateTime before = DateTime.UtcNow.AddSeconds(-1);
        using (var writer = new TraceWriter(path))
        {
            JsonElement header = JsonDocument.Parse(LinesNow(path).Single()).RootElement;
            string expected = typeof(TraceWriter).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion.Split('+')[0];
            Assert.AreEqual(expected, header.GetProperty("library").GetString());
            StringAssert.StartsWith(expected, "0.3.0");
            DateTime started = DateTime.ParseExact(header.GetProperty("started").GetString()!, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
            Assert.IsTrue(started >= before && started <= DateTime.UtcNow.AddSeconds(1), started.ToString("O"));
        }
    }

    [TestMethod]
    public void SeedEvents_ReachTheFileAtOnce_OtherEventsInBatches_AndEndWritesTheRest()
    {
        string path = Path.Combine(_folder, "t.jsonl");
        var writer = new TraceWriter(path);
        writer.Seed(42, BlockDerivation.Keyed, [("Key", "Value")]);
        CollectionAssert.AreEqual(new[] { "trace", "seed" }, LinesNow(path).Select(Ev).ToArray(), "a seed event is flushed at once");

        writer.Enter("1#0", "N.T.M", "block", restore: false, Some, Some);
        writer.Exit("1#0", "N.T.M", Some);
        Assert.AreEqual(2, LinesNow(path).Length, "entries and exits wait in the buffer");

        // A batch is 64 KB: enough events reach the file without any flush being asked for.
        int events = 0;
        while (LinesNow(path).Length == 2)
        {
            writer.Mark("", "m", (ulong)events++);
            Assert.IsTrue(events < 2000, "64 KB of marks never reached the file");
        }
        Assert.IsTrue(events > 300, $"the batch went out after {events} marks, well before 64 KB");

        writer.End();
        string[] lines = LinesNow(path);
        Assert.AreEqual("end", Ev(lines[^1]));
        Assert.AreEqual(2 + 2 + events + 1, lines.Length, "every event, in order, once");
        Assert.IsTrue(writer.IsClosed);
        writer.End();
        writer.Dispose();
        writer.Flush();
        Assert.AreEqual(lines.Length, LinesNow(path).Length, "a closed trace takes nothing more");
    }

    [TestMethod]
    public void Dispose_WritesWhatIsBuffered_WithoutEnd()
    {
        string path = Path.Combine(_folder, "t.jsonl");
        var writer = new TraceWriter(path);
        writer.Enter("1#0", null, "block", restore: true, Some, Some);
        writer.Dispose();
        string[] lines = LinesNow(path);
        CollectionAssert.AreEqual(new[] { "trace", "enter" }, lines.Select(Ev).ToArray());
        JsonElement enter = JsonDocument.Parse(lines[1]).RootElement;
        Assert.AreEqual(JsonValueKind.Null, enter.GetProperty("name").ValueKind);
        Assert.IsTrue(enter.GetProperty("restore").GetBoolean());
        Assert.AreEqual("0000000000000001", enter.GetProperty("state").GetProperty("cpu").GetString());
        Assert.AreEqual("0000000000000002", enter.GetProperty("state").GetProperty("managed").GetString());
    }

    [TestMethod]
    public void Fingerprints_AreXxh3OfEachSourcesBytes_CudaDeviceByDevice()
    {
        var state = new RngState(16, 2) { Managed = 0x0102030405060708 };
        for (int i = 0; i < 16; i++)
            state.Cpu[i] = (byte)(i * 7);
        state.Cuda[0] = new CudaGeneratorState(11, 12);
        state.Cuda[1] = new CudaGeneratorState(21, 22);
        Fingerprint fingerprint = Fingerprint.Of(state);

        byte[] managed = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(managed, 0x0102030405060708);
        byte[] cuda = new byte[32];
        ulong[] words = [11, 12, 21, 22];
        for (int i = 0; i < 4; i++)
            BinaryPrimitives.WriteUInt64LittleEndian(cuda.AsSpan(8 * i), words[i]);
        Assert.AreEqual(XxHash3.HashToUInt64(state.Cpu), fingerprint.Cpu);
        Assert.AreEqual(XxHash3.HashToUInt64(managed), fingerprint.Managed);
        Assert.AreEqual(XxHash3.HashToUInt64(cuda), fingerprint.Cuda);
        Assert.IsNull(Fingerprint.Of(new RngState(16, 0)).Cuda, "no CUDA devices: null");

        string path = Path.Combine(_folder, "t.jsonl");
        using (var writer = new TraceWriter(path))
            writer.Exit("", "n", fingerprint);
        JsonElement exit = JsonDocument.Parse(LinesNow(path)[1]).RootElement;
        Assert.AreEqual(XxHash3.HashToUInt64(cuda).ToString("x16", CultureInfo.InvariantCulture), exit.GetProperty("state").GetProperty("cuda").GetString());
    }

    [TestMethod]
    public void ProcessExit_EndsTheTrace_AnUnhandledException_OnlyFlushesIt()
    {
        string path = Path.Combine(_folder, "t.jsonl");
        Reproducible.SetSeed(3);
        BlockTrace.Start(path);
        using (Reproducible.Block(1)) { }
        BlockRuntime.Shared.EndTraceAtExit(complete: false);
        CollectionAssert.AreEqual(new[] { "trace", "seed", "enter", "exit" }, LinesNow(path).Select(Ev).ToArray(), "flushed, not ended");
        Assert.IsTrue(BlockTrace.IsActive, "a crash does not stop the trace by itself");
        BlockRuntime.Shared.EndTraceAtExit(complete: true);
        Assert.AreEqual("end", Ev(LinesNow(path)[^1]));
        Assert.IsFalse(BlockTrace.IsActive);
        BlockRuntime.Shared.EndTraceAtExit(complete: true); // nothing left to end
    }

    [TestMethod]
    public void RefusalsOfNamedBlocks_NameTheMember()
    {
        var runtime = new BlockRuntime(cudaFactory: _ => NoCudaGenerators.Instance);
        var refused = Assert.ThrowsExactly<InvalidOperationException>(() => runtime.Enter(5, restoreOnExit: false, instance: false, name: "N.T.M"));
        StringAssert.Contains(refused.Message, "The block of N.T.M (block 5)");
        var continuing = Assert.ThrowsExactly<InvalidOperationException>(() => runtime.EnterStream(new object(), "N.T.forward"));
        StringAssert.Contains(continuing.Message, "The continuing block of N.T.forward (a Object)");
    }
}
