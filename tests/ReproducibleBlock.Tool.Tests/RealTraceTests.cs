using System;
using System.IO;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.Tool.Diff;
using ReproducibleBlock.Tool.Show;

namespace ReproducibleBlock.Tool.Tests;

/// <summary>
/// Traces written by the library itself (Fixtures/, from main at fb1f4d1; see the project file): the reader takes what
/// the writer writes, and the differ says what changed between the runs. Expected counts come from the files' text.
/// </summary>
[TestClass]
public sealed class RealTraceTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    private static int Lines(string name, string ev) => File.ReadLines(Fixture(name)).Count(l => l.Contains($"\"ev\":\"{ev}\"", StringComparison.Ordinal));

    [TestMethod]
    public void QuickStart_Show_CountsItsTwoHandWrittenBlocks()
    {
        TraceSummary summary = TraceSummary.Read(Fixture("quickstart.jsonl"));
        Assert.IsTrue(summary.Complete);
        Assert.AreEqual(File.ReadLines(Fixture("quickstart.jsonl")).Count() - 1L, summary.Events);
        Assert.AreEqual(Lines("quickstart.jsonl", "enter"), summary.Entered);
        CollectionAssert.AreEqual(new[] { "1#0", "2#0" }, summary.Root.Children.Select(n => n.Path).ToArray());
        Assert.AreEqual("examples/QuickStart/Program.cs:11", summary.Root.Children[0].Entries.Single().Name);
        Assert.AreEqual(Lines("quickstart.jsonl", "seed"), summary.Seedings.Single().Count);
        Assert.IsEmpty(summary.Warnings);
    }

    [TestMethod]
    public void QuickStart_AgainstItself_IsTheSame() =>
        Assert.IsTrue(TraceDiffer.Diff(Fixture("quickstart.jsonl"), Fixture("quickstart.jsonl")).Same);

    [TestMethod]
    public void Training_WithoutDeterministicAlgorithms_AgreesWithTheSwitchesAsEnvironmentDifferences()
    {
        TraceDiff diff = TraceDiffer.Diff(Fixture("training.jsonl"), Fixture("training-no-deterministic.jsonl"));
        Assert.IsTrue(diff.Same);
        Assert.IsTrue(diff.Complete);
        CollectionAssert.AreEqual(
            new[] { new EnvironmentDifference("DeterministicAlgorithms", "True", "False"), new EnvironmentDifference("DeterministicCuDnn", "True", "False") },
            diff.EnvironmentDifferences.ToArray());
    }

    [TestMethod]
    public void Training_WithAnotherSeed_DivergesAtTheFirstBlockBecauseOfTheRootSeed()
    {
        TraceDiff diff = TraceDiffer.Diff(Fixture("training.jsonl"), Fixture("training-seed-43.jsonl"));
        Divergence d = diff.Divergence!;
        Assert.AreEqual((DivergenceKind.Entry, EntryCause.RootSeed, "ReproducibleBlock.Training.SyntheticImages.Generate", 3L, 3L),
            (d.Kind, d.Cause, d.Name, d.LineA, d.LineB));
        Assert.AreEqual(new LaterBlocks(0, Lines("training.jsonl", "enter") - 1, CountStop.End, 9, 9), diff.LaterBlocks);
        Assert.IsEmpty(diff.EnvironmentDifferences);
    }
}
