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
/// First, Second and Third, Second drawing 1 + inside numbers, with outside extra draws between the blocks; and its
/// --output-run: training steps of a model, traced with REPRODUCIBLEBLOCK_TRACE_TENSORS=1, whose outputs differ for
/// real causes, a thread count or a clock; and the same model built from changed code), compared by reproducible-block
/// diff: what it says is what the runs did differently.
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

    private static readonly string Probe = Path.Combine(AppContext.BaseDirectory, "ReproducibleBlock.StreamProbe.dll");

    /// <summary>The probe built with CODE_CHANGED: the same program with one more dropout, another build of the same assembly.</summary>
    private static readonly string ChangedProbe = Path.Combine(
        Repository.Root, "tests", "ReproducibleBlock.StreamProbe", "Changed", "bin", Repository.Configuration, "net10.0", "ReproducibleBlock.StreamProbe.dll");

    /// <summary>The probe's --output-run traced with tensors; returns the trace and the reduced sums it printed, one per step.</summary>
    private (string Trace, string[] Sums) OutputRun(string label, string program, params string[] options)
    {
        AppRun run = Repository.RunApp(program, ["--output-run", .. options], new Dictionary<string, string>
        {
            [BlockTrace.EnvironmentVariable] = Path.Combine(_folder, label + "-{pid}.jsonl"),
            [BlockTrace.TensorsEnvironmentVariable] = "1",
        });
        Assert.AreEqual(0, run.ExitCode, run.Error);
        string[] sums = [.. run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split(' ')[^1])];
        return (Path.Combine(_folder, $"{label}-{run.ProcessId}.jsonl"), sums);
    }

    private static (int ExitCode, string Report) DiffText(string a, string b)
    {
        var output = new StringWriter();
        int exitCode = Cli.Run(["diff", a, b], output, new StringWriter());
        return (exitCode, output.ToString());
    }

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

    [TestMethod]
    public void TwoTracedTrainingRunsOfTheSameCode_AgreeOutputForOutput()
    {
        (int exitCode, JsonElement report) = Diff(OutputRun("a", Probe, "--threads", "1").Trace, OutputRun("b", Probe, "--threads", "1").Trace);
        Assert.AreEqual(0, exitCode, report.ToString());
        Assert.IsTrue(report.GetProperty("traces").GetProperty("a").GetProperty("tensors").GetBoolean());
    }

    [TestMethod]
    public void ALargeReductionOnAnotherThreadCount_IsAnOutputDivergenceNamingThatModuleOnly_WithTheThreadCountsBesideIt()
    {
        (string one, string[] sumsOne) = OutputRun("one-thread", Probe, "--threads", "1");
        (string two, string[] sumsTwo) = OutputRun("two-threads", Probe, "--threads", "2");
        if (sumsOne.SequenceEqual(sumsTwo))
            Assert.Inconclusive($"Here, libtorch's sum of 400,000 floats is the same on 1 and 2 threads ({sumsOne[0]}): no real cause to trace.");
        (int exitCode, JsonElement report) = Diff(one, two);
        Assert.AreEqual(1, exitCode, report.ToString());
        JsonElement divergence = report.GetProperty("divergence");
        Assert.AreEqual("output", divergence.GetProperty("kind").GetString(), report.ToString());
        Assert.AreEqual("ProbeNet.reduce", divergence.GetProperty("name").GetString());
        Assert.AreEqual(1, divergence.GetProperty("step").GetInt64(), "its first call: the same sum every step");
        string detail = divergence.GetProperty("detail").GetString()!;
        StringAssert.Contains(detail, "Random streams agree; the computation differs: a nondeterministic kernel, a thread count, an uninitialised buffer");
        Assert.DoesNotContain("features", detail, "the dropout before it agreed and is not named");
        JsonElement environment = divergence.GetProperty("environment");
        Assert.AreEqual(("TorchThreads", "1", "2"),
            (environment[0].GetProperty("key").GetString(), environment[0].GetProperty("a").GetString(), environment[0].GetProperty("b").GetString()));
    }

    [TestMethod]
    public void AModuleThatAddsTheClock_IsAnOutputDivergenceNamingThatModuleOnly()
    {
        (int exitCode, JsonElement report) = Diff(OutputRun("a", Probe, "--threads", "1", "--clock").Trace, OutputRun("b", Probe, "--threads", "1", "--clock").Trace);
        Assert.AreEqual(1, exitCode, report.ToString());
        JsonElement divergence = report.GetProperty("divergence");
        Assert.AreEqual(("output", "ProbeNet.clock"), (divergence.GetProperty("kind").GetString(), divergence.GetProperty("name").GetString()), report.ToString());
        Assert.AreEqual(0, divergence.GetProperty("environment").GetArrayLength(), "the same environment: the cause is in the module");
        string detail = divergence.GetProperty("detail").GetString()!;
        Assert.DoesNotContain("reduce", detail);
        Assert.DoesNotContain("features", detail);
    }

    [TestMethod]
    public void TheSameProgramBuiltFromChangedCode_IsACodeChangeFirst_AndItsDivergenceAConsequence_NeverNondeterminism()
    {
        string original = OutputRun("original", Probe, "--threads", "1").Trace;
        string changed = OutputRun("changed", ChangedProbe, "--threads", "1").Trace;
        (int exitCode, JsonElement report) = Diff(original, changed);
        Assert.AreEqual(1, exitCode, report.ToString());
        Assert.IsTrue(report.GetProperty("codeDiffers").GetBoolean(), report.ToString());
        Assert.AreEqual("ReproducibleBlock.StreamProbe", report.GetProperty("codeChanges")[0].GetProperty("assembly").GetString());
        JsonElement divergence = report.GetProperty("divergence");
        Assert.IsTrue(divergence.GetProperty("followsCodeChange").GetBoolean());
        Assert.AreEqual("structure", divergence.GetProperty("kind").GetString());
        // With the parts of a woven constructor keyed by site (issue 19), the first event that differs is the added
        // dropout's construction: B enters one more Dropout call inside the features member where A goes on.
        StringAssert.Contains(divergence.GetProperty("b").GetString(), "enters site Dropout", "B builds the added dropout where A goes on");

        (int textExitCode, string text) = DiffText(original, changed);
        Assert.AreEqual(1, textExitCode);
        int codeLine = text.IndexOf("The code differs: ReproducibleBlock.StreamProbe changed", StringComparison.Ordinal);
        Assert.IsTrue(codeLine >= 0 && codeLine < text.IndexOf("Diverged", StringComparison.Ordinal), text);
        Assert.DoesNotContain("nondeterministic", text.ToLowerInvariant(), text);
        Assert.DoesNotContain("nondeterministic", report.ToString().ToLowerInvariant());
    }

    [TestMethod]
    public void TwoBuildsOfTheSameCode_AreTheSameCode()
    {
        // The Core tests' probe and the one in its own output folder are two copies of one build; the MVID names the code.
        (int exitCode, JsonElement report) = Diff(OutputRun("a", Probe, "--threads", "1").Trace, TracedRun("b", 42, 0));
        Assert.IsFalse(report.GetProperty("codeDiffers").GetBoolean(), report.ToString());
        Assert.AreEqual(1, exitCode, "another program (--trace-run) parts in structure, but it is the same build");
    }
}
