using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using static TorchSharp.torch;

namespace ReproducibleBlock.Tests;

/// <summary>
/// What rewriting examples/ReproducibleTraining on <see cref="TrainingRun"/> found in the library: each test showed one
/// defect and failed until it was fixed.
/// </summary>
[TestClass]
public sealed class TrainingRunExampleFindingsTests : RuntimeTest
{
    private string _folder = "";

    [TestInitialize]
    public void CreateFolder() => _folder = Directory.CreateTempSubdirectory("rb-findings-").FullName;

    [TestCleanup]
    public void DeleteFolder() => Directory.Delete(_folder, recursive: true);

    /// <summary>
    /// A run that does not resume numbers its checkpoints from 0 again, so in a folder where an earlier run left
    /// checkpoint 1 and 2, the new run's first checkpoint (0) is the oldest: keeping the newest two deletes it as soon as
    /// it is written, <see cref="TrainingRun.LastCheckpoint"/> names a file that is gone, and a later Resume takes the
    /// earlier run's checkpoint. Expected: the checkpoint just written is kept and is the one Resume finds (or the write
    /// is refused, naming the folder's other checkpoints). The example refuses a --checkpoint folder that is not empty.
    /// </summary>
    [TestMethod]
    public void AFreshRunInAFolderWithAnEarlierRunsCheckpoints_KeepsItsOwnCheckpoint()
    {
        var earlier = new TrainingRun(seed: 5, _folder, deterministic: false);
        for (int i = 0; i < 3; i++)
            earlier.Checkpoint(); // before the epoch loop: written at once, sequences 0, 1, 2 (the newest two kept)

        var fresh = new TrainingRun(seed: 5, _folder, deterministic: false);
        try
        {
            fresh.Checkpoint();
        }
        catch (InvalidOperationException refused)
        {
            StringAssert.Contains(refused.Message, _folder, "a refusal names the folder");
            return;
        }
        Assert.IsTrue(File.Exists(fresh.LastCheckpoint), $"the checkpoint just written, {fresh.LastCheckpoint}, is still there");
        var resumed = new TrainingRun(seed: 5, _folder, deterministic: false);
        Assert.IsTrue(resumed.Resume());
        Assert.AreEqual(fresh.LastCheckpoint, resumed.LastCheckpoint, "Resume takes the newest checkpoint: the one written last");
    }

    /// <summary>
    /// A run resumed from a checkpoint taken in epoch 3 (before its first batch) with <c>run.Epochs(2)</c> loops over no
    /// epoch: the generators are never put back, and nothing says the checkpoint lies past the run's end (a mid-epoch
    /// checkpoint behind the epoch loop is refused when the loop passes it; this one is never reached). Expected: an
    /// exception naming the checkpoint's epoch and the count. The example refuses a checkpoint past --epochs itself.
    /// </summary>
    [TestMethod]
    public void AResumedRunWithFewerEpochsThanItsCheckpoint_IsRefused()
    {
        var run = new TrainingRun(seed: 5, _folder, deterministic: false);
        ReproducibleSampler sampler = run.Sampler(4);
        run.Resume();
        foreach (long epoch in run.Epochs(3))
        {
            if (epoch == 2)
            {
                run.Checkpoint(); // before epoch 2's (the third's) batch loop
                break;
            }
            foreach (long index in run.Batches(sampler))
                _ = index;
        }

        var shorter = new TrainingRun(seed: 5, _folder, deterministic: false);
        shorter.Sampler(4);
        Assert.IsTrue(shorter.Resume());
        Assert.Throws<InvalidOperationException>(() =>
        {
            foreach (long epoch in shorter.Epochs(2))
                Assert.Fail($"epoch {epoch} lies before the checkpoint");
        });
    }

    private sealed class Indexed(ReproducibleSampler sampler) : utils.data.Dataset
    {
        public override long Count => sampler.Count;

        public override Dictionary<string, Tensor> GetTensor(long index)
        {
            SampleStream sample = sampler.Resolve(index);
            return new() { ["x"] = tensor(index) + 0 * randn(1, generator: sample.Generator) };
        }
    }

    /// <summary>
    /// The shuffler handed to the DataLoader as <c>sampler.Select(...)</c> (LINQ, or any <c>yield return</c> wrapper, to
    /// record the order as the example does): such a wrapper disposes the sampler's enumerator when its last index is
    /// taken, which TorchSharp's DataLoader does before it loads a short last batch, and the sampler then refuses that
    /// batch, saying the DataLoader does not take its order from this sampler (it does). Expected: the epoch's own
    /// indices load until the next epoch starts (or a message that names the cause). The example forwards the
    /// enumerator's calls one by one instead.
    /// </summary>
    [TestMethod]
    public void ASamplerWrappedInLinq_LoadsAShortLastBatch()
    {
        Reproducible.SetSeed(5);
        var sampler = new ReproducibleSampler(10);
        using var dataset = new Indexed(sampler);
        var seen = new List<long>();
        using var loader = new TorchSharp.Modules.DataLoader(dataset, 4, sampler.Select(index => { seen.Add(index); return index; }), num_worker: 1, disposeDataset: false);
        long loaded = 0;
        foreach (Dictionary<string, Tensor> batch in loader)
            loaded += batch["x"].shape[0];
        Assert.AreEqual(10, loaded, "batches of 4, 4 and 2");
        CollectionAssert.AreEquivalent(Enumerable.Range(0, 10).Select(i => (long)i).ToArray(), seen);
    }
}
