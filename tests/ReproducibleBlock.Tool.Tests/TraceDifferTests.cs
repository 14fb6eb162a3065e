using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.Tool.Diff;
using ReproducibleBlock.Tool.Traces;

namespace ReproducibleBlock.Tool.Tests;

/// <summary>The differ on crafted traces: each divergence kind, which one is first, entry causes, later blocks, warnings.</summary>
[TestClass]
public sealed class TraceDifferTests : TraceFileTest
{
    private TraceDiff Diff(TraceBuilder a, TraceBuilder b) => TraceDiffer.Diff(Write(a, "a.jsonl"), Write(b, "b.jsonl"));

    [TestMethod]
    public void SameTraces_Agree_Completely()
    {
        TraceDiff diff = Diff(Programs.Training(), Programs.Training());
        Assert.IsTrue(diff.Same);
        Assert.IsTrue(diff.Complete);
        Assert.AreEqual(0, diff.ExitCode);
        Assert.IsEmpty(diff.EnvironmentDifferences);
        Assert.IsEmpty(diff.Warnings);
        Assert.AreEqual(CountStop.NotCounted, diff.LaterBlocks.StoppedBy);
        Assert.AreEqual(12L, diff.A.Events);
    }

    [TestMethod]
    public void EnvironmentOnly_AgreesWithTheDifferencesAsWarnings()
    {
        TraceDiff diff = Diff(Programs.Training(), Programs.Training(environment: Programs.Environment("TorchThreads", "4")));
        Assert.IsTrue(diff.Same);
        Assert.AreEqual(0, diff.ExitCode);
        CollectionAssert.AreEqual(new[] { new EnvironmentDifference("TorchThreads", "2", "4") }, diff.EnvironmentDifferences.ToArray());
    }

    [TestMethod]
    public void EnvironmentKeyInOneRunOnly_IsADifferenceWithNullOnTheOtherSide()
    {
        var withCuda = Programs.Environment("CudaVersion", "12.8");
        TraceDiff diff = Diff(Programs.Training(environment: withCuda), Programs.Training());
        CollectionAssert.AreEqual(new[] { new EnvironmentDifference("CudaVersion", "12.8", null) }, diff.EnvironmentDifferences.ToArray());
    }

    [TestMethod]
    public void Entry_AnotherRootSeed_GivesBothSeeds()
    {
        TraceDiff diff = Diff(Programs.Training(), Programs.Training(seed: 43, netEnter: "seed 43 net enter"));
        Divergence d = Expect(diff, DivergenceKind.Entry, "Demo.Net..ctor", "1#0", 3, 3);
        Assert.AreEqual(EntryCause.RootSeed, d.Cause);
        StringAssert.Contains(d.Detail, "another root seed: A 42 (seed event on line 2), B 43 (seed event on line 2)");
        Assert.AreEqual(States.Of("net enter").ToString(), d.A);
        Assert.AreEqual(States.Of("seed 43 net enter").ToString(), d.B);
        StringAssert.Contains(d.Detail, "cpu and managed differ");
        Assert.IsEmpty(diff.Warnings, "the seed difference is the divergence's cause, not repeated as a warning");
        Assert.IsEmpty(diff.EnvironmentDifferences, "the environment's RootSeed is seeding, compared as such");
    }

    [TestMethod]
    public void Entry_AnotherDerivation()
    {
        TraceDiff diff = Diff(Programs.Training(), Programs.Training(derivation: "ResetAndAdvance", netEnter: "reset net enter"));
        Divergence d = Expect(diff, DivergenceKind.Entry, "Demo.Net..ctor", "1#0", 3, 3);
        Assert.AreEqual(EntryCause.Derivation, d.Cause);
        StringAssert.Contains(d.Detail, "another derivation: A Keyed, B ResetAndAdvance");
        Assert.IsEmpty(diff.EnvironmentDifferences, "the environment's Derivation is seeding, compared as such");
    }

    [TestMethod]
    public void Entry_EnvironmentKeysThatDiffer()
    {
        TraceDiff diff = Diff(Programs.Training(), Programs.Training(environment: Programs.Environment("LibTorchVersion", "2.7.1"), netEnter: "old libtorch"));
        Divergence d = Expect(diff, DivergenceKind.Entry, "Demo.Net..ctor", "1#0", 3, 3);
        Assert.AreEqual(EntryCause.Environment, d.Cause);
        StringAssert.Contains(d.Detail, "the environment differs in LibTorchVersion (A 2.10.0, B 2.7.1)");
        Assert.AreEqual("LibTorchVersion", diff.EnvironmentDifferences.Single().Key);
        Assert.DoesNotContain("before", d.Detail, "the enclosing state is the same");
    }

    [TestMethod]
    public void Entry_EnvironmentAndEnclosingStateDiffer_NamesTheEnvironmentAndSaysTheEnclosingStateDiffersToo()
    {
        TraceDiff diff = Diff(Programs.Training(),
            Programs.Training(environment: Programs.Environment("CpuModel", "Other CPU"), evalBefore: "other before", evalEnter: "other enter"));
        Divergence d = Expect(diff, DivergenceKind.Entry, "Demo.Eval", "3#0", 10, 10);
        Assert.AreEqual(EntryCause.Environment, d.Cause);
        StringAssert.Contains(d.Detail, "the environment differs in CpuModel (A absent, B Other CPU); the enclosing state (before) differs too.");
    }

    [TestMethod]
    public void Entry_TheEnclosingStateDiffers()
    {
        TraceDiff diff = Diff(Programs.Training(), Programs.Training(evalBefore: "other eval before", evalEnter: "other eval enter"));
        Divergence d = Expect(diff, DivergenceKind.Entry, "Demo.Eval", "3#0", 10, 10);
        Assert.AreEqual(EntryCause.EnclosingState, d.Cause);
        StringAssert.Contains(d.Detail, $"the enclosing state differs (before: A {States.Of("eval before")}; B {States.Of("other eval before")})");
    }

    [TestMethod]
    public void Entry_OfAContinuingBlock_IsTheStreamStateItResumed()
    {
        const string Stream = "128#0/~3f2a9c01d4e5b677";
        TraceBuilder Run(string secondCall) => new TraceBuilder().Seed()
            .Enter("128#0", "Demo.Train.Run", States.Of("run before"), States.Of("run enter"))
            .Block(Stream, "Demo.Layer", "call 1", "call 1 exit", "continuing")
            .Block(Stream, "Demo.Layer", secondCall, "call 2 exit", "continuing", beforeTag: "other before")
            .Exit("128#0", "Demo.Train.Run", States.Of("run exit"))
            .End();
        TraceDiff diff = Diff(Run("call 1 exit"), Run("resumed elsewhere"));
        Divergence d = Expect(diff, DivergenceKind.Entry, "Demo.Layer", Stream, 6, 6);
        Assert.AreEqual(EntryCause.StreamState, d.Cause);
        StringAssert.Contains(d.Detail, "the stream state this continuing block resumed differs");
    }

    [TestMethod]
    public void Entry_WithNothingToExplainIt_SaysSo()
    {
        TraceDiff diff = Diff(Programs.Training(), Programs.Training(evalEnter: "unexplained"));
        Divergence d = Expect(diff, DivergenceKind.Entry, "Demo.Eval", "3#0", 10, 10);
        Assert.AreEqual(EntryCause.Unexplained, d.Cause);
    }

    [TestMethod]
    public void Inside_NamesTheNondeterministicBlock_AndCountsTheLaterBlocks()
    {
        TraceDiff diff = Diff(Programs.Training(), Programs.Training(augmentExit: "racing threads"));
        Divergence d = Expect(diff, DivergenceKind.Inside, "Demo.Train.Augment", "2#0/7#0", 7, 7);
        Assert.IsNull(d.Cause);
        Assert.AreEqual(States.Of("augment exit").ToString(), d.A);
        Assert.AreEqual(States.Of("racing threads").ToString(), d.B);
        StringAssert.Contains(d.Detail, "something in this block is nondeterministic");
        StringAssert.Contains(d.Detail, "This is the block to look at");
        // Later: the epoch's exit (entered before the divergence: not counted) and Demo.Eval, which agrees.
        Assert.AreEqual(new LaterBlocks(1, 0, CountStop.End, 13, 13), diff.LaterBlocks);
    }

    [TestMethod]
    public void Inside_OnlyOneGeneratorDiffers_NamesIt()
    {
        TraceBuilder Run(States exit) => new TraceBuilder().Seed().Enter("1#0", "X.M", States.Of("b"), States.Of("s")).Exit("1#0", "X.M", exit).End();
        TraceDiff diff = Diff(Run(States.Of("x")), Run(States.Of("x").WithCpu("other cpu")));
        StringAssert.Contains(Expect(diff, DivergenceKind.Inside, "X.M", "1#0", 4, 4).Detail, "(cpu differs)");
    }

    [TestMethod]
    public void Mark_FingerprintDiffers_NamesTheMarkAndItsBlock()
    {
        TraceDiff diff = Diff(Programs.Training(), Programs.Training(loss: "other loss"));
        Divergence d = Expect(diff, DivergenceKind.Mark, "loss", "2#0", 8, 8);
        Assert.AreEqual(Fp.Of("loss"), d.A);
        Assert.AreEqual(Fp.Of("other loss"), d.B);
        StringAssert.Contains(d.Detail, "in block Demo.Train.Epoch (2#0)");
        Assert.AreEqual(new LaterBlocks(1, 0, CountStop.End, 13, 13), diff.LaterBlocks);
    }

    [TestMethod]
    public void Structure_ABlockEnteredInOneRunOnly()
    {
        TraceBuilder b = new TraceBuilder().Seed()
            .Block("1#0", "Demo.Net..ctor", "net enter", "net exit", "instance", restore: false)
            .Enter("2#0", "Demo.Train.Epoch", States.Of("epoch before"), States.Of("epoch enter"))
            .Block("2#0/9#0", "Demo.Train.Dropout")
            .End();
        TraceDiff diff = Diff(Programs.Training(), b);
        Divergence d = Expect(diff, DivergenceKind.Structure, "Demo.Train.Augment", "2#0/7#0", 6, 6);
        StringAssert.Contains(d.Detail, "path (A 2#0/7#0, B 2#0/9#0), name (A Demo.Train.Augment, B Demo.Train.Dropout)");
        StringAssert.Contains(d.Detail, "Both runs are inside Demo.Train.Epoch there.", "the blocks open around it, named: a path of keys alone cannot be mapped back");
        Assert.AreEqual("line 6: enters block Demo.Train.Augment (2#0/7#0)", d.A);
        Assert.AreEqual("line 6: enters block Demo.Train.Dropout (2#0/9#0)", d.B);
        Assert.AreEqual(new LaterBlocks(0, 0, CountStop.Structure, 6, 6), diff.LaterBlocks);
    }

    [TestMethod]
    public void Structure_AnotherKind()
    {
        Divergence d = Expect(Diff(Programs.Training(), Programs.Training(netKind: "block")), DivergenceKind.Structure, "Demo.Net..ctor", "1#0", 3, 3);
        StringAssert.Contains(d.Detail, "They differ in kind (A instance, B block).");
    }

    [TestMethod]
    public void Structure_AnotherRestore()
    {
        Divergence d = Expect(Diff(Programs.Training(), Programs.Training(netRestore: true)), DivergenceKind.Structure, "Demo.Net..ctor", "1#0", 3, 3);
        StringAssert.Contains(d.Detail, "They differ in restore (A false, B true).");
    }

    [TestMethod]
    public void Structure_AnotherEventKind()
    {
        TraceBuilder b = new TraceBuilder().Seed().Block("1#0", "Demo.Net..ctor", "net enter", "net exit", "instance", restore: false)
            .Mark("", "early", Fp.Of("early")).End();
        Divergence d = Expect(Diff(Programs.Training(), b), DivergenceKind.Structure, "Demo.Train.Epoch", "2#0", 5, 5);
        StringAssert.Contains(d.Detail, "ev (A enter, B mark)");
    }

    [TestMethod]
    public void Structure_OneCompleteTraceHasEventsTheOtherHasNot()
    {
        TraceBuilder longer = Programs.Training(end: false).Block("4#0", "Demo.Extra").End();
        TraceDiff diff = Diff(Programs.Training(), longer);
        Divergence d = Expect(diff, DivergenceKind.Structure, "Demo.Extra", "4#0", 13, 13);
        StringAssert.Contains(d.Detail, "A is complete here, while B has more events");
        Assert.IsTrue(diff.Complete);
        Assert.AreEqual(1, diff.ExitCode);
    }

    [TestMethod]
    public void Truncated_TheOtherGoesOn_SaysWhereTheShortOneStopped()
    {
        TraceBuilder stopped = new TraceBuilder().Seed()
            .Block("1#0", "Demo.Net..ctor", "net enter", "net exit", "instance", restore: false)
            .Enter("2#0", "Demo.Train.Epoch", States.Of("epoch before"), States.Of("epoch enter"))
            .Block("2#0/7#0", "Demo.Train.Augment", "augment enter", "augment exit");
        TraceDiff diff = Diff(Programs.Training(), stopped);
        Divergence d = Expect(diff, DivergenceKind.Truncated, "loss", "2#0", 8, null);
        StringAssert.Contains(d.Detail, "B ends after line 7 without an end event");
        StringAssert.Contains(d.Detail, "inside Demo.Train.Epoch (2#0), entered on line 5");
        StringAssert.Contains(d.Detail, "A goes on: line 8 marks 'loss' in 2#0");
        Assert.AreEqual("no more events (no end event; the trace stops after line 7)", d.B);
        Assert.IsFalse(diff.Complete);
        Assert.AreEqual(1, diff.ExitCode);
    }

    [TestMethod]
    public void Truncated_FirstTraceShorter_JustBeforeItsEnd()
    {
        TraceDiff diff = Diff(Programs.Training(end: false), Programs.Training());
        Divergence d = Expect(diff, DivergenceKind.Truncated, null, null, null, 13);
        StringAssert.Contains(d.Detail, "A ends after line 12 without an end event");
        StringAssert.Contains(d.Detail, "outside any block");
        Assert.AreEqual("line 13: ends (its end event)", d.B);
    }

    [TestMethod]
    public void BothTruncated_AtTheSamePoint_AgreeAsFarAsTheyGo_WithAWarning()
    {
        TraceDiff diff = Diff(Programs.Training(end: false), Programs.Training(end: false));
        Assert.IsTrue(diff.Same);
        Assert.IsFalse(diff.Complete);
        Assert.AreEqual(0, diff.ExitCode);
        StringAssert.Contains(diff.Warnings.Single(), "both traces stop early at the same point, without an end event (A after line 12, B after line 12)");
    }

    [TestMethod]
    public void BothTruncated_AtDifferentPoints_IsTruncated()
    {
        TraceDiff diff = Diff(Programs.Blocks(5, end: false), Programs.Blocks(3, end: false));
        Expect(diff, DivergenceKind.Truncated, "Demo.B3", "3#0", 9, null);
    }

    [TestMethod]
    public void LastLineCutShort_IsIgnored_WithAWarning()
    {
        TraceBuilder a = Programs.Training(end: false).CutShort("""{"ev":"end",""");
        TraceBuilder b = Programs.Training(end: false).CutShort("""{"ev":"e""");
        TraceDiff diff = Diff(a, b);
        Assert.IsTrue(diff.Same);
        Assert.AreEqual(0, diff.ExitCode);
        Assert.HasCount(3, diff.Warnings);
        StringAssert.Contains(diff.Warnings[0], "a.jsonl:13: the last line is cut short");
        StringAssert.Contains(diff.Warnings[1], "b.jsonl:13: the last line is cut short");
    }

    [TestMethod]
    public void SeveralDivergences_TheFirstIsReported()
    {
        TraceDiff diff = Diff(Programs.Training(), Programs.Training(augmentEnter: "x", loss: "y", evalExit: "z"));
        Expect(diff, DivergenceKind.Entry, "Demo.Train.Augment", "2#0/7#0", 6, 6);
        // Later: Augment's own exit is the diverged block's, the epoch was entered before; Demo.Eval differs on exit.
        Assert.AreEqual(new LaterBlocks(0, 1, CountStop.End, 13, 13), diff.LaterBlocks);
    }

    [TestMethod]
    public void LaterBlocks_CountAgreeingAndDifferingPairs()
    {
        TraceDiff diff = Diff(Programs.Blocks(10), Programs.Blocks(10, enterDiffers: [5], exitDiffers: [2, 7]));
        Expect(diff, DivergenceKind.Inside, "Demo.B2", "2#0", 8, 8);
        Assert.AreEqual(new LaterBlocks(5, 2, CountStop.End, 23, 23), diff.LaterBlocks);
        Assert.AreEqual(7L, diff.LaterBlocks.Compared);
    }

    [TestMethod]
    public void LaterBlocks_StopWhereTheStructureParts()
    {
        TraceBuilder b = new TraceBuilder().Seed()
            .Block("0#0", "Demo.B0", "enter 0", "exit 0")
            .Block("1#0", "Demo.B1", "enter 1", "exit 1")
            .Block("2#0", "Demo.B2", "enter 2", "other exit 2")
            .Block("3#0", "Demo.B3", "enter 3", "exit 3")
            .Block("9#0", "Demo.Inserted")
            .Block("4#0", "Demo.B4", "enter 4", "exit 4")
            .End();
        TraceDiff diff = Diff(Programs.Blocks(6), b);
        Expect(diff, DivergenceKind.Inside, "Demo.B2", "2#0", 8, 8);
        Assert.AreEqual(new LaterBlocks(1, 0, CountStop.Structure, 11, 11), diff.LaterBlocks);
    }

    [TestMethod]
    public void LaterBlocks_StopWhereOneTraceEnds()
    {
        TraceDiff diff = Diff(Programs.Blocks(6), Programs.Blocks(5, exitDiffers: [1], end: false));
        Expect(diff, DivergenceKind.Inside, "Demo.B1", "1#0", 6, 6);
        Assert.AreEqual(new LaterBlocks(3, 0, CountStop.Truncated, 13, 12), diff.LaterBlocks);
    }

    [TestMethod]
    public void RootSeedsDifferWithoutAnyBlock_IsAWarning()
    {
        TraceDiff diff = Diff(new TraceBuilder().Seed(1).End(), new TraceBuilder().Seed(2).End());
        Assert.IsTrue(diff.Same);
        StringAssert.Contains(diff.Warnings.Single(), "the runs were seeded with other root seeds: A 1 (seed event on line 2), B 2");
    }

    [TestMethod]
    public void SeededAnotherNumberOfTimes_IsAWarning()
    {
        TraceDiff diff = Diff(Programs.Blocks(2), new TraceBuilder().Seed().Block("0#0", "Demo.B0", "enter 0", "exit 0").Seed()
            .Block("1#0", "Demo.B1", "enter 1", "exit 1").End());
        Assert.IsTrue(diff.Same);
        StringAssert.Contains(diff.Warnings.Single(), "A has 1 seed event(s), B has 2");
    }

    [TestMethod]
    public void EntryCause_UsesTheSeedInForceAtTheBlock()
    {
        // Both runs start with seed 42; B re-seeds with 7 before its second block.
        TraceBuilder a = new TraceBuilder().Seed(42).Block("0#0", "Demo.B0", "enter 0", "exit 0").Seed(42).Block("1#0", "Demo.B1", "enter 1", "exit 1").End();
        TraceBuilder b = new TraceBuilder().Seed(42).Block("0#0", "Demo.B0", "enter 0", "exit 0").Seed(7).Block("1#0", "Demo.B1", "seed 7", "exit 1").End();
        Divergence d = Expect(Diff(a, b), DivergenceKind.Entry, "Demo.B1", "1#0", 6, 6);
        StringAssert.Contains(d.Detail, "A 42 (seed event on line 5), B 7 (seed event on line 5)");
    }

    [TestMethod]
    public void UnreadableLineAfterTheDivergence_StillMakesTheInputUnreadable()
    {
        TraceBuilder b = Programs.Training(netEnter: "x", end: false).Raw("""{"ev":"end"}""");
        var error = Assert.Throws<TraceFormatException>(() => Diff(Programs.Training(), b));
        StringAssert.EndsWith(error.Message, "b.jsonl:13: end event: property 'seq' is missing");
    }

    [TestMethod]
    public void ExitCode_OfADiff_IsOneAtADivergence()
    {
        Assert.AreEqual(1, Diff(Programs.Training(), Programs.Training(loss: "x")).ExitCode);
    }

    private static Divergence Expect(TraceDiff diff, DivergenceKind kind, string? name, string? path, long? lineA, long? lineB)
    {
        Divergence d = diff.Divergence ?? throw new AssertFailedException("the traces agree; a divergence was expected");
        Assert.AreEqual((kind, name, path, lineA, lineB), (d.Kind, d.Name, d.Path, d.LineA, d.LineB), d.Detail);
        Assert.IsFalse(diff.Same);
        Assert.AreEqual(1, diff.ExitCode);
        return d;
    }
}
