using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.Tool.Traces;

namespace ReproducibleBlock.Tool.Tests;

/// <summary>The reader against the README's trace format: what it reads, what it ignores, and what it refuses, with file and line.</summary>
[TestClass]
public sealed class TraceReaderTests : TraceFileTest
{
    /// <summary>The example of the README's trace format, byte for byte.</summary>
    internal const string FormatExample = """
        {"ev":"trace","format":1,"library":"0.2.0","pid":4211,"started":"2026-11-27T13:02:11.532Z"}
        {"ev":"seed","seq":0,"rootSeed":42,"derivation":"Keyed","environment":{"LibTorchVersion":"2.7.1","CpuCapability":"AVX2","CpuVendor":"AuthenticAMD"}}
        {"ev":"enter","seq":1,"path":"1#0","name":"Demo.Net..ctor","kind":"instance","restore":false,"before":{"cpu":"8d1f0c9a52e3b771","managed":"04c2aa9d1e7f3360","cuda":null},"state":{"cpu":"a1b2c3d4e5f60718","managed":"1f2e3d4c5b6a7980","cuda":null}}
        {"ev":"exit","seq":2,"path":"1#0","name":"Demo.Net..ctor","state":{"cpu":"0f1e2d3c4b5a6978","managed":"1f2e3d4c5b6a7980","cuda":null}}
        {"ev":"mark","seq":3,"path":"","name":"loss","fingerprint":"77c1d0e2a9b83f45"}
        {"ev":"end","seq":4}

        """;

    private static TraceReader FromText(string text, string file = "t.jsonl") =>
        new(new MemoryStream(Encoding.UTF8.GetBytes(text)), file);

    private static List<TraceEvent> ReadAll(TraceReader reader) => reader.ReadAll().ToList();

    [TestMethod]
    public void FormatExample_ReadsEveryEventWithItsLineAndProperties()
    {
        using TraceReader reader = FromText(FormatExample.Replace("\r\n", "\n"));
        Assert.AreEqual(new TraceHeader(1, "0.2.0", 4211, "2026-11-27T13:02:11.532Z"), reader.Header);
        List<TraceEvent> events = ReadAll(reader);

        Assert.HasCount(5, events);
        var seed = (SeedEvent)events[0];
        Assert.AreEqual((2L, 0L, 42L, "Keyed"), (seed.Line, seed.Seq, seed.RootSeed, seed.Derivation));
        Assert.AreEqual("AVX2", seed.Environment["CpuCapability"]);
        Assert.HasCount(3, seed.Environment);

        var enter = (EnterEvent)events[1];
        Assert.AreEqual((3L, "1#0", "Demo.Net..ctor", BlockKind.Instance, false), (enter.Line, enter.Path, enter.Name, enter.Kind, enter.Restore));
        Assert.AreEqual(new GeneratorFingerprints("8d1f0c9a52e3b771", "04c2aa9d1e7f3360", null), enter.Before);
        Assert.AreEqual(new GeneratorFingerprints("a1b2c3d4e5f60718", "1f2e3d4c5b6a7980", null), enter.State);

        var exit = (ExitEvent)events[2];
        Assert.AreEqual((4L, "1#0", "0f1e2d3c4b5a6978"), (exit.Line, exit.Path, exit.State.Cpu));

        var mark = (MarkEvent)events[3];
        Assert.AreEqual((5L, "", "loss", "77c1d0e2a9b83f45"), (mark.Line, mark.Path, mark.Name, mark.Fingerprint));

        Assert.IsInstanceOfType<EndEvent>(events[4]);
        Assert.AreEqual(6L, events[4].Line);
        Assert.IsTrue(reader.IsComplete);
        Assert.AreEqual(5L, reader.EventCount);
        Assert.IsEmpty(reader.Warnings);
    }

    [TestMethod]
    public void WithoutEndEvent_ReadsToTheEnd_AndIsNotComplete()
    {
        using TraceReader reader = FromText(new TraceBuilder().Seed().Enter("1#0", "X.M", States.Of("b"), States.Of("s")).Text);
        Assert.HasCount(2, ReadAll(reader));
        Assert.IsFalse(reader.IsComplete);
        Assert.IsNull(reader.Read(), "after the end, Read keeps answering null");
    }

    [TestMethod]
    public void UnknownProperties_AreIgnored()
    {
        string text = new TraceBuilder().Raw("""{"ev":"mark","seq":0,"path":"","name":"loss","fingerprint":"77c1d0e2a9b83f45","device":"cuda:0","extra":{"a":[1,2]}}""")
            .Raw("""{"ev":"end","seq":1,"elapsed":12.5}""").Text;
        using TraceReader reader = FromText(text);
        List<TraceEvent> events = ReadAll(reader);
        Assert.AreEqual("loss", ((MarkEvent)events[0]).Name);
        Assert.IsTrue(reader.IsComplete);
        Assert.IsEmpty(reader.Warnings);
    }

    [TestMethod]
    public void NullName_IsUnknown_AndCudaFingerprintsAreRead()
    {
        var cuda = new States(Fp.Of("c"), Fp.Of("m"), Fp.Of("cuda"));
        using TraceReader reader = FromText(new TraceBuilder().Enter("5#0", null, States.Of("b"), cuda, kind: "continuing").Text);
        var enter = (EnterEvent)ReadAll(reader)[0];
        Assert.IsNull(enter.Name);
        Assert.AreEqual(BlockKind.Continuing, enter.Kind);
        Assert.AreEqual(Fp.Of("cuda"), enter.State.Cuda);
    }

    [TestMethod]
    public void LastLineCutShort_IsIgnoredWithAWarningNamingFileAndLine()
    {
        string text = new TraceBuilder().Seed().Block("1#0", "X.M").CutShort("""{"ev":"enter","seq":3,"path":"2#0","na""").Text;
        using TraceReader reader = FromText(text, "run.jsonl");
        Assert.HasCount(3, ReadAll(reader));
        Assert.IsFalse(reader.IsComplete);
        Assert.HasCount(1, reader.Warnings);
        StringAssert.StartsWith(reader.Warnings[0], "run.jsonl:5: the last line is cut short");
    }

    [TestMethod]
    public void LastLineWithoutNewline_ButComplete_IsRead()
    {
        string text = new TraceBuilder().Seed().Text + """{"ev":"end","seq":1}""";
        using TraceReader reader = FromText(text);
        Assert.HasCount(2, ReadAll(reader));
        Assert.IsTrue(reader.IsComplete);
        Assert.IsEmpty(reader.Warnings);
    }

    [TestMethod]
    public void ByteOrderMark_AndCarriageReturns_AreAccepted()
    {
        string text = "\uFEFF" + new TraceBuilder().Seed().End().Text.Replace("\n", "\r\n");
        using TraceReader reader = FromText(text);
        Assert.HasCount(2, ReadAll(reader));
        Assert.IsTrue(reader.IsComplete);
    }

    [TestMethod]
    public void UnknownEventKind_IsSkippedWithOneWarning_AndCountsInSeq()
    {
        string text = new TraceBuilder().Raw("""{"ev":"gpu-sync","seq":0}""").Raw("""{"ev":"gpu-sync","seq":1}""").Raw("""{"ev":"end","seq":2}""").Text;
        using TraceReader reader = FromText(text, "t.jsonl");
        List<TraceEvent> events = ReadAll(reader);
        Assert.HasCount(1, events);
        Assert.AreEqual(4L, events[0].Line);
        Assert.AreEqual(3L, reader.EventCount);
        Assert.HasCount(1, reader.Warnings);
        StringAssert.StartsWith(reader.Warnings[0], "t.jsonl:2: ");
        StringAssert.Contains(reader.Warnings[0], "'gpu-sync'");
    }

    [TestMethod]
    public void LongLines_AcrossBufferBoundaries_AreRead()
    {
        // An environment of ~200 KB, bigger than the reader's first buffer, between ordinary lines.
        var environment = Enumerable.Range(0, 4000).ToDictionary(i => $"Key{i:D5}", i => new string('v', 40));
        var builder = new TraceBuilder();
        for (int i = 0; i < 3; i++)
            builder.Seed(i, environment: environment).Block($"{i}#0", "X.M");
        using TraceReader reader = FromText(builder.End().Text);
        List<TraceEvent> events = ReadAll(reader);
        Assert.HasCount(10, events);
        Assert.HasCount(4002, ((SeedEvent)events[6]).Environment, "4,000 keys, RootSeed and Derivation");
        Assert.AreEqual(11L, events[9].Line);
    }

    [TestMethod]
    public void MissingFile_IsRefusedNamingTheFile()
    {
        string path = Path.Combine(Directory, "nowhere.jsonl");
        var error = Assert.Throws<TraceFormatException>(() => TraceReader.Open(path));
        Assert.AreEqual($"{path}: no such file", error.Message);
        Assert.IsNull(error.Line);
    }

    [TestMethod]
    public void Directory_IsRefused()
    {
        var error = Assert.Throws<TraceFormatException>(() => TraceReader.Open(Directory));
        StringAssert.Contains(error.Message, "is a directory");
    }

    [TestMethod]
    public void EmptyFile_IsRefused()
    {
        var error = Assert.Throws<TraceFormatException>(() => FromText("", "empty.jsonl"));
        Assert.AreEqual("empty.jsonl: is empty: a trace starts with a trace line", error.Message);
    }

    /// <summary>Every way a trace can break the format, the line it breaks on, and words the message must contain.</summary>
    [TestMethod]
    // The first line.
    [DataRow("""{"ev":"seed","seq":0}""", 1, "the first line must be a trace event, not 'seed'")]
    [DataRow("""[1,2,3]""", 1, "the first line must be a trace event, a JSON object, not an array")]
    [DataRow("""{"format":1}""", 1, "the first line has no 'ev' property")]
    [DataRow("""not json at all""", 1, "not JSON")]
    [DataRow("""{"ev":"trace","format":3,"library":"9.0.0","pid":1,"started":"2027-01-01T00:00:00Z"}""", 1, "unknown trace format 3: this reader knows formats 1 to 2")]
    [DataRow("""{"ev":"trace","format":0,"library":"0.0.1","pid":1,"started":"2027-01-01T00:00:00Z"}""", 1, "unknown trace format 0: this reader knows formats 1 to 2")]
    [DataRow("""{"ev":"trace","format":"1","library":"0.2.0","pid":1,"started":"2026-11-27T13:02:11Z"}""", 1, "property 'format' must be an integer, not a string")]
    [DataRow("""{"ev":"trace","format":1,"pid":1,"started":"2026-11-27T13:02:11Z"}""", 1, "trace event: property 'library' is missing")]
    [DataRow("""{"ev":"trace","format":1,"library":"0.2.0","pid":1,"started":"yesterday"}""", 1, "'started' must be a UTC time in ISO 8601")]
    // Later lines (after a valid trace line, see the test body).
    [DataRow("""{"ev":"seed","seq":0,"rootSeed":42,"derivation":"Keyed"}""", 2, "seed event: property 'environment' is missing")]
    [DataRow("""{"ev":"seed","seq":0,"rootSeed":1.5,"derivation":"Keyed","environment":{}}""", 2, "property 'rootSeed' must be an integer (64-bit), not 1.5")]
    [DataRow("""{"ev":"seed","seq":0,"rootSeed":42,"derivation":"Other","environment":{}}""", 2, "property 'derivation' must be \"Keyed\" or \"ResetAndAdvance\", not \"Other\"")]
    [DataRow("""{"ev":"seed","seq":0,"rootSeed":42,"derivation":"Keyed","environment":{"TorchThreads":2}}""", 2, "property 'environment.TorchThreads' must be a string, not a number")]
    [DataRow("""{"ev":"enter","seq":0,"path":"1#0","name":"X","kind":"block","restore":true,"before":{"cpu":null,"managed":null,"cuda":null}}""", 2, "enter event: property 'state' is missing")]
    [DataRow("""{"ev":"enter","seq":0,"path":"1#0","name":"X","kind":"block","restore":"yes","before":{},"state":{}}""", 2, "property 'restore' must be true or false, not a string")]
    [DataRow("""{"ev":"enter","seq":0,"path":"1#0","name":"X","kind":"module","restore":true,"before":{},"state":{}}""", 2, "property 'kind' must be \"block\", \"instance\", \"continuing\", \"member\" or \"site\", not \"module\"")]
    [DataRow("""{"ev":"enter","seq":0,"path":"1#0","name":7,"kind":"block","restore":true,"before":{},"state":{}}""", 2, "property 'name' must be a string or null, not a number")]
    [DataRow("""{"ev":"enter","seq":0,"path":"1#0","name":"X","kind":"block","restore":true,"before":{"cpu":null,"managed":null},"state":{}}""", 2, "property 'before.cuda' is missing")]
    [DataRow("""{"ev":"exit","seq":0,"path":"1#0","name":"X","state":{"cpu":"8D1F0C9A52E3B771","managed":null,"cuda":null}}""", 2, "property 'state.cpu' must be 16 lowercase hex digits or null, not \"8D1F0C9A52E3B771\"")]
    [DataRow("""{"ev":"exit","seq":0,"path":"1#0","name":"X","state":"8d1f0c9a52e3b771"}""", 2, "property 'state' must be an object")]
    [DataRow("""{"ev":"exit","seq":0,"name":"X","state":{"cpu":null,"managed":null,"cuda":null}}""", 2, "exit event: property 'path' is missing")]
    [DataRow("""{"ev":"mark","seq":0,"path":"","name":"loss"}""", 2, "mark event: property 'fingerprint' is missing")]
    [DataRow("""{"ev":"mark","seq":0,"path":"","name":"loss","fingerprint":"77c1"}""", 2, "property 'fingerprint' must be 16 lowercase hex digits, not \"77c1\"")]
    [DataRow("""{"ev":"mark","seq":"0","path":"","name":"loss","fingerprint":"77c1d0e2a9b83f45"}""", 2, "property 'seq' must be an integer, not a string")]
    [DataRow("""{"ev":"end","seq":3}""", 2, "end event: seq is 3 where 0 was expected")]
    [DataRow("""{"seq":0}""", 2, "property 'ev' is missing")]
    [DataRow("""{"ev":5,"seq":0}""", 2, "property 'ev' must be a string, not a number")]
    [DataRow("""["end"]""", 2, "an event must be a JSON object, not an array")]
    [DataRow("""{"ev":"end","seq":0""", 2, "not JSON")]
    [DataRow("", 2, "an empty line")]
    [DataRow("""{"ev":"trace","format":1,"library":"0.2.0","pid":1,"started":"2026-11-27T13:02:11Z"}""", 2, "a second trace event")]
    public void BrokenLine_IsRefusedNamingFileLineAndProblem(string line, int lineNumber, string problem)
    {
        string text = lineNumber == 1
            ? line + "\n" + """{"ev":"end","seq":0}""" + "\n"
            : new TraceBuilder().Raw(line).Raw("""{"ev":"end","seq":1}""").Text;
        var error = Assert.Throws<TraceFormatException>(() =>
        {
            using TraceReader reader = FromText(text, "broken.jsonl");
            ReadAll(reader);
        });
        StringAssert.StartsWith(error.Message, $"broken.jsonl:{lineNumber}: ", error.Message);
        StringAssert.Contains(error.Message, problem, error.Message);
        Assert.AreEqual(lineNumber, error.Line);
        Assert.AreEqual("broken.jsonl", error.File);
    }

    [TestMethod]
    public void SeqGap_IsRefused_AsAMissingLine()
    {
        string text = new TraceBuilder().Seed().Raw("""{"ev":"end","seq":2}""").Text;
        var error = Assert.Throws<TraceFormatException>(() => ReadAll(FromText(text, "gap.jsonl")));
        Assert.AreEqual("gap.jsonl:3: end event: seq is 2 where 1 was expected (a line is missing, repeated or out of order)", error.Message);
    }

    [TestMethod]
    public void EventAfterEnd_IsRefused()
    {
        string text = new TraceBuilder().End().Seed().Text;
        var error = Assert.Throws<TraceFormatException>(() => ReadAll(FromText(text, "t.jsonl")));
        StringAssert.StartsWith(error.Message, "t.jsonl:3: an event after the end event");
    }

    [TestMethod]
    public void BrokenLineInTheMiddle_IsRefused_EvenWithoutNewlineAfterTheLastLine()
    {
        // Only the LAST line may be cut short: a broken line with lines after it is an error.
        string text = new TraceBuilder().Seed().Raw("""{"ev":"enter","seq":1,""").Text + """{"ev":"end","seq":2}""";
        var error = Assert.Throws<TraceFormatException>(() => ReadAll(FromText(text, "t.jsonl")));
        StringAssert.StartsWith(error.Message, "t.jsonl:3: not JSON");
    }

    [TestMethod]
    public void InvalidUtf8_IsRefused()
    {
        byte[] head = Encoding.UTF8.GetBytes(new TraceBuilder().Text);
        byte[] prefix = Encoding.UTF8.GetBytes("""{"ev":"mark","seq":0,"path":"","name":" """);
        byte[] bad = [.. prefix, 0xFF, 0xFE, .. Encoding.UTF8.GetBytes("\",\"fingerprint\":\"77c1d0e2a9b83f45\"}\n")];
        var error = Assert.Throws<TraceFormatException>(() => ReadAll(new TraceReader(new MemoryStream([.. head, .. bad]), "t.jsonl")));
        Assert.AreEqual($"t.jsonl:2: not JSON: invalid UTF-8 text at byte {prefix.Length + 1} of the line", error.Message);
    }

    [TestMethod]
    [DataRow("""{"ev":"enter","seq":0,"path":"1#0","name":"bad\ud800name","kind":"block","restore":true,"before":{"cpu":null,"managed":null,"cuda":null},"state":{"cpu":null,"managed":null,"cuda":null}}""", 2, @"\ud800", 47)]
    [DataRow("""{"ev":"exit","seq":0,"path":"\uDC00","name":"X","state":{"cpu":null,"managed":null,"cuda":null}}""", 2, @"\uDC00", 30)]
    [DataRow("""{"ev":"mark","seq":0,"path":"","name":"a\ud800\ud800b","fingerprint":"77c1d0e2a9b83f45"}""", 2, @"\ud800", 41)]
    [DataRow("""{"ev":"mark","seq":0,"path":"","name":"a\ud800\u0041","fingerprint":"77c1d0e2a9b83f45"}""", 2, @"\ud800", 41)]
    [DataRow("""{"ev":"mark","seq":0,"path":"","name":"\\\udfff","fingerprint":"77c1d0e2a9b83f45"}""", 2, @"\udfff", 42)]
    [DataRow("""{"ev":"\ud83d","seq":0}""", 2, @"\ud83d", 8)]
    [DataRow("""{"ev":"seed","seq":0,"rootSeed":42,"derivation":"Keyed","environment":{"Key\ud800":"v"}}""", 2, @"\ud800", 76)]
    [DataRow("""{"ev":"seed","seq":0,"rootSeed":42,"derivation":"Keyed","environment":{"Key":"v\udbff"}}""", 2, @"\udbff", 80)]
    [DataRow("""{"ev":"end","seq":0,"\ud800":1}""", 2, @"\ud800", 22)]
    [DataRow("""{"ev":"trace","format":1,"library":"0.2.0\ud800","pid":1,"started":"2026-11-27T13:02:11Z"}""", 1, @"\ud800", 42)]
    public void EscapedLoneSurrogate_IsRefused_WhereverItIs(string line, int lineNumber, string escape, int at)
    {
        // System.Text.Json parses "\ud800" and then throws InvalidOperationException when the string (or a property
        // name it searches past) is read: the line is refused as a whole, as invalid UTF-8 is.
        string text = lineNumber == 1 ? line + "\n" : new TraceBuilder().Raw(line).Raw("""{"ev":"end","seq":1}""").Text;
        var error = Assert.Throws<TraceFormatException>(() => ReadAll(FromText(text, "t.jsonl")));
        Assert.AreEqual($"t.jsonl:{lineNumber}: not Unicode text: {escape} at byte {at} of the line escapes half of a UTF-16 " +
            "surrogate pair without the other half", error.Message);
        Assert.AreEqual(escape, line.Substring(at - 1, escape.Length), "the byte named is the escape's backslash");
    }

    [TestMethod]
    public void EscapedSurrogatePairs_AndEscapedBackslashes_AreRead()
    {
        // A pair escaped as two \u escapes is one character; "\\ud800" is a backslash and the text "ud800".
        string text = new TraceBuilder()
            .Raw("""{"ev":"mark","seq":0,"path":"","name":"\ud83d\ude00 \\ud800 \u00e9","fingerprint":"77c1d0e2a9b83f45"}""")
            .Raw("""{"ev":"end","seq":1}""").Text;
        var mark = (MarkEvent)ReadAll(FromText(text))[0];
        Assert.AreEqual("\U0001F600 \\ud800 \u00e9", mark.Name);
    }

    [TestMethod]
    public void FirstLineCutShort_IsNotATrace()
    {
        var error = Assert.Throws<TraceFormatException>(() => FromText("""{"ev":"trace","form""", "t.jsonl"));
        StringAssert.StartsWith(error.Message, "t.jsonl:1: the first line is cut short");
    }

    [TestMethod]
    public void AMillionEvents_StreamThrough_WithoutKeepingTheirText()
    {
        const int Blocks = 250_000; // enter, mark, exit per block, and 250,000 top-level marks: 1,000,000 events
        long before = GC.GetTotalMemory(forceFullCollection: true);
        using var reader = new TraceReader(new GeneratedTrace(Blocks), "big.jsonl");
        long events = 0, maxAllocatedMidway = 0;
        while (reader.Read() is { } read)
        {
            events++;
            if (events == 500_000)
                maxAllocatedMidway = GC.GetTotalMemory(forceFullCollection: true) - before;
        }
        Assert.AreEqual(1_000_001L, events, "a million events and the end event");
        Assert.IsTrue(reader.IsComplete);
        // The text read so far is ~100 MB; what is kept is the reader's buffer.
        Assert.IsLessThan(8L * 1024 * 1024, maxAllocatedMidway, $"memory held halfway: {maxAllocatedMidway:N0} bytes");
    }
}

/// <summary>A trace produced while it is read: <c>blocks</c> blocks with a mark inside and one after each, then the end event.</summary>
internal sealed class GeneratedTrace(int blocks) : Stream
{
    private byte[] _pending = [];
    private int _position;
    private int _block;
    private long _seq;
    private bool _done;

    public override int Read(byte[] buffer, int offset, int count)
    {
        if (_position == _pending.Length && !_done)
            Produce();
        int n = Math.Min(count, _pending.Length - _position);
        Array.Copy(_pending, _position, buffer, offset, n);
        _position += n;
        return n;
    }

    private void Produce()
    {
        var lines = new StringBuilder();
        if (_seq == 0 && _block == 0)
            lines.Append("""{"ev":"trace","format":1,"library":"0.2.0","pid":1,"started":"2026-11-27T13:02:11.532Z"}""").Append('\n');
        if (_block == blocks)
        {
            lines.Append($$"""{"ev":"end","seq":{{_seq++}}}""").Append('\n');
            _done = true;
        }
        else
        {
            string path = $"{_block % 7}#0", state = """{"cpu":"8d1f0c9a52e3b771","managed":"04c2aa9d1e7f3360","cuda":null}""";
            lines.Append($$"""{"ev":"enter","seq":{{_seq++}},"path":"{{path}}","name":"Big.Loop.Step","kind":"block","restore":true,"before":{{state}},"state":{{state}}}""").Append('\n');
            lines.Append($$"""{"ev":"mark","seq":{{_seq++}},"path":"{{path}}","name":"inner","fingerprint":"77c1d0e2a9b83f45"}""").Append('\n');
            lines.Append($$"""{"ev":"exit","seq":{{_seq++}},"path":"{{path}}","name":"Big.Loop.Step","state":{{state}}}""").Append('\n');
            lines.Append($$"""{"ev":"mark","seq":{{_seq++}},"path":"","name":"loss","fingerprint":"77c1d0e2a9b83f45"}""").Append('\n');
            _block++;
        }
        _pending = Encoding.UTF8.GetBytes(lines.ToString());
        _position = 0;
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
