using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.Tool.Diff;
using ReproducibleBlock.Tool.Traces;

namespace ReproducibleBlock.Tool.Tests;

/// <summary>
/// Format 2 (issue 21): outputs of modules, code identities, environment changes after SetSeed, restores, passive calls
/// and refused draws; read, compared and reported, and format 1 traces still read beside them.
/// </summary>
[TestClass]
public sealed class FormatTwoTests : TraceFileTest
{
    /// <summary>The example of the README's format 2 section, byte for byte.</summary>
    internal const string Format2Example = """
        {"ev":"trace","format":2,"library":"0.3.0","pid":4211,"started":"2026-12-14T09:30:02.118Z","tensors":true}
        {"ev":"seed","seq":0,"rootSeed":42,"derivation":"Keyed","environment":{"CpuCapability":"AVX2","TorchThreads":"2","DeterministicAlgorithms":"False"}}
        {"ev":"environment","seq":1,"path":"","changed":{"DeterministicAlgorithms":"True"}}
        {"ev":"code","seq":2,"assembly":"Demo","version":"1.0.0.0","mvid":"6f1c2a9e-04b7-4d55-9a31-0c8e2f7d1b40"}
        {"ev":"enter","seq":3,"path":"1#0","name":"Demo.Net..ctor","kind":"instance","restore":false,"before":{"cpu":"8d1f0c9a52e3b771","managed":"04c2aa9d1e7f3360","cuda":null},"state":{"cpu":"a1b2c3d4e5f60718","managed":"1f2e3d4c5b6a7980","cuda":null}}
        {"ev":"exit","seq":4,"path":"1#0","name":"Demo.Net..ctor","state":{"cpu":"0f1e2d3c4b5a6978","managed":"1f2e3d4c5b6a7980","cuda":null}}
        {"ev":"enter","seq":5,"path":"~5b0e8f1d2c3a4b69","name":"Net.classifier.2","kind":"continuing","restore":true,"before":{"cpu":"0f1e2d3c4b5a6978","managed":"1f2e3d4c5b6a7980","cuda":null},"state":{"cpu":"3c4d5e6f708192a3","managed":"2a3b4c5d6e7f8091","cuda":null}}
        {"ev":"exit","seq":6,"path":"~5b0e8f1d2c3a4b69","name":"Net.classifier.2","state":{"cpu":"4d5e6f708192a3b4","managed":"2a3b4c5d6e7f8091","cuda":null},"output":"9e8d7c6b5a493827"}
        {"ev":"passive","seq":7,"path":"","name":"The continuing block of Demo.Augmenter.forward (a Augmenter)","thread":12,"threadName":".NET TP Worker","reason":"Fork"}
        {"ev":"draw","seq":8,"path":"","name":"Demo.Images.GetTensor","thread":13,"threadName":null,"reason":"DataLoading","detail":"batch 0 of epoch 0"}
        {"ev":"seed","seq":9,"rootSeed":42,"derivation":"Keyed","environment":{"CpuCapability":"AVX2","TorchThreads":"2","DeterministicAlgorithms":"True"},"restored":"Restore","path":"","state":{"cpu":"0f1e2d3c4b5a6978","managed":"1f2e3d4c5b6a7980","cuda":null}}
        {"ev":"end","seq":10}

        """;

    private TraceDiff Diff(TraceBuilder a, TraceBuilder b) => TraceDiffer.Diff(Write(a, "a.jsonl"), Write(b, "b.jsonl"));

    private static readonly string MvidA = "6f1c2a9e-04b7-4d55-9a31-0c8e2f7d1b40";
    private static readonly string MvidB = "0a9b8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d";

    /// <summary>
    /// A model's training steps: the network's continuing block, inside it a dropout's path stream and a reduction's block,
    /// each exit with its output. <paramref name="reduceOutputs"/> gives the reduction's output tag per step; every other
    /// output follows from it (the network's output from the reduction's), as values flow through a model.
    /// </summary>
    private static TraceBuilder Model(string[] reduceOutputs, int threads = 2, string mvid = "6f1c2a9e-04b7-4d55-9a31-0c8e2f7d1b40",
        bool tensors = true, bool deterministicLater = false, TraceBuilder? start = null)
    {
        TraceBuilder trace = (start ?? TraceBuilder.Format2(tensors))
            .SeedWith("TorchThreads", threads.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .Code("Demo", mvid)
            .Block("1#0", "Demo.Net..ctor", kind: "instance", restore: false);
        if (deterministicLater)
            trace.EnvironmentChange("DeterministicAlgorithms", "True");
        for (int step = 1; step <= reduceOutputs.Length; step++)
        {
            string reduced = reduceOutputs[step - 1];
            trace.Enter("~aaaaaaaaaaaaaaaa", "Net", States.Of($"net before {step}"), States.Of($"net enter {step}"), "continuing")
                .Module("~aaaaaaaaaaaaaaaa/~bbbbbbbbbbbbbbbb", "Net.features.2", tensors ? $"dropout out {step}" : null, step)
                .Module("~aaaaaaaaaaaaaaaa/~cccccccccccccccc", "Net.reduce", tensors ? reduced : null, step)
                .Exit("~aaaaaaaaaaaaaaaa", "Net", States.Of($"net exit {step}"), tensors ? Fp.Of("net out from " + reduced) : null)
                .Mark("", "loss", Fp.Of("loss from " + reduced));
        }
        return trace.End();
    }

    [TestMethod]
    public void Format2Example_ReadsEveryNewEventAndProperty()
    {
        using var reader = new TraceReader(new MemoryStream(Encoding.UTF8.GetBytes(Format2Example.Replace("\r\n", "\n"))), "t.jsonl");
        Assert.AreEqual(new TraceHeader(2, "0.3.0", 4211, "2026-12-14T09:30:02.118Z", Tensors: true), reader.Header);
        List<TraceEvent> events = reader.ReadAll().ToList();
        Assert.HasCount(11, events);
        var changed = (EnvironmentEvent)events[1];
        Assert.AreEqual("True", changed.Changed["DeterministicAlgorithms"]);
        var code = (CodeEvent)events[2];
        Assert.AreEqual(("Demo", "1.0.0.0", MvidA), (code.Assembly, code.Version, code.Mvid));
        var exit = (ExitEvent)events[6];
        Assert.AreEqual(("Net.classifier.2", "9e8d7c6b5a493827"), (exit.Name, exit.Output));
        Assert.IsNull(((ExitEvent)events[4]).Output, "a constructor's block has no output");
        var passive = (PassiveEvent)events[7];
        Assert.AreEqual((12L, ".NET TP Worker", "Fork"), (passive.Thread, passive.ThreadName, passive.Reason));
        var draw = (DrawEvent)events[8];
        Assert.AreEqual(("Demo.Images.GetTensor", 13L, (string?)null, "DataLoading", "batch 0 of epoch 0"),
            (draw.Name, draw.Thread, draw.ThreadName, draw.Reason, draw.Detail));
        var restored = (SeedEvent)events[9];
        Assert.AreEqual(("Restore", ""), (restored.Restored, restored.Path));
        Assert.AreEqual("0f1e2d3c4b5a6978", restored.State!.Value.Cpu);
        Assert.IsNull(((SeedEvent)events[0]).Restored, "SetSeed's seed event restores nothing");
        Assert.IsEmpty(reader.Warnings);
    }

    [TestMethod]
    public void Format1Fixtures_StillRead_AndAFormat3TraceIsRefused()
    {
        foreach (string fixture in System.IO.Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Fixtures"), "*.jsonl"))
        {
            using TraceReader reader = TraceReader.Open(fixture);
            Assert.AreEqual(1, reader.Header.Format, fixture);
            Assert.IsFalse(reader.Header.Tensors);
            Assert.IsNotEmpty(reader.ReadAll().ToList(), fixture);
        }
        var error = Assert.ThrowsExactly<TraceFormatException>(() => new TraceReader(
            new MemoryStream(Encoding.UTF8.GetBytes("""{"ev":"trace","format":3,"library":"9.0.0","pid":1,"started":"2026-12-14T09:30:02.118Z"}""" + "\n")), "t.jsonl"));
        StringAssert.Contains(error.Message, "this reader knows formats 1 to 2");
    }

    [TestMethod]
    [DataRow("""{"ev":"exit","seq":0,"path":"1#0","name":null,"state":{"cpu":null,"managed":null,"cuda":null},"output":"XYZ"}""", "property 'output' must be 16 lowercase hex digits or null")]
    [DataRow("""{"ev":"seed","seq":0,"rootSeed":1,"derivation":"Keyed","environment":{},"restored":"Rewind"}""", "property 'restored' must be \"Restore\", \"Resume\" or null")]
    [DataRow("""{"ev":"code","seq":0,"assembly":"Demo","version":"1.0.0.0"}""", "code event: property 'mvid' is missing")]
    [DataRow("""{"ev":"draw","seq":0,"path":"","name":"X","thread":"one","reason":"Fork","detail":""}""", "property 'thread' must be an integer")]
    [DataRow("""{"ev":"environment","seq":0,"path":"","changed":{"TorchThreads":4}}""", "property 'changed.TorchThreads' must be a string")]
    public void BrokenFormat2Lines_AreRefused_NamingTheProperty(string line, string expected)
    {
        string text = """{"ev":"trace","format":2,"library":"0.3.0","pid":1,"started":"2026-12-14T09:30:02.118Z","tensors":true}""" + "\n" + line + "\n";
        using var reader = new TraceReader(new MemoryStream(Encoding.UTF8.GetBytes(text)), "t.jsonl");
        var error = Assert.ThrowsExactly<TraceFormatException>(() => reader.ReadAll().ToList());
        StringAssert.Contains(error.Message, expected);
        StringAssert.Contains(error.Message, "t.jsonl:2");
    }

    [TestMethod]
    public void AModuleWhoseOutputDiffers_IsAnOutputDivergence_NamingThatModuleOnly_WithItsCallAndTheEnvironment()
    {
        TraceDiff diff = Diff(Model(["sum 1", "sum 2", "sum 3"], threads: 1), Model(["sum 1", "other sum 2", "other sum 3"], threads: 2));
        Divergence d = diff.Divergence ?? throw new AssertFailedException("expected a divergence");
        Assert.AreEqual(DivergenceKind.Output, d.Kind, d.Detail);
        Assert.AreEqual(("Net.reduce", "~aaaaaaaaaaaaaaaa/~cccccccccccccccc", 2L), (d.Name, d.Path, d.Step));
        Assert.AreEqual(Fp.Of("sum 2"), d.A);
        Assert.AreEqual(Fp.Of("other sum 2"), d.B);
        StringAssert.Contains(d.Detail, "random streams agree; the computation differs: a nondeterministic kernel, a thread count, an uninitialised buffer",
            StringComparison.OrdinalIgnoreCase);
        StringAssert.Contains(d.Detail, "every random stream before it agreed");
        Assert.DoesNotContain("features", d.Detail, "the dropout before it agreed: not named");
        CollectionAssert.AreEqual(new[] { new EnvironmentDifference("TorchThreads", "1", "2") }, d.Environment!.ToArray());
        Assert.AreEqual(1, diff.ExitCode);
        Assert.IsFalse(diff.CodeDiffers);
    }

    [TestMethod]
    public void TheDeterministicSwitchTurnedOnAfterSetSeed_IsAnEnvironmentDifferenceBesideTheOutput()
    {
        TraceDiff diff = Diff(Model(["sum 1", "sum 2"], deterministicLater: true), Model(["sum 1", "other sum 2"]));
        Divergence d = diff.Divergence!;
        Assert.AreEqual(DivergenceKind.Output, d.Kind);
        CollectionAssert.AreEqual(new[] { new EnvironmentDifference("DeterministicAlgorithms", "True", null) }, d.Environment!.ToArray(),
            "the seed events agree; the change after SetSeed is what differs");
        Assert.AreEqual("DeterministicAlgorithms", diff.EnvironmentDifferences.Single().Key);
    }

    [TestMethod]
    public void OutputsAgreeing_AreSame_AndOutputsTracedInOneRunOnly_AreNotCompared()
    {
        Assert.IsTrue(Diff(Model(["sum 1", "sum 2"]), Model(["sum 1", "sum 2"])).Same);
        TraceDiff oneSided = Diff(Model(["sum 1", "sum 2"]), Model(["sum 1", "other sum 2"], tensors: false));
        Assert.AreEqual(DivergenceKind.Mark, oneSided.Divergence!.Kind, "the loss mark differs; the outputs are compared only where both runs traced them");
        Assert.IsTrue(oneSided.Warnings.Any(w => w.Contains("only A traced modules' output tensors", StringComparison.Ordinal)), string.Join("\n", oneSided.Warnings));
    }

    [TestMethod]
    public void ARandomStreamThatDiffers_IsStillInside_NotOutput()
    {
        TraceBuilder a = Model(["sum 1"]);
        TraceBuilder b = TraceBuilder.Format2()
            .SeedWith("TorchThreads", "2").Code("Demo", MvidA).Block("1#0", "Demo.Net..ctor", kind: "instance", restore: false)
            .Enter("~aaaaaaaaaaaaaaaa", "Net", States.Of("net before 1"), States.Of("net enter 1"), "continuing")
            .Module("~aaaaaaaaaaaaaaaa/~bbbbbbbbbbbbbbbb", "Net.features.2", "dropout out other", exitTag: "dropout drew more")
            .End();
        TraceDiff diff = Diff(a, b);
        Assert.AreEqual(DivergenceKind.Inside, diff.Divergence!.Kind);
        Assert.AreEqual("Net.features.2", diff.Divergence.Name);
    }

    [TestMethod]
    public void AnotherBuildOfTheCode_IsSaidFirst_AndTheDivergenceIsItsConsequence_NeverNondeterminism()
    {
        TraceDiff diff = Diff(Model(["sum 1", "sum 2"]), Model(["sum 1", "other sum 2"], mvid: MvidB));
        Assert.IsTrue(diff.CodeDiffers);
        CodeChange change = diff.CodeChanges.Single();
        Assert.AreEqual("Demo", change.Assembly);
        StringAssert.Contains(change.A, MvidA);
        StringAssert.Contains(change.B, MvidB);
        Divergence d = diff.Divergence!;
        Assert.AreEqual(DivergenceKind.Output, d.Kind);
        Assert.IsTrue(d.FollowsCodeChange);
        StringAssert.Contains(d.Detail, "The code changed");

        ToolRun run = RunDiff(Model(["sum 1", "sum 2"]), Model(["sum 1", "other sum 2"], mvid: MvidB));
        Assert.AreEqual(1, run.ExitCode, run.ToString());
        StringAssert.StartsWith(run.Output.Split("\n\n")[1].Trim(), "The code differs: Demo changed", run.Output);
        Assert.DoesNotContain("nondetermin", run.Output.ToLowerInvariant(), run.Output);
        Assert.DoesNotContain("nondetermin", RunDiff(Model(["sum 1", "sum 2"]), Model(["sum 1", "other sum 2"], mvid: MvidB), "--json").Output.ToLowerInvariant());
    }

    [TestMethod]
    public void AnotherBuild_WhoseBlocksDrawDifferently_IsInsideAsAConsequence_WithoutTheWordNondeterministic()
    {
        TraceBuilder a = new TraceBuilder().Seed().Block("0#0", "Demo.B0").Block("1#0", "Demo.B1").End();
        TraceBuilder b = new TraceBuilder().Seed().Block("0#0", "Demo.B0").Block("1#0", "Demo.B1", exitTag: "other exit 1").End();
        // The same blocks, from two builds: the code events come first, as the writer puts them.
        TraceBuilder codeA = TraceBuilder.Format2().Seed().Code("Demo", MvidA).Block("0#0", "Demo.B0").Block("1#0", "Demo.B1").End();
        TraceBuilder codeB = TraceBuilder.Format2().Seed().Code("Demo", MvidB).Block("0#0", "Demo.B0").Block("1#0", "Demo.B1", exitTag: "other exit 1").End();
        TraceDiff plain = Diff(a, b);
        StringAssert.Contains(plain.Divergence!.Detail, "nondeterministic", "without code events, the same traces are nondeterminism");
        TraceDiff changed = Diff(codeA, codeB);
        Assert.AreEqual(DivergenceKind.Inside, changed.Divergence!.Kind);
        Assert.IsTrue(changed.Divergence.FollowsCodeChange);
        Assert.DoesNotContain("nondetermin", changed.Divergence.Detail.ToLowerInvariant());
    }

    [TestMethod]
    public void AStructureChangeOfAnotherBuild_IsAConsequence_AndAnEntryWithNothingElseToBlame_IsTheCodeChange()
    {
        TraceBuilder a = TraceBuilder.Format2().Seed().Code("Demo", MvidA).Block("0#0", "Demo.B0").Block("1#0", "Demo.B1").End();
        TraceBuilder added = TraceBuilder.Format2().Seed().Code("Demo", MvidB).Block("0#0", "Demo.B0").Block("5#0", "Demo.Added").Block("1#0", "Demo.B1").End();
        TraceDiff structure = Diff(a, added);
        Assert.AreEqual((DivergenceKind.Structure, true), (structure.Divergence!.Kind, structure.Divergence.FollowsCodeChange));

        TraceBuilder entry = TraceBuilder.Format2().Seed().Code("Demo", MvidB).Block("0#0", "Demo.B0", enterTag: "moved").Block("1#0", "Demo.B1").End();
        TraceDiff moved = Diff(a, entry);
        Assert.AreEqual((DivergenceKind.Entry, EntryCause.CodeChange), (moved.Divergence!.Kind, moved.Divergence.Cause));
    }

    [TestMethod]
    public void TheSameBuild_IsNoCodeChange_AndAnAssemblyInOneRunOnly_IsNoneEither()
    {
        TraceBuilder a = TraceBuilder.Format2().Seed().Code("Demo", MvidA).Block("0#0", "Demo.B0").End();
        TraceBuilder b = TraceBuilder.Format2().Seed().Code("Demo", MvidA.ToUpperInvariant()).Code("Plugin", MvidB).Block("0#0", "Demo.B0").End();
        TraceDiff diff = Diff(a, b);
        Assert.IsTrue(diff.Same);
        Assert.IsFalse(diff.CodeDiffers);
    }

    [TestMethod]
    public void ARefusedDrawInGetTensor_IsTheDivergence_NamingTheDataset_NotTheMarkThatFollows()
    {
        TraceBuilder good = TraceBuilder.Format2().Seed().Enter("128#0", "Demo.Train", States.Of("b"), States.Of("e"))
            .Mark("128#0", "epoch0", Fp.Of("batches")).Exit("128#0", "Demo.Train", States.Of("x")).End();
        TraceBuilder drew = TraceBuilder.Format2().Seed().Enter("128#0", "Demo.Train", States.Of("b"), States.Of("e"))
            .Draw("128#0", "Demo.AugmentedImages.GetTensor", "batch 0 of epoch 0")
            .Mark("128#0", "epoch0", Fp.Of("other batches")).Exit("128#0", "Demo.Train", States.Of("x")).End();
        TraceDiff diff = Diff(good, drew);
        Divergence d = diff.Divergence!;
        Assert.AreEqual((DivergenceKind.Draw, "Demo.AugmentedImages.GetTensor", (long?)null, (long?)4), (d.Kind, d.Name, d.LineA, d.LineB), d.Detail);
        StringAssert.Contains(d.Detail, "while batch 0 of epoch 0 loaded");
        StringAssert.Contains(d.Detail, "the traces part: mark at epoch0");
        Assert.AreEqual(1, diff.B.Draws);

        ToolRun run = RunDiff(good, drew);
        StringAssert.Contains(run.Output, "Diverged: draw");
        StringAssert.Contains(run.Output, "Demo.AugmentedImages.GetTensor");
    }

    [TestMethod]
    public void RefusedDrawsInRunsThatAgree_AreAWarning_AndPassiveCallsDoNotLineUp()
    {
        TraceBuilder a = TraceBuilder.Format2().Seed().Passive("", "The continuing block of Demo.Aug.forward (a Aug)", thread: 5)
            .Block("1#0", "Demo.B").Draw("", "Demo.Images.GetTensor", "batch 3 of epoch 1").End();
        TraceBuilder b = TraceBuilder.Format2().Seed().Block("1#0", "Demo.B")
            .Passive("", "The continuing block of Demo.Aug.forward (a Aug)", thread: 9).Passive("", "The continuing block of Demo.Aug.forward (a Aug)", thread: 8).End();
        TraceDiff diff = Diff(a, b);
        Assert.IsTrue(diff.Same, diff.Divergence?.Detail);
        Assert.AreEqual((1L, 2L), (diff.A.PassiveCalls, diff.B.PassiveCalls));
        Assert.IsTrue(diff.Warnings.Any(w => w.StartsWith("A recorded 1 draw(s) the library refused, first Demo.Images.GetTensor", StringComparison.Ordinal)),
            string.Join("\n", diff.Warnings));
    }

    [TestMethod]
    public void RestoredSnapshotsThatDiffer_AreTheEntryCause()
    {
        TraceBuilder a = TraceBuilder.Format2().Seed().Restored("Restore", States.Of("snapshot 1")).Block("1#0", "Demo.B", enterTag: "from 1").End();
        TraceBuilder b = TraceBuilder.Format2().Seed().Restored("Restore", States.Of("snapshot 2")).Block("1#0", "Demo.B", enterTag: "from 2").End();
        Divergence d = Diff(a, b).Divergence!;
        Assert.AreEqual((DivergenceKind.Entry, EntryCause.Snapshot), (d.Kind, d.Cause));
        StringAssert.Contains(d.Detail, "put back snapshots that hold other states: A Restore on line 3");
    }

    [TestMethod]
    public void AFormat1TraceBesideAFormat2One_IsComparedWithAWarning()
    {
        TraceDiff diff = Diff(new TraceBuilder().Seed().Block("0#0", "Demo.B0").Block("1#0", "Demo.B1").End(),
            TraceBuilder.Format2().Seed().Block("0#0", "Demo.B0").Block("1#0", "Demo.B1").End());
        Assert.IsTrue(diff.Same);
        Assert.IsTrue(diff.Warnings.Any(w => w.StartsWith("A is a format 1 trace", StringComparison.Ordinal)), string.Join("\n", diff.Warnings));
    }

    [TestMethod]
    public void TheOutputReport_PrintsTheModuleItsCallAndTheEnvironmentBesideIt_AndTheJsonHasThem()
    {
        ToolRun run = RunDiff(Model(["sum 1", "sum 2"], threads: 1), Model(["sum 1", "other sum 2"], threads: 2));
        Assert.AreEqual(1, run.ExitCode);
        StringAssert.Contains(run.Output, "Diverged: output");
        StringAssert.Contains(run.Output, "block  Net.reduce");
        StringAssert.Contains(run.Output, "call   2");
        StringAssert.Contains(run.Output, "Environment differences where it happens:");
        Assert.DoesNotContain("Net.features.2", run.Output);

        ToolRun json = RunDiff(Model(["sum 1", "sum 2"], threads: 1), Model(["sum 1", "other sum 2"], threads: 2), "--json");
        using var document = System.Text.Json.JsonDocument.Parse(json.Output);
        System.Text.Json.JsonElement divergence = document.RootElement.GetProperty("divergence");
        Assert.AreEqual("output", divergence.GetProperty("kind").GetString());
        Assert.AreEqual(2, divergence.GetProperty("step").GetInt64());
        Assert.AreEqual("TorchThreads", divergence.GetProperty("environment")[0].GetProperty("key").GetString());
        Assert.IsFalse(document.RootElement.GetProperty("codeDiffers").GetBoolean());
        Assert.IsTrue(document.RootElement.GetProperty("traces").GetProperty("a").GetProperty("tensors").GetBoolean());
    }

    [TestMethod]
    public void Show_ListsTheCodeAndCountsOutputsPassiveCallsAndDraws()
    {
        string path = Path.Combine(Directory, "t.jsonl");
        File.WriteAllText(path, Format2Example.Replace("\r\n", "\n"));
        ToolRun run = Run("show", path);
        Assert.AreEqual(0, run.ExitCode, run.ToString());
        StringAssert.Contains(run.Output, MvidA);
        StringAssert.Contains(run.Output, "Also    outputs: 1, passive calls: 1, refused draws: 1");
        StringAssert.Contains(run.Output, "the environment changed after SetSeed: DeterministicAlgorithms False -> True");
    }
}
