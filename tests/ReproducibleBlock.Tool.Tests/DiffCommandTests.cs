using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace ReproducibleBlock.Tool.Tests;

/// <summary><c>reproducible-block diff</c> in-process through <see cref="Cli.Run"/>: exit codes, the report, and <c>--json</c>.</summary>
[TestClass]
public sealed class DiffCommandTests : TraceFileTest
{
    [TestMethod]
    public void SameTraces_ExitZero_AndSaySo()
    {
        ToolRun run = RunDiff(Programs.Training(), Programs.Training());
        Assert.AreEqual(0, run.ExitCode, run.Describe());
        StringAssert.Contains(run.Output, "Same: the traces agree, event for event (12 events, both complete).");
        Assert.AreEqual("", run.Error);
        Assert.DoesNotContain("Warnings", run.Output);
    }

    [TestMethod]
    public void EnvironmentOnly_ExitsZero_WithTheDifferencesAsWarnings()
    {
        ToolRun run = RunDiff(Programs.Training(), Programs.Training(environment: Programs.Environment("CpuCapability", "AVX512")));
        Assert.AreEqual(0, run.ExitCode, run.Describe());
        StringAssert.Contains(run.Output, "Same: the traces agree");
        StringAssert.Contains(run.Output, "Warnings");
        string row = run.Output.Split('\n').Single(l => l.Contains("CpuCapability"));
        StringAssert.Matches(row, new System.Text.RegularExpressions.Regex(@"CpuCapability\s+│\s+AVX2\s+│\s+AVX512"));
    }

    [TestMethod]
    public void Inside_ExitsOne_NamesTheBlock_AndSaysTheLibraryIsolatesTheLaterBlocks()
    {
        ToolRun run = RunDiff(Programs.Blocks(6), Programs.Blocks(6, exitDiffers: [1]));
        Assert.AreEqual(1, run.ExitCode, run.Describe());
        string[] lines = run.Output.Split('\n');
        CollectionAssert.IsSubsetOf(new[]
        {
            "Diverged: inside",
            "  block  Demo.B1",
            "  path   1#0",
            "  lines  A 6, B 6",
            $"  A      {States.Of("exit 1")}",
            $"  B      {States.Of("other exit 1")}",
            "Later blocks: 4 agree, 0 differ (4 compared, to the end of both traces).",
        }, lines, run.Output);
        StringAssert.Contains(run.Output, "something in this block is nondeterministic");
        StringAssert.Contains(run.Output, "This is the block to look at.");
        StringAssert.Contains(run.Output,
            "Most later blocks agree: this is the library isolating blocks. With the Keyed derivation, blocks after the nondeterministic one start from their own derived state");
    }

    [TestMethod]
    public void Inside_WithMostLaterBlocksDiffering_DoesNotClaimIsolation()
    {
        ToolRun run = RunDiff(Programs.Blocks(4), Programs.Blocks(4, exitDiffers: [0, 1, 2]));
        Assert.AreEqual(1, run.ExitCode, run.Describe());
        StringAssert.Contains(run.Output, "Later blocks: 1 agree, 2 differ (3 compared, to the end of both traces).");
        Assert.DoesNotContain("isolating", run.Output);
    }

    [TestMethod]
    public void Entry_PrintsTheCause()
    {
        ToolRun run = RunDiff(Programs.Training(), Programs.Training(seed: 7, netEnter: "seed 7"));
        Assert.AreEqual(1, run.ExitCode, run.Describe());
        StringAssert.Contains(run.Output, "Diverged: entry");
        StringAssert.Contains(run.Output, "  cause  rootSeed");
        StringAssert.Contains(run.Output, "Cause: another root seed: A 42 (seed event on line 2), B 7 (seed event on line 2).");
    }

    [TestMethod]
    public void Structure_SaysTheLaterBlocksAreNotCompared()
    {
        ToolRun run = RunDiff(Programs.Training(), Programs.Training(netKind: "block"));
        Assert.AreEqual(1, run.ExitCode, run.Describe());
        StringAssert.Contains(run.Output, "Diverged: structure");
        StringAssert.Contains(run.Output, "Later blocks: not compared, the structure parts at the divergence itself.");
    }

    [TestMethod]
    public void LaterBlocksCountingStoppedByStructure_SaysHowFarItWent()
    {
        TraceBuilder b = Programs.Blocks(3, exitDiffers: [0], end: false).Block("8#0", "Demo.Other").End();
        ToolRun run = RunDiff(Programs.Blocks(5), b);
        StringAssert.Contains(run.Output,
            "Later blocks: 2 agree, 0 differ (2 compared, counting stopped where the structure parts: A line 9, B line 9; later events no longer line up).");
    }

    [TestMethod]
    public void Truncated_ExitsOne()
    {
        ToolRun run = RunDiff(Programs.Training(), Programs.Training(end: false));
        Assert.AreEqual(1, run.ExitCode, run.Describe());
        StringAssert.Contains(run.Output, "Diverged: truncated");
        StringAssert.Contains(run.Output, "incomplete (no end event)");
    }

    [TestMethod]
    public void BothTruncatedAtTheSamePoint_ExitZero_WithAWarning()
    {
        ToolRun run = RunDiff(Programs.Training(end: false), Programs.Training(end: false));
        Assert.AreEqual(0, run.ExitCode, run.Describe());
        StringAssert.Contains(run.Output, "Same as far as they go");
        StringAssert.Contains(run.Output, "warning: both traces stop early at the same point");
    }

    [TestMethod]
    public void CutShortLastLine_IsIgnoredWithAWarning()
    {
        ToolRun run = RunDiff(Programs.Training(end: false).CutShort("{\"ev\":\"en"), Programs.Training(end: false));
        Assert.AreEqual(0, run.ExitCode, run.Describe());
        StringAssert.Contains(run.Output, "a.jsonl:13: the last line is cut short");
    }

    [TestMethod]
    public void UnreadableInput_ExitsTwo_NamingFileAndLine()
    {
        string a = Write(Programs.Training(), "a.jsonl");
        string b = Write(new TraceBuilder().Seed().Raw("{\"ev\":\"enter\",\"seq\":1}"), "b.jsonl");
        ToolRun run = Run("diff", a, b);
        Assert.AreEqual(2, run.ExitCode, run.Describe());
        Assert.AreEqual($"reproducible-block: {b}:3: enter event: property 'path' is missing\n", run.Error);
        Assert.AreEqual("", run.Output);
    }

    [TestMethod]
    public void MissingFile_ExitsTwo()
    {
        string missing = Path.Combine(Directory, "missing.jsonl");
        ToolRun run = Run("diff", Write(Programs.Training(), "a.jsonl"), missing);
        Assert.AreEqual(2, run.ExitCode, run.Describe());
        Assert.AreEqual($"reproducible-block: {missing}: no such file\n", run.Error);
    }

    [TestMethod]
    public void Json_Diverged_HasTheDocumentedShape()
    {
        ToolRun run = RunDiff(Programs.Training(), Programs.Training(environment: Programs.Environment("TorchThreads", "8"), augmentExit: "racing"), "--json");
        Assert.AreEqual(1, run.ExitCode, run.Describe());
        using JsonDocument document = JsonDocument.Parse(run.Output);
        JsonElement root = document.RootElement;
        Assert.AreEqual("diverged", root.GetProperty("result").GetString());
        Assert.IsTrue(root.GetProperty("complete").GetBoolean());

        JsonElement d = root.GetProperty("divergence");
        Assert.AreEqual("inside", d.GetProperty("kind").GetString());
        Assert.AreEqual("Demo.Train.Augment", d.GetProperty("name").GetString());
        Assert.AreEqual("2#0/7#0", d.GetProperty("path").GetString());
        Assert.AreEqual(7, d.GetProperty("lineA").GetInt64());
        Assert.AreEqual(7, d.GetProperty("lineB").GetInt64());
        StringAssert.Contains(d.GetProperty("detail").GetString(), "nondeterministic");
        Assert.AreEqual(States.Of("augment exit").ToString(), d.GetProperty("a").GetString());
        Assert.AreEqual(States.Of("racing").ToString(), d.GetProperty("b").GetString());
        Assert.AreEqual(JsonValueKind.Null, d.GetProperty("cause").ValueKind);

        JsonElement later = root.GetProperty("laterBlocks");
        Assert.AreEqual((1, 0, 1), (later.GetProperty("agree").GetInt64(), later.GetProperty("differ").GetInt64(), later.GetProperty("compared").GetInt64()));
        Assert.AreEqual("end", later.GetProperty("stoppedBy").GetString());

        JsonElement environment = root.GetProperty("environmentDifferences").EnumerateArray().Single();
        Assert.AreEqual(("TorchThreads", "2", "8"),
            (environment.GetProperty("key").GetString(), environment.GetProperty("a").GetString(), environment.GetProperty("b").GetString()));
        Assert.AreEqual(0, root.GetProperty("warnings").GetArrayLength());

        JsonElement traceA = root.GetProperty("traces").GetProperty("a");
        Assert.AreEqual(Path.Combine(Directory, "a.jsonl"), traceA.GetProperty("file").GetString());
        Assert.IsTrue(traceA.GetProperty("complete").GetBoolean());
        Assert.AreEqual(12, traceA.GetProperty("events").GetInt64());
        Assert.AreEqual("Keyed", traceA.GetProperty("derivation").GetString());
        Assert.AreEqual("", run.Error);
    }

    [TestMethod]
    public void Json_Entry_GivesTheCause()
    {
        ToolRun run = RunDiff(Programs.Training(), Programs.Training(derivation: "ResetAndAdvance", netEnter: "r"), "--json");
        using JsonDocument document = JsonDocument.Parse(run.Output);
        JsonElement d = document.RootElement.GetProperty("divergence");
        Assert.AreEqual(("entry", "derivation"), (d.GetProperty("kind").GetString(), d.GetProperty("cause").GetString()));
    }

    [TestMethod]
    public void Json_Truncated_HasNullForTheMissingLine()
    {
        ToolRun run = RunDiff(Programs.Training(end: false), Programs.Training(), "--json");
        Assert.AreEqual(1, run.ExitCode, run.Describe());
        using JsonDocument document = JsonDocument.Parse(run.Output);
        JsonElement d = document.RootElement.GetProperty("divergence");
        Assert.AreEqual("truncated", d.GetProperty("kind").GetString());
        Assert.AreEqual(JsonValueKind.Null, d.GetProperty("lineA").ValueKind);
        Assert.AreEqual(13, d.GetProperty("lineB").GetInt64());
        Assert.IsFalse(document.RootElement.GetProperty("complete").GetBoolean());
    }

    [TestMethod]
    public void Json_Same_HasNullDivergence_AndIncompleteTracesWarn()
    {
        ToolRun run = RunDiff(Programs.Training(end: false), Programs.Training(end: false), "--json");
        Assert.AreEqual(0, run.ExitCode, run.Describe());
        using JsonDocument document = JsonDocument.Parse(run.Output);
        JsonElement root = document.RootElement;
        Assert.AreEqual("same", root.GetProperty("result").GetString());
        Assert.IsFalse(root.GetProperty("complete").GetBoolean());
        Assert.AreEqual(JsonValueKind.Null, root.GetProperty("divergence").ValueKind);
        Assert.AreEqual(0, root.GetProperty("laterBlocks").GetProperty("compared").GetInt64());
        Assert.AreEqual(JsonValueKind.Null, root.GetProperty("laterBlocks").GetProperty("stoppedBy").ValueKind);
        StringAssert.Contains(root.GetProperty("warnings")[0].GetString(), "both are incomplete");
    }

    [TestMethod]
    public void Json_Unreadable_ExitsTwo_WithTheError()
    {
        string a = Write(new TraceBuilder().Raw("not json"), "a.jsonl");
        ToolRun run = Run("diff", "--json", a, Write(Programs.Training(), "b.jsonl"));
        Assert.AreEqual(2, run.ExitCode, run.Describe());
        using JsonDocument document = JsonDocument.Parse(run.Output);
        JsonElement root = document.RootElement;
        Assert.AreEqual("unreadable", root.GetProperty("result").GetString());
        StringAssert.StartsWith(root.GetProperty("error").GetString(), $"{a}:2: not JSON");
        Assert.AreEqual(a, root.GetProperty("file").GetString());
        Assert.AreEqual(2, root.GetProperty("line").GetInt64());
        StringAssert.StartsWith(run.Error, $"reproducible-block: {a}:2: not JSON");
    }
}
