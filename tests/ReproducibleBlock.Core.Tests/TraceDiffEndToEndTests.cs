using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.Tests.Shared;
using ReproducibleBlock.Tool;

namespace ReproducibleBlock.Tests;

/// <summary>
/// Real runs of a woven program traced through REPRODUCIBLEBLOCK_TRACE (the stream probe's --trace-run: woven methods
/// First, Second and Third, Second drawing 1 + inside numbers, with outside extra draws between the blocks), compared by
/// reproducible-block diff: what it says is what the runs did differently.
/// </summary>
[TestClass]
public sealed class TraceDiffEndToEndTests
{
    private string _folder = null!;

    [TestInitialize]
    public void NewFolder() => _folder = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"rb-diff-{Guid.NewGuid():N}")).FullName;

    [TestCleanup]
    public void DeleteFolder() => Directory.Delete(_folder, recursive: true);

    private string TracedRun(string label, long rootSeed, int inside, int outside = 0)
    {
        AppRun run = Repository.RunApp(Path.Combine(AppContext.BaseDirectory, "ReproducibleBlock.StreamProbe.dll"),
            ["--trace-run", Text(rootSeed), Text(inside), Text(outside)],
            new Dictionary<string, string> { [BlockTrace.EnvironmentVariable] = Path.Combine(_folder, label + "-{pid}.jsonl") });
        Assert.AreEqual(0, run.ExitCode, run.Error);
        return Path.Combine(_folder, $"{label}-{run.ProcessId}.jsonl");
    }

    private static string Text(long value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static (int ExitCode, JsonElement Report) Diff(string a, string b)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exitCode = Cli.Run(["diff", a, b, "--json"], output, error);
        return (exitCode, JsonDocument.Parse(output.ToString()).RootElement.Clone());
    }

    [TestMethod]
    public void TwoRunsOfTheSameCode_Agree()
    {
        (int exitCode, JsonElement report) = Diff(TracedRun("a", 42, 0), TracedRun("b", 42, 0));
        Assert.AreEqual(0, exitCode, report.ToString());
        Assert.AreEqual("same", report.GetProperty("result").GetString());
        Assert.IsTrue(report.GetProperty("complete").GetBoolean());
    }

    [TestMethod]
    public void ExtraDrawsInOneWovenMethod_AreAnInsideDivergenceNamingIt_AndTheLaterBlockStillAgrees()
    {
        (int exitCode, JsonElement report) = Diff(TracedRun("a", 42, 0), TracedRun("b", 42, 5));
        Assert.AreEqual(1, exitCode, report.ToString());
        JsonElement divergence = report.GetProperty("divergence");
        Assert.AreEqual("inside", divergence.GetProperty("kind").GetString());
        Assert.AreEqual("2#0", divergence.GetProperty("path").GetString());
        Assert.AreEqual("ReproducibleBlock.StreamProbe.TraceRun.Second", divergence.GetProperty("name").GetString());
        JsonElement later = report.GetProperty("laterBlocks");
        Assert.AreEqual(1, later.GetProperty("agree").GetInt64(), "block 3 starts from its own keyed state");
        Assert.AreEqual(0, later.GetProperty("differ").GetInt64());
    }

    [TestMethod]
    public void ExtraDrawsOutsideEveryBlock_LeaveTheBlocksAgreeing_AndTheReportSaysTheEnclosingStreamDiffered()
    {
        (int exitCode, JsonElement report) = Diff(TracedRun("a", 42, 0, outside: 0), TracedRun("b", 42, 0, outside: 3));
        Assert.AreEqual(0, exitCode, report.ToString());
        Assert.AreEqual("same", report.GetProperty("result").GetString());
        string[] warnings = report.GetProperty("warnings").EnumerateArray().Select(w => w.GetString()!).ToArray();
        string? note = warnings.FirstOrDefault(w => w.Contains("enclosing stream differed", StringComparison.Ordinal));
        Assert.IsNotNull(note, string.Join("\n", warnings));
        StringAssert.Contains(note, "ReproducibleBlock.StreamProbe.TraceRun.Second", "the first block after the outside draws");
    }

    [TestMethod]
    public void GarbageInput_IsUnreadable()
    {
        string garbage = Path.Combine(_folder, "garbage.jsonl");
        File.WriteAllText(garbage, "this is not a trace\n");
        var error = new StringWriter();
        int exitCode = Cli.Run(["diff", TracedRun("a", 42, 0), garbage], new StringWriter(), error);
        Assert.AreEqual(2, exitCode, error.ToString());
        StringAssert.Contains(error.ToString(), "garbage.jsonl");
    }

    [TestMethod]
    public void AnotherRootSeed_IsAnEntryDivergenceAtTheFirstBlock_NamingTheSeeds()
    {
        (int exitCode, JsonElement report) = Diff(TracedRun("a", 42, 0), TracedRun("b", 43, 0));
        Assert.AreEqual(1, exitCode, report.ToString());
        JsonElement divergence = report.GetProperty("divergence");
        Assert.AreEqual("entry", divergence.GetProperty("kind").GetString());
        Assert.AreEqual("1#0", divergence.GetProperty("path").GetString());
        StringAssert.Contains(divergence.GetProperty("detail").GetString(), "42");
        StringAssert.Contains(divergence.GetProperty("detail").GetString(), "43");
    }

    [TestMethod]
    public void ARunCutShort_IsTruncated()
    {
        string whole = TracedRun("a", 42, 0);
        string cut = Path.Combine(_folder, "cut.jsonl");
        string[] lines = File.ReadAllLines(whole);
        File.WriteAllLines(cut, lines[..4]); // trace, seed, enter 1, exit 1: stopped before block 2
        (int exitCode, JsonElement report) = Diff(whole, cut);
        Assert.AreEqual(1, exitCode, report.ToString());
        Assert.AreEqual("truncated", report.GetProperty("divergence").GetProperty("kind").GetString());
    }
}
