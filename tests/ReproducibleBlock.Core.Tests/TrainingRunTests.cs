using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using CsCheck;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;

namespace ReproducibleBlock.Tests;

/// <summary>
/// A run stopped at any point a loop can stop (before an epoch's first batch, after any batch, at the top of a batch's
/// body, after the last batch before the end-of-epoch code, after it, after an epoch cut short, with drop_last and a
/// last partial batch), and resumed on another number of workers, ends with the uninterrupted run's weights, data order,
/// module masks and end-of-epoch draws, bit for bit.
/// </summary>
[TestClass]
public sealed class TrainingRunTests : RuntimeTest
{
    private string _folder = "";

    [TestInitialize]
    public void CreateFolder() => _folder = Directory.CreateTempSubdirectory("rb-run-").FullName;

    [TestCleanup]
    public void DeleteFolder() => Directory.Delete(_folder, recursive: true);

    /// <summary>A model as the rule weaves it: built in its constructor's block, its forward in its continuing block, with dropout.</summary>
    private sealed class Net : nn.Module<Tensor, Tensor>
    {
        private readonly TorchSharp.Modules.Linear _hidden, _output;

        public Net() : base(nameof(Net))
        {
            using (Reproducible.InstanceBlock(41, restoreOnExit: true))
            {
                _hidden = nn.Linear(4, 8);
                _output = nn.Linear(8, 1);
                RegisterComponents();
                WovenCode.RegisterStream(this);
            }
        }

        public override Tensor forward(Tensor input)
        {
            using (Reproducible.ContinuingBlock(this))
                return _output.forward(nn.functional.dropout(nn.functional.relu(_hidden.forward(input)), 0.5, training));
        }
    }

    /// <summary>
    /// A model with no block at all (not woven, no continuing block): nothing but its parameters tells that a batch was
    /// trained, and its smallest parameter is an auxiliary head that no forward uses, which never changes.
    /// </summary>
    private sealed class PlainNet : nn.Module<Tensor, Tensor>
    {
        private readonly TorchSharp.Modules.Linear _hidden, _output;

        public PlainNet() : base(nameof(PlainNet))
        {
            _hidden = nn.Linear(4, 8);
            _output = nn.Linear(8, 1);
            register_module("aux", nn.Linear(1, 1, hasBias: false)); // a head no forward uses
            RegisterComponents();
        }

        public override Tensor forward(Tensor input) =>
            _output.forward(nn.functional.dropout(nn.functional.relu(_hidden.forward(input)), 0.5, training));
    }

    private sealed class SimulatedCrash : Exception;

    private sealed class Samples(ReproducibleSampler sampler, int count) : utils.data.Dataset
    {
        public override long Count => count;

        public override Dictionary<string, Tensor> GetTensor(long index)
        {
            SampleStream sample = sampler.Resolve(index);
            Tensor x = full(4, index / (float)count) + 0.1f * randn(4, generator: sample.Generator);
            return new() { ["x"] = x, ["y"] = tensor(index % 2 == 0 ? 1f : 0f), ["i"] = tensor(index) };
        }
    }

    /// <param name="CutShortAt">Epoch 1's batch loop is left with break after this batch (0: never).</param>
    /// <param name="CheckpointAtBreak">A checkpoint is asked for right before that break.</param>
    /// <param name="Plain">The model is <see cref="PlainNet"/>.</param>
    public sealed record Setup(int Count = 14, int BatchSize = 4, bool DropLast = false, int Epochs = 3, int CutShortAt = 0, int CheckpointEvery = 0,
        bool CheckpointAtBreak = false, bool Plain = false);

    /// <summary>Where a run stops: at the top of epoch E's body (Batch 0), at the end (or the top) of batch B's body, or after epoch E's end-of-epoch code.</summary>
    public sealed record Stop(int Epoch, int Batch, bool AtEnd = false, bool AtTop = false);

    private sealed record Outcome(bool Stopped, string Log, string Weights);

    private Outcome Run(Setup setup, int workers, Stop? stop, bool resume, bool crashAfterBreak = false)
    {
        // The models of earlier runs die here (TorchSharp modules have finalizers): keys must not depend on when.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var run = new TrainingRun(seed: 21, _folder) { CheckpointEvery = setup.CheckpointEvery, KeepCheckpoints = 3 };
        nn.Module<Tensor, Tensor> model = setup.Plain ? new PlainNet() : new Net();
        var optimizer = optim.SGD(model.parameters(), 0.1, momentum: 0.9);
        var scheduler = optim.lr_scheduler.StepLR(optimizer, step_size: 1, gamma: 0.7);
        ReproducibleSampler sampler = run.Sampler(setup.Count);
        using var dataset = new Samples(sampler, setup.Count);
        using var loader = new TorchSharp.Modules.DataLoader(dataset, setup.BatchSize, sampler, num_worker: workers, drop_last: setup.DropLast, disposeDataset: false);
        var log = new StringBuilder();
        run.Track(model).Track(optimizer).Track(scheduler).Track("log", () => Encoding.UTF8.GetBytes(log.ToString()), bytes => log.Clear().Append(Encoding.UTF8.GetString(bytes)));
        Assert.AreEqual(resume, run.Resume());

        foreach (long epoch in run.Epochs(setup.Epochs))
        {
            model.train();
            if (stop is { Batch: 0, AtEnd: false } s0 && s0.Epoch == epoch)
            {
                run.Checkpoint();
                return new Outcome(true, "", "");
            }
            bool broke = false;
            foreach (Dictionary<string, Tensor> batch in run.Batches(loader))
            {
                if (stop is { AtTop: true } top && top.Epoch == epoch && top.Batch == run.BatchInEpoch + 1)
                {
                    run.Checkpoint(); // before the batch in hand is trained
                    return new Outcome(true, "", "");
                }
                using (NewDisposeScope())
                {
                    optimizer.zero_grad();
                    Tensor output = model.forward(batch["x"]).squeeze(1);
                    nn.functional.binary_cross_entropy_with_logits(output, batch["y"]).backward();
                    optimizer.step();
                    log.Append($"e{epoch} [{string.Join(",", batch["i"].data<long>().ToArray())}] {string.Join(",", output.data<float>().ToArray().Select(v => v.ToString("R")))}\n");
                }
                if (setup.CutShortAt > 0 && epoch == 1 && run.BatchInEpoch + 1 == setup.CutShortAt)
                {
                    if (setup.CheckpointAtBreak)
                        run.Checkpoint();
                    broke = true;
                    break; // a step limit: the epoch is cut short
                }
                if (stop is { AtTop: false, AtEnd: false } s && s.Epoch == epoch && s.Batch == run.BatchInEpoch + 1)
                {
                    run.Checkpoint(); // the last thing in the body: after this batch
                    return new Outcome(true, "", "");
                }
            }
            if (broke)
            {
                Assert.AreEqual(setup.CutShortAt, run.BatchInEpoch, "the batch the loop was left in, after it was trained, counts");
                if (crashAfterBreak)
                    throw new SimulatedCrash(); // the process dies after the break, before the next checkpoint
            }
            using (Tensor subset = randperm(setup.Count)) // end-of-epoch code that draws: a random validation subset
                log.Append($"end {epoch} {string.Join(",", subset.data<long>().ToArray()[..3])}\n");
            scheduler.step();
            if (stop is { AtEnd: true } end && end.Epoch == epoch)
            {
                run.Checkpoint();
                return new Outcome(true, "", "");
            }
        }
        string weights = string.Join(",", model.parameters().SelectMany(p => p.data<float>().ToArray()).Select(v => v.ToString("R")));
        return new Outcome(false, log.ToString(), weights);
    }

    private void AssertResumesExactly(Setup setup, params Stop[] stops)
    {
        Outcome uninterrupted = Run(setup, workers: 1, stop: null, resume: false);
        Assert.IsFalse(uninterrupted.Stopped);
        foreach (string file in Directory.GetFiles(_folder))
            File.Delete(file);
        bool resume = false;
        int workers = 2;
        foreach (Stop stop in stops)
        {
            Assert.IsTrue(Run(setup, workers, stop, resume).Stopped, $"the run reached {stop}");
            resume = true;
            workers = workers % 4 + 1;
        }
        Outcome resumed = Run(setup, workers, stop: null, resume);
        Assert.AreEqual(uninterrupted.Log, resumed.Log, "the data order, the module's masks (through its outputs) and the end-of-epoch draws");
        Assert.AreEqual(uninterrupted.Weights, resumed.Weights, "the weights");
    }

    [TestMethod]
    [DataRow(0, 0, false, false, DisplayName = "before the first batch of epoch 0")]
    [DataRow(1, 0, false, false, DisplayName = "before the first batch of epoch 1")]
    [DataRow(1, 2, false, false, DisplayName = "after a batch mid-epoch")]
    [DataRow(1, 4, false, false, DisplayName = "after the last, partial batch, before the end-of-epoch code")]
    [DataRow(1, 4, true, false, DisplayName = "after the end-of-epoch code")]
    [DataRow(1, 2, false, true, DisplayName = "at the top of a batch's body")]
    [DataRow(2, 1, false, true, DisplayName = "at the top of an epoch's first batch")]
    public void AStopAt_ResumesToTheUninterruptedRun(int epoch, int batch, bool atEnd, bool atTop) =>
        AssertResumesExactly(new Setup(), new Stop(epoch, batch, atEnd, atTop));

    [TestMethod]
    [DataRow(false, DisplayName = "a dataset the batch size divides, at its last batch")]
    [DataRow(true, DisplayName = "with drop_last, at its last whole batch")]
    public void AStopAtTheLastBatchOfAnEpoch_RunsItsEndOfEpochCodeWhenResumed(bool dropLast) =>
        AssertResumesExactly(new Setup(Count: dropLast ? 14 : 12, DropLast: dropLast), new Stop(1, 3));

    [TestMethod]
    public void AStopAfterAnEpochCutShort_ResumesWithTheNextEpoch() =>
        AssertResumesExactly(new Setup(CutShortAt: 2), new Stop(1, 0, AtEnd: true));

    [TestMethod]
    public void ACheckpointAskedForBeforeABreak_IsTakenAtTheEpochsEnd_WhereTheRunGoesOn()
    {
        // The run asks for a checkpoint in the body of the batch it then leaves the loop after, and goes on: the
        // checkpoint must not send a resumed run back into that batch loop.
        var setup = new Setup(CutShortAt: 2, CheckpointAtBreak: true);
        Outcome uninterrupted = Run(setup, workers: 1, stop: null, resume: false);
        string[] written = Directory.GetFiles(_folder, "*.rbck");
        Assert.HasCount(1, written);
        StringAssert.Contains(Path.GetFileName(written[0]), $".step-{6L:D10}", "the end of epoch 1: 4 batches of epoch 0 and the 2 of epoch 1");
        Outcome resumed = Run(setup, workers: 2, stop: null, resume: true);
        Assert.AreEqual(uninterrupted.Weights, resumed.Weights);
        Assert.AreEqual(uninterrupted.Log, resumed.Log, "the log up to the checkpoint (tracked), then epoch 2 as the uninterrupted run trained it");
    }

    [TestMethod]
    public void ACheckpointAskedForBeforeABreak_IsNotWritten_WhenTheRunDiesBeforeTheEpochsEnd()
    {
        var setup = new Setup(CutShortAt: 2, CheckpointAtBreak: true);
        Outcome uninterrupted = Run(setup, workers: 1, stop: null, resume: false);
        foreach (string file in Directory.GetFiles(_folder))
            File.Delete(file);
        Assert.IsTrue(Run(setup, workers: 2, stop: new Stop(0, 2), resume: false).Stopped);
        Assert.ThrowsExactly<SimulatedCrash>(() => Run(setup, workers: 3, stop: null, resume: true, crashAfterBreak: true));
        Assert.HasCount(1, Directory.GetFiles(_folder, "*.rbck"), "only the checkpoint of the stop: the one asked for at the break is of a point the run left");
        Outcome resumed = Run(setup, workers: 4, stop: null, resume: true);
        Assert.AreEqual(uninterrupted.Weights, resumed.Weights);
    }

    [TestMethod]
    public void ACheckpointAskedForAsTheLoopIsLeftByReturn_StillResumesIntoTheBatchLoop() =>
        AssertResumesExactly(new Setup(CutShortAt: 3, CheckpointAtBreak: true), new Stop(1, 2));

    [TestMethod]
    [DataRow(1, 2, false, DisplayName = "after a batch mid-epoch")]
    [DataRow(1, 2, true, DisplayName = "at the top of a batch's body")]
    public void AModelWithoutBlocksWhoseSmallestParameterIsUnused_ResumesExactly(int epoch, int batch, bool atTop) =>
        AssertResumesExactly(new Setup(Plain: true), new Stop(epoch, batch, AtTop: atTop));

    [TestMethod]
    public void SeveralStops_AndAResumeFromAResume() =>
        AssertResumesExactly(new Setup(), new Stop(0, 2), new Stop(1, 0), new Stop(1, 3, AtTop: true), new Stop(2, 4, AtEnd: true));

    [TestMethod]
    public void CheckpointsEveryNBatches_DoNotChangeTheRun_AndTheNewestResumes()
    {
        Outcome plain = Run(new Setup(), workers: 1, stop: null, resume: false);
        foreach (string file in Directory.GetFiles(_folder))
            File.Delete(file);
        Outcome every3 = Run(new Setup(CheckpointEvery: 3), workers: 3, stop: null, resume: false);
        Assert.AreEqual(plain.Log, every3.Log);
        Assert.AreEqual(plain.Weights, every3.Weights);
        Assert.HasCount(3, Directory.GetFiles(_folder, "*.rbck"), "KeepCheckpoints = 3");
    }

    [TestMethod]
    public void Schedules_RoundTripThroughAnyStops()
    {
        Gen<Setup> setups = Gen.Select(Gen.Int[5, 13], Gen.Int[2, 5], Gen.Bool, Gen.Int[0, 3], (count, batch, dropLast, cut) => new Setup(count, batch, dropLast, Epochs: 3, CutShortAt: cut));
        Gen<Stop> stops = Gen.Select(Gen.Int[0, 2], Gen.Int[0, 6], Gen.Int[0, 2], (epoch, batch, kind) => new Stop(epoch, batch, AtEnd: kind == 1, AtTop: kind == 2 && batch > 0));
        Gen.Select(setups, stops.Array[1, 3]).Sample((setup, points) =>
        {
            // Stops the run can reach, in the order it reaches them.
            long Batches(int epoch) => setup.DropLast ? setup.Count / setup.BatchSize : (setup.Count + setup.BatchSize - 1) / setup.BatchSize;
            long TopMax(int epoch) => setup.CutShortAt > 0 && epoch == 1 ? Math.Min(setup.CutShortAt, Batches(epoch)) : Batches(epoch);
            long EndMax(int epoch) => setup.CutShortAt > 0 && epoch == 1 ? Math.Min(setup.CutShortAt - 1, Batches(epoch)) : Batches(epoch);
            bool Reachable(Stop s) => s.AtEnd || (s.AtTop ? s.Batch <= TopMax(s.Epoch) : s.Batch <= EndMax(s.Epoch));
            long Order(Stop s) => (s.Epoch * 1000) + (s.AtEnd ? 999 : s.Batch * 2 + (s.AtTop || s.Batch == 0 ? 0 : 1));
            Stop[] reachable = [.. points.Select(s => s.AtEnd ? s with { Batch = 0 } : s).Where(Reachable).DistinctBy(Order).OrderBy(Order)];
            foreach (string file in Directory.GetFiles(_folder))
                File.Delete(file);
            AssertResumesExactly(setup, reachable);
        }, iter: 25, threads: 1, print: t => $"{t.Item1} stops: {string.Join("; ", t.Item2)}");
    }
}
