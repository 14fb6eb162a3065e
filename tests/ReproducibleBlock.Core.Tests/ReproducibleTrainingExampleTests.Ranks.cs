using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.Tests.Shared;

namespace ReproducibleBlock.Tests;

/// <summary>
/// The example on several ranks (<c>--world-size W --rank R</c>, or a launcher's <c>RANK</c> and <c>WORLD_SIZE</c>): the
/// W processes run side by side, each with its own <c>--sample-log</c>, and the union of their lines
/// (<c>STEP INDEX HASH</c>: the global step, the sample, the XXH64 of its augmented image) is the one process's lines,
/// each once: the same samples at the same global steps with the same augmentation, none consumed twice in an epoch,
/// none padded. A run stopped on 4 ranks and resumed on 2 (or on 1, <c>--world-size 1</c>) consumes, with the lines
/// before the stop, the same lines again. Another seed gives other lines. Only samples and augmentation are compared:
/// each rank trains its own copy of the model on its shards (there is no gradient averaging in the example), so the
/// weights depend on the world size.
/// </summary>
public sealed partial class ReproducibleTrainingExampleTests
{
    /// <summary>Two epochs of 7 global batches of 32 (the last of 8 samples: 2 per rank on 4 ranks).</summary>
    private const int RankEpochs = 2, GlobalBatches = 7;

    private static readonly string[] RankSettings = ["--epochs", "2", "--workers", "1"];

    /// <summary>The sample log of one process, without --world-size: the run as it is without ranks.</summary>
    private static readonly Lazy<string[]> OneProcessSamples = new(() => SampleLog("samples-1", RankSettings));

    /// <summary>Runs the example with --sample-log into the scratch file <paramref name="name"/>, checks that it finished, and returns the log's lines.</summary>
    private static string[] SampleLog(string name, string[] arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        string log = ScratchPath(name + ".log");
        ExampleRun run = RunWith(environment ?? new Dictionary<string, string>(), [.. arguments, "--sample-log", log]);
        Assert.AreEqual(0, run.ExitCode, run.Describe());
        return File.ReadAllLines(log);
    }

    /// <summary>The W ranks side by side, each a process with its own log (<paramref name="arguments"/> for all, then its rank's); their lines together.</summary>
    private static List<string> Ranks(string name, int worldSize, Func<int, string[]> arguments, bool fromEnvironment = false, bool finish = true)
    {
        var logs = new string[worldSize][];
        Parallel.For(0, worldSize, new ParallelOptions { MaxDegreeOfParallelism = worldSize }, rank =>
        {
            string log = ScratchPath($"{name}-rank-{rank}-of-{worldSize}.log");
            string[] rankArguments = fromEnvironment ? [] : ["--world-size", worldSize.ToString(), "--rank", rank.ToString()];
            var environment = fromEnvironment
                ? new Dictionary<string, string> { ["RANK"] = rank.ToString(), ["WORLD_SIZE"] = worldSize.ToString(), ["LOCAL_RANK"] = rank.ToString() }
                : new Dictionary<string, string>();
            ExampleRun run = RunWith(environment, [.. RankSettings, .. arguments(rank), .. rankArguments, "--sample-log", log]);
            Assert.AreEqual(0, run.ExitCode, run.Describe());
            if (finish)
                Assert.IsTrue(run.Output.StartsWith("classifier-masks: ", StringComparison.Ordinal), run.Describe());
            logs[rank] = File.ReadAllLines(log);
        });
        return [.. logs.SelectMany(lines => lines)];
    }

    private static string[] Sorted(IEnumerable<string> lines) => [.. lines.Order(StringComparer.Ordinal)];

    [TestMethod]
    public void TheSampleLogsOfOneTwoAndFourRanks_TogetherAreTheOneProcessLines_EachSampleOncePerEpoch()
    {
        List<string> two = default!, four = default!;
        Parallel.Invoke(SideBySide,
            () => _ = OneProcessSamples.Value,
            () => two = Ranks("samples-2", 2, _ => [], fromEnvironment: true), // RANK and WORLD_SIZE, as a launcher sets them
            () => four = Ranks("samples-4", 4, _ => []));
        string[] one = OneProcessSamples.Value;

        Assert.HasCount(RankEpochs * 200, one, "every sample of each epoch once, none padded");
        Assert.IsTrue(one.All(line => Regex.IsMatch(line, "^[0-9]+ [0-9]+ [0-9a-f]{16}$")), string.Join('\n', one.Take(5)));
        foreach (IGrouping<int, string> epoch in one.GroupBy(line => int.Parse(line.Split(' ')[0]) / GlobalBatches))
        {
            string[] samples = [.. epoch.Select(line => line.Split(' ')[1])];
            Assert.HasCount(200, samples.Distinct(), $"epoch {epoch.Key}: each of the 200 samples once");
            Assert.HasCount(200, samples, $"epoch {epoch.Key}: no sample twice");
        }
        Assert.HasCount(one.Length, one.Select(line => line.Split(' ')[2]).Distinct(), "every augmented image differs from every other");
        CollectionAssert.AreEqual(Sorted(one), Sorted(two), "2 ranks: the same lines, each once");
        CollectionAssert.AreEqual(Sorted(one), Sorted(four), "4 ranks: the same lines, each once");
    }

    /// <summary>
    /// Stopped on 4 ranks after global step 10 (epoch 2, batch 3; each rank writes its part into the one folder), resumed
    /// on 2 ranks (each from rank 0's part) or on one (<c>--world-size 1</c>): the lines before the stop and after the
    /// resume are the one process's lines, each once.
    /// </summary>
    [TestMethod]
    [DataRow(2)]
    [DataRow(1)]
    public void StoppedOnFourRanks_AndResumedOnAnotherWorldSize_TheLinesBeforeAndAfterAreTheOneProcessLines(int resumedOn)
    {
        string directory = ScratchPath($"ranks-4-to-{resumedOn}");
        List<string> before = default!;
        Parallel.Invoke(SideBySide,
            () => _ = OneProcessSamples.Value,
            () => before = Ranks($"stopped-4-to-{resumedOn}", 4, _ => ["--stop-after", "2:3", "--checkpoint", directory], finish: false));
        string[] parts = [.. Directory.GetFiles(directory).Select(Path.GetFileName).Order(StringComparer.Ordinal)!];
        CollectionAssert.AreEqual(Enumerable.Range(0, 4).Select(r => $"checkpoint-0000000000.step-0000000010.rank-{r}-of-4.rbck").ToArray(), parts, "one part per rank");
        Assert.IsTrue(before.All(line => int.Parse(line.Split(' ')[0]) < 10), "before the stop: global steps 0 to 9");

        List<string> after = Ranks($"resumed-4-to-{resumedOn}", resumedOn, _ => ["--resume", directory]);
        Assert.IsTrue(after.All(line => int.Parse(line.Split(' ')[0]) >= 10), "after the resume: from global step 10");
        CollectionAssert.AreEqual(Sorted(OneProcessSamples.Value), Sorted(before.Concat(after)));
    }

    [TestMethod]
    public void AnotherSeed_GivesOtherSampleLines()
    {
        string[] other = default!;
        Parallel.Invoke(SideBySide, () => _ = OneProcessSamples.Value, () => other = SampleLog("samples-seed-43", [.. RankSettings, "--seed", "43"]));
        Assert.HasCount(OneProcessSamples.Value.Length, other);
        CollectionAssert.AreNotEqual(Sorted(OneProcessSamples.Value), Sorted(other));
        Assert.IsEmpty(OneProcessSamples.Value.Intersect(other).ToArray(), "no sample has the same step and augmentation under another seed");
    }

    /// <summary>
    /// Wrong rank settings exit with 2 before training, naming the sizes: a world size that does not divide the batch
    /// size (by option or by the launcher's variables), a rank not below the world size, RANK without WORLD_SIZE, and a
    /// stop inside the partial last global batch on a rank that has no share of it (200 = 3 × 64 + 8: ranks 8 to 15 of 16).
    /// </summary>
    [TestMethod]
    public void AWorldSizeThatDoesNotDivideTheBatchSize_OrAnotherWrongRankSetting_ExitsWithTwo()
    {
        var cases = new (Dictionary<string, string> Environment, string[] Options, string Message)[]
        {
            ([], ["--world-size", "3", "--rank", "1"], "--batch-size 32 is not a multiple of --world-size 3"),
            (new() { ["RANK"] = "0", ["WORLD_SIZE"] = "3" }, ["--batch-size", "40"], "--batch-size 40 is not a multiple of --world-size 3"),
            ([], ["--world-size", "4", "--rank", "4"], "--rank 4 is not below --world-size 4"),
            (new() { ["RANK"] = "1" }, [], "RANK is '1' and WORLD_SIZE is ''"),
            ([], ["--batch-size", "64", "--world-size", "16", "--rank", "9", "--stop-after", "1:4", "--checkpoint", ScratchPath("no-share")], "none of them for rank 9 of 16"),
        };
        var runs = new ExampleRun[cases.Length];
        Parallel.For(0, cases.Length, SideBySide, i => runs[i] = RunWith(cases[i].Environment, cases[i].Options));
        for (int i = 0; i < cases.Length; i++)
        {
            Assert.AreEqual(2, runs[i].ExitCode, runs[i].Describe());
            StringAssert.StartsWith(runs[i].Error, "ReproducibleTraining: ", runs[i].Describe());
            StringAssert.Contains(runs[i].Error, cases[i].Message, runs[i].Describe());
            Assert.AreEqual("", runs[i].Output, runs[i].Describe());
        }
        Assert.IsFalse(Directory.Exists(ScratchPath("no-share")), "nothing written");
    }

    /// <summary>docs/several-processes.md shows the example's code only: each of its C# listings is lines of Program.cs, verbatim.</summary>
    [TestMethod]
    public void TheSeveralProcessesDocsListings_AreTheExamplesCode()
    {
        string program = File.ReadAllText(Path.Combine(Repository.Root, "examples", "ReproducibleTraining", "Program.cs")).Replace("\r\n", "\n");
        string docs = File.ReadAllText(Path.Combine(Repository.Root, "docs", "several-processes.md")).Replace("\r\n", "\n");
        MatchCollection listings = Regex.Matches(docs, "```csharp\n(?<code>.*?)\n```", RegexOptions.Singleline);
        Assert.IsNotEmpty(listings);
        foreach (Match listing in listings)
            StringAssert.Contains(program, listing.Groups["code"].Value + "\n", "a listing of docs/several-processes.md that is not in Program.cs");
    }
}
