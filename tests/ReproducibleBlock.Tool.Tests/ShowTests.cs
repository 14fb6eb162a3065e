using System;
using System.Linq;
using System.Text.Json;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.Tool.Show;
using ReproducibleBlock.Tool.Traces;

namespace ReproducibleBlock.Tool.Tests;

/// <summary><c>reproducible-block show</c>: the summary's counts, the tree it prints, and its JSON.</summary>
[TestClass]
public sealed class ShowTests : TraceFileTest
{
    private const string Stream = "2#0/~3f2a9c01d4e5b677";

    /// <summary>
    /// Two Net instances, then three epochs, each with Augment, a continuing Layer call and a loss mark, then a final mark.
    /// Lines: 3-6 instances, epoch e on lines 7 + 7e .. 13 + 7e (its loss mark on 12 + 7e), final mark on 28, end on 29: 28 events.
    /// </summary>
    private static TraceBuilder ThreeEpochs(bool end = true)
    {
        TraceBuilder trace = new TraceBuilder().Seed()
            .Block("1#0", "Demo.Net..ctor", kind: "instance", restore: false)
            .Block("1#1", "Demo.Net..ctor", kind: "instance", restore: false);
        for (int epoch = 0; epoch < 3; epoch++)
        {
            trace.Enter("2#0", "Demo.Train.Epoch", States.Of($"before {epoch}"), States.Of($"epoch {epoch}"))
                .Block("2#0/7#0", "Demo.Train.Augment", $"augment {epoch}", $"augment exit {epoch}")
                .Block(Stream, "Demo.Layer", $"layer {epoch}", $"layer exit {epoch}", "continuing")
                .Mark("2#0", "loss", Fp.Of($"loss {epoch}"))
                .Exit("2#0", "Demo.Train.Epoch", States.Of($"epoch exit {epoch}"));
        }
        trace.Mark("", "final", Fp.Of("final"));
        return end ? trace.End() : trace;
    }

    [TestMethod]
    public void Summary_CountsEachDistinctPathOnce()
    {
        TraceSummary summary = TraceSummary.Read(Write(ThreeEpochs(), "run.jsonl"));

        Assert.IsTrue(summary.Complete);
        Assert.AreEqual(28L, summary.Events);
        Assert.AreEqual(29L, summary.LastLine);
        Assert.AreEqual(5L, summary.Paths);
        Assert.AreEqual(11L, summary.Entered);
        Assert.AreEqual(4L, summary.Marks);
        Assert.AreEqual(new SeedingSummary(42, "Keyed", 1, 2), summary.Seedings.Single());
        Assert.AreEqual("AVX2", summary.Environment!["CpuCapability"]);

        CollectionAssert.AreEqual(new[] { "1#0", "1#1", "2#0" }, summary.Root.Children.Select(n => n.Path).ToArray());
        Assert.AreEqual(new MarkSummary("final", 1, Fp.Of("final"), 28), summary.Root.Marks.Single());

        BlockNode epoch = summary.Root.Children[2];
        Assert.AreEqual((3L, 3L), (epoch.Entered, epoch.Exited));
        Assert.AreEqual(new BlockEntry("Demo.Train.Epoch", BlockKind.Block, 3), epoch.Entries.Single());
        Assert.AreEqual(new MarkSummary("loss", 3, Fp.Of("loss 2"), 12), epoch.Marks.Single());
        CollectionAssert.AreEqual(new[] { "2#0/7#0", Stream }, epoch.Children.Select(n => n.Path).ToArray());
        BlockNode layer = epoch.Children[1];
        Assert.AreEqual("~3f2a9c01d4e5b677", layer.Segment);
        Assert.AreEqual(new BlockEntry("Demo.Layer", BlockKind.Continuing, 3), layer.Entries.Single());
        Assert.IsEmpty(summary.OpenAtEnd);
        Assert.IsEmpty(summary.Warnings);
    }

    [TestMethod]
    public void Summary_OnePathOpenedByTwoNames_KeepsBoth()
    {
        TraceBuilder trace = new TraceBuilder().Seed().Block("5#0", "Demo.A.Run").Block("5#0", "Demo.B.Run").Block("5#0", "Demo.A.Run").End();
        BlockNode node = TraceSummary.Read(Write(trace, "t.jsonl")).Root.Children.Single();
        CollectionAssert.AreEqual(
            new[] { new BlockEntry("Demo.A.Run", BlockKind.Block, 2), new BlockEntry("Demo.B.Run", BlockKind.Block, 1) },
            node.Entries.ToArray());
        Assert.AreEqual(3L, node.Entered);
    }

    [TestMethod]
    public void Summary_OfAnIncompleteTrace_ListsTheBlocksOpenAtItsEnd()
    {
        TraceBuilder trace = new TraceBuilder().Seed()
            .Enter("2#0", "Demo.Train.Epoch", States.Of("b"), States.Of("e"))
            .Enter("2#0/7#0", "Demo.Train.Augment", States.Of("b2"), States.Of("e2"));
        TraceSummary summary = TraceSummary.Read(Write(trace, "t.jsonl"));
        Assert.IsFalse(summary.Complete);
        CollectionAssert.AreEqual(new[] { ("2#0", 3L), ("2#0/7#0", 4L) }, summary.OpenAtEnd.Select(e => (e.Path, e.Line)).ToArray());
        Assert.AreEqual(0L, summary.Root.Children[0].Exited);
    }

    [TestMethod]
    public void Summary_SeveralSeedings_AndAChangedEnvironmentWarns()
    {
        TraceBuilder trace = new TraceBuilder().Seed(1).Seed(2).SeedWith("TorchThreads", "8", rootSeed: 1).End();
        TraceSummary summary = TraceSummary.Read(Write(trace, "t.jsonl"));
        CollectionAssert.AreEqual(new[] { new SeedingSummary(1, "Keyed", 2, 2), new SeedingSummary(2, "Keyed", 1, 3) }, summary.Seedings.ToArray());
        Assert.AreEqual("2", summary.Environment!["TorchThreads"], "the first seed event's environment");
        StringAssert.Contains(summary.Warnings.Single(), "t.jsonl:4: the environment changed since the first seed event: TorchThreads 2 -> 8");
    }

    [TestMethod]
    public void Summary_ExitWithoutEnter_Warns()
    {
        TraceBuilder trace = new TraceBuilder().Exit("3#0", "Demo.Lost", States.Of("x")).End();
        StringAssert.Contains(TraceSummary.Read(Write(trace, "t.jsonl")).Warnings.Single(), "t.jsonl:2: an exit of Demo.Lost (3#0) without an open block");
    }

    [TestMethod]
    public void Summary_AMillionEvents_StreamThrough()
    {
        using var reader = new TraceReader(new GeneratedTrace(250_000), "big.jsonl");
        TraceSummary summary = TraceSummary.Read(reader);
        Assert.AreEqual(1_000_001L, summary.Events);
        Assert.AreEqual(7L, summary.Paths);
        Assert.AreEqual(250_000L, summary.Entered);
        Assert.AreEqual(500_000L, summary.Marks);
        Assert.AreEqual(250_000L, summary.Root.Marks.Single().Count);
        Assert.AreEqual(250_000L / 7 + 1, summary.Root.Children[0].Entered, "blocks 0, 7, 14, ... share path 0#0");
        Assert.IsTrue(summary.Complete);
    }

    [TestMethod]
    public void Show_PrintsSeedEnvironmentTreeAndCompleteness()
    {
        string path = Write(ThreeEpochs(), "run.jsonl");
        ToolRun run = Run("show", path);
        Assert.AreEqual(0, run.ExitCode, run.Describe());
        string[] lines = run.Output.Split('\n');
        CollectionAssert.IsSubsetOf(new[]
        {
            $"Trace  {path}: format 1, ReproducibleBlock 0.2.0, pid 4211, started 2026-11-27T13:02:11.532Z",
            "Seed   42 (Keyed), line 2",
            "Blocks  distinct paths: 5, blocks entered: 11, marks: 4",
            $"{path} (top level)",
            "├── 1#0  Demo.Net..ctor  instance  entered 1×",
            "├── 1#1  Demo.Net..ctor  instance  entered 1×",
            "├── 2#0  Demo.Train.Epoch  block  entered 3×",
            "│   ├── 7#0  Demo.Train.Augment  block  entered 3×",
            "│   ├── ~3f2a9c01d4e5b677  Demo.Layer  continuing  entered 3×",
            $"│   └── mark 'loss' 3×, last fingerprint {Fp.Of("loss 2")}",
            $"└── mark 'final' 1×, fingerprint {Fp.Of("final")}",
            "Complete: ends with its end event on line 29 (28 events).",
        }, lines.Select(l => l.TrimEnd()).ToArray(), run.Output);
        StringAssert.Matches(run.Output, new System.Text.RegularExpressions.Regex(@"│ CpuVendor\s+│ AuthenticAMD\s+│"));
        Assert.AreEqual("", run.Error);
    }

    [TestMethod]
    public void Show_OfAnIncompleteTrace_SaysWhereItStopped()
    {
        TraceBuilder trace = new TraceBuilder().Seed().Enter("2#0", "Demo.Train.Epoch", States.Of("b"), States.Of("e")).CutShort("{\"ev\":");
        ToolRun run = Run("show", Write(trace, "t.jsonl"));
        Assert.AreEqual(0, run.ExitCode, run.Describe());
        StringAssert.Contains(run.Output, "Incomplete: no end event, the run stopped early (crashed, killed, or still running) after line 4 (2 events).");
        StringAssert.Contains(run.Output, "  Demo.Train.Epoch (2#0), entered on line 3");
        StringAssert.Contains(run.Output, "warning: ");
        StringAssert.Contains(run.Output, "t.jsonl:4: the last line is cut short");
        StringAssert.Contains(run.Output, "entered 1×, left 0×");
    }

    [TestMethod]
    public void Show_SeveralSeedings_PrintsATable()
    {
        ToolRun run = Run("show", Write(new TraceBuilder().Seed(1).Seed(2).End(), "t.jsonl"));
        StringAssert.Matches(run.Output, new System.Text.RegularExpressions.Regex(@"│ 2\s+│ Keyed\s+│ 1\s+│ 3\s+│"));
    }

    [TestMethod]
    public void ShowJson_HasTheTreeWithItsCounts()
    {
        string path = Write(ThreeEpochs(end: false), "run.jsonl");
        ToolRun run = Run("show", path, "--json");
        Assert.AreEqual(0, run.ExitCode, run.Describe());
        using JsonDocument document = JsonDocument.Parse(run.Output);
        JsonElement root = document.RootElement;
        Assert.AreEqual(path, root.GetProperty("file").GetString());
        Assert.IsFalse(root.GetProperty("complete").GetBoolean());
        Assert.AreEqual(27, root.GetProperty("events").GetInt64());
        Assert.AreEqual(42, root.GetProperty("seeds")[0].GetProperty("rootSeed").GetInt64());
        Assert.AreEqual("2", root.GetProperty("environment").GetProperty("TorchThreads").GetString());
        Assert.AreEqual((5, 11, 4), (root.GetProperty("paths").GetInt64(), root.GetProperty("entered").GetInt64(), root.GetProperty("marks").GetInt64()));
        Assert.AreEqual("final", root.GetProperty("topLevelMarks")[0].GetProperty("name").GetString());

        JsonElement epoch = root.GetProperty("blocks")[2];
        Assert.AreEqual("2#0", epoch.GetProperty("path").GetString());
        Assert.AreEqual(3, epoch.GetProperty("entered").GetInt64());
        Assert.AreEqual("Demo.Train.Epoch", epoch.GetProperty("entries")[0].GetProperty("name").GetString());
        Assert.AreEqual("block", epoch.GetProperty("entries")[0].GetProperty("kind").GetString());
        JsonElement loss = epoch.GetProperty("marks")[0];
        Assert.AreEqual(("loss", 3, Fp.Of("loss 2")), (loss.GetProperty("name").GetString(), loss.GetProperty("count").GetInt64(), loss.GetProperty("lastFingerprint").GetString()));
        JsonElement layer = epoch.GetProperty("children")[1];
        Assert.AreEqual((Stream, "continuing"), (layer.GetProperty("path").GetString(), layer.GetProperty("entries")[0].GetProperty("kind").GetString()));
        Assert.AreEqual(0, root.GetProperty("openAtEnd").GetArrayLength());
        Assert.AreEqual(0, root.GetProperty("warnings").GetArrayLength());
    }

    [TestMethod]
    public void Show_UnreadableTrace_ExitsTwo()
    {
        string path = Write(new TraceBuilder().Raw("{\"ev\":\"mark\",\"seq\":0,\"path\":\"\",\"name\":\"x\",\"fingerprint\":null}"), "t.jsonl");
        ToolRun run = Run("show", path);
        Assert.AreEqual(2, run.ExitCode, run.Describe());
        Assert.AreEqual($"reproducible-block: {path}:2: mark event: property 'fingerprint' must be a string, not null\n", run.Error);
        Assert.AreEqual("", run.Output);
    }

    [TestMethod]
    public void Summary_Read_RejectsNull() => Assert.Throws<ArgumentNullException>(() => TraceSummary.Read((TraceReader)null!));
}
