using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using static TorchSharp.torch;

namespace ReproducibleBlock.Tests;

/// <summary>
/// A run of several ranks (each a process of its own; here one after the other, as nothing passes between them): the
/// samples each global step consumes, and what each draws, are the same on 1, 2 and 4 ranks; every rank writes its part
/// of each checkpoint, and a run stopped on 4 ranks resumes on 2 (or 1) to the same samples and draws.
/// </summary>
[TestClass]
public sealed class TrainingRunRankTests : RuntimeTest
{
    private const int Count = 13, GlobalBatch = 4, Epochs = 2;
    private string _folder = "";

    [TestInitialize]
    public void CreateFolder() => _folder = Directory.CreateTempSubdirectory("rb-ranks-").FullName;

    [TestCleanup]
    public void DeleteFolder() => Directory.Delete(_folder, recursive: true);

    private sealed class Samples(ReproducibleSampler sampler) : utils.data.Dataset
    {
        public override long Count => sampler.Count;

        public override Dictionary<string, Tensor> GetTensor(long index)
        {
            SampleStream sample = sampler.Resolve(index);
            return new() { ["i"] = tensor(index), ["x"] = rand(1, generator: sample.Generator) }; // the sample's augmentation
        }
    }

    /// <summary>One rank's process: "global step, sample, draw" for each sample it consumes, until the stop.</summary>
    private List<string> Rank(int rank, int worldSize, long? stopAtStep = null, bool resume = false, int checkpointEvery = 0, bool dropLast = false)
    {
        var run = new TrainingRun(seed: 5, _folder, deterministic: false, new DataParallel(rank, worldSize)) { CheckpointEvery = checkpointEvery, KeepCheckpoints = 10 };
        ReproducibleSampler sampler = run.Sampler(Count, globalBatchSize: GlobalBatch, dropLast: dropLast);
        using var dataset = new Samples(sampler);
        using var loader = new TorchSharp.Modules.DataLoader(dataset, sampler.LocalBatchSize!.Value, sampler, num_worker: 2, disposeDataset: false);
        var model = nn.Linear(1, 1);
        var optimizer = optim.SGD(model.parameters(), 0.01);
        run.Track(model).Track(optimizer);
        Assert.AreEqual(resume, run.Resume(), "resumed");
        var lines = new List<string>();
        foreach (long epoch in run.Epochs(Epochs))
        {
            foreach (Dictionary<string, Tensor> batch in run.Batches(loader))
            {
                long[] indices = batch["i"].data<long>().ToArray();
                float[] draws = batch["x"].data<float>().ToArray();
                lines.AddRange(indices.Select((index, k) => $"{run.Step} {index} {draws[k]:R}"));
                using (NewDisposeScope())
                {
                    // This rank's training step (averaging the gradients over the ranks is the training code's, not here).
                    optimizer.zero_grad();
                    model.forward(batch["x"].reshape(-1, 1)).sum().backward();
                    optimizer.step();
                }
                if (run.Step + 1 == stopAtStep)
                {
                    run.Checkpoint();
                    break;
                }
            }
            if (stopAtStep is not null && run.Step == stopAtStep)
                return lines;
        }
        return lines;
    }

    /// <summary>A rank set up as <see cref="Rank"/> sets it up, up to its Resume, whose result it returns.</summary>
    private TrainingRun Resumed(int rank, int worldSize, out bool resumed)
    {
        var run = new TrainingRun(seed: 5, _folder, deterministic: false, new DataParallel(rank, worldSize));
        run.Sampler(Count, globalBatchSize: GlobalBatch);
        var model = nn.Linear(1, 1);
        run.Track(model).Track(optim.SGD(model.parameters(), 0.01));
        resumed = run.Resume();
        return run;
    }

    private List<string> AllRanks(int worldSize, long? stopAtStep = null, bool resume = false, int checkpointEvery = 0, bool dropLast = false) =>
        [.. Enumerable.Range(0, worldSize).SelectMany(r => Rank(r, worldSize, stopAtStep, resume, checkpointEvery, dropLast))];

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void TheSamplesOfEachGlobalStep_AndTheirDraws_AreTheSameOn1_2And4Ranks(bool dropLast)
    {
        List<string> one = AllRanks(1, dropLast: dropLast);
        Assert.AreEqual(Epochs * (dropLast ? Count / GlobalBatch * GlobalBatch : Count), one.Count, "every sample of each epoch once, none padded");
        CollectionAssert.AreEquivalent(one, AllRanks(2, dropLast: dropLast));
        CollectionAssert.AreEquivalent(one, AllRanks(4, dropLast: dropLast));
    }

    [TestMethod]
    [DataRow(4, 2, 2L, DisplayName = "4 ranks to 2, mid-epoch")]
    [DataRow(4, 1, 3L, DisplayName = "4 ranks to 1, at the epoch's last whole global batch")]
    [DataRow(2, 4, 5L, DisplayName = "2 ranks to 4, in the second epoch")]
    [DataRow(2, 2, 3L, DisplayName = "2 ranks to 2, each its own part")]
    public void ARunStoppedOnWRanks_ResumesOnAnother_ToTheSameSamplesAndDraws(int from, int to, long step)
    {
        List<string> uninterrupted = AllRanks(1);
        List<string> before = AllRanks(from, stopAtStep: step);
        Assert.AreEqual(from, Directory.GetFiles(_folder).Length, "one part per rank");
        List<string> after = AllRanks(to, resume: true);
        CollectionAssert.AreEquivalent(uninterrupted, before.Concat(after).ToList());

        // Control: another seed gives other samples or draws.
        var other = new TrainingRun(seed: 6, deterministic: false);
        ReproducibleSampler sampler = other.Sampler(Count, globalBatchSize: GlobalBatch);
        using var dataset = new Samples(sampler);
        using var loader = new TorchSharp.Modules.DataLoader(dataset, GlobalBatch, sampler, disposeDataset: false);
        var lines = new List<string>();
        foreach (long epoch in other.Epochs(Epochs))
        {
            foreach (Dictionary<string, Tensor> batch in other.Batches(loader))
                lines.AddRange(batch["i"].data<long>().ToArray().Zip(batch["x"].data<float>().ToArray(), (i, x) => $"{other.Step} {i} {x:R}"));
        }
        CollectionAssert.AreNotEquivalent(uninterrupted, lines);
    }

    [TestMethod]
    public void RanksWithNoShareOfThePartialLastBatch_CountItsStep_AndWriteTheSameCheckpoints()
    {
        // 13 samples in global batches of 4: the last has 1, which rank 0 of 4 takes; ranks 1 to 3 get no batch for it.
        AllRanks(4, checkpointEvery: 2);
        string[] names = [.. Directory.GetFiles(_folder).Select(f => Path.GetFileName(f)!)];
        foreach (int rank in Enumerable.Range(0, 4))
        {
            string[] tags = [.. names.Where(n => n.EndsWith($".rank-{rank}-of-4.rbck", StringComparison.Ordinal)).Select(n => n[..n.IndexOf(".rank", StringComparison.Ordinal)]).Order(StringComparer.Ordinal)];
            // Steps 2, 4 (the empty-share step of epoch 0), 6 and 8 (epoch 1's): checkpoints 0 to 3 on every rank.
            CollectionAssert.AreEqual(new[] { "checkpoint-0000000000.step-0000000002", "checkpoint-0000000001.step-0000000004", "checkpoint-0000000002.step-0000000006", "checkpoint-0000000003.step-0000000008" }, tags, $"rank {rank}");
        }
    }

    [TestMethod]
    public void ACheckpointMissingARanksPart_IsPassedOver_ForTheNewestThatEveryRankWrote()
    {
        AllRanks(2, checkpointEvery: 2); // steps 2, 4, 6, 8
        string newest = Directory.GetFiles(_folder, "checkpoint-0000000003.*.rank-1-of-2.rbck").Single();
        File.Delete(newest); // rank 1 stopped before writing it
        var warnings = new List<string>();
        State.BlockRuntime.Shared.WarningHandler = warnings.Add;
        TrainingRun run = Resumed(0, 2, out bool resumed);
        Assert.IsTrue(resumed);
        StringAssert.Contains(run.LastCheckpoint!, "checkpoint-0000000002.step-0000000006.rank-0-of-2");
        Assert.IsTrue(warnings.Any(w => w.Contains("lack another rank's part", StringComparison.Ordinal)), string.Join("\n", warnings));

        // With no checkpoint that both ranks wrote, the run starts afresh, saying so; its first checkpoint removes the
        // parts the stopped run left, so that they never complete a checkpoint with this run's.
        foreach (string part in Directory.GetFiles(_folder, "*.rank-1-of-2.rbck"))
            File.Delete(part);
        warnings.Clear();
        List<string> lines = Rank(0, 2, stopAtStep: 1);
        Assert.IsTrue(warnings.Any(w => w.Contains("the run starts afresh", StringComparison.Ordinal)), string.Join("\n", warnings));
        Assert.IsTrue(lines.All(l => l.StartsWith("0 ", StringComparison.Ordinal)), "from the first step");
        CollectionAssert.AreEqual(new[] { "checkpoint-0000000000.step-0000000001.rank-0-of-2.rbck" }, Directory.GetFiles(_folder).Select(Path.GetFileName).ToArray());
    }

    [TestMethod]
    public void TheRanksParts_MustAgreeOnWhereTheyWereTaken()
    {
        Rank(0, 2, stopAtStep: 2);
        Rank(1, 2, stopAtStep: 1);
        // Rank 1's part is of step 1, rank 0's of step 2, under one sequence number: the ranks ran other loops.
        string rank1 = Directory.GetFiles(_folder, "*.rank-1-of-2.rbck").Single();
        File.Move(rank1, rank1.Replace("step-0000000001", "step-0000000002", StringComparison.Ordinal));
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => Resumed(1, 2, out _)).Message, "The parts of checkpoint 0 disagree: position");
    }

    [TestMethod]
    public void ARunOfSeveralRanks_NeedsTheGlobalBatchSize_AndAnotherGlobalBatchSizeIsRefused()
    {
        var run = new TrainingRun(seed: 5, _folder, deterministic: false, new DataParallel(1, 2));
        StringAssert.Contains(Assert.ThrowsExactly<InvalidOperationException>(() => run.Sampler(Count)).Message, "globalBatchSize");
        Rank(0, 2, stopAtStep: 1);
        Rank(1, 2, stopAtStep: 1);
        var resumed = new TrainingRun(seed: 5, _folder, deterministic: false, new DataParallel(0, 2));
        resumed.Sampler(Count, globalBatchSize: 8);
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => resumed.Resume()).Message, "13/True/0/global batch 4 there and 13/True/0/global batch 8 here");
    }
}
