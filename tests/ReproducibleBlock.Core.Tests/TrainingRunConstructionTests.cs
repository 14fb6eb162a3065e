using System;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;

namespace ReproducibleBlock.Tests;

/// <summary>
/// Loops that build modules as they go (a head per epoch, a module per batch) and draw before their batch loop resume
/// exactly: the resumed run's epoch starts as the interrupted one's did, and what the skipped iterations built counts
/// as built, so that every module built from there on gets the keys, and the masks, it got in the uninterrupted run.
/// </summary>
[TestClass]
public sealed class TrainingRunConstructionTests : RuntimeTest
{
    private string _folder = "";

    [TestInitialize]
    public void CreateFolder() => _folder = Directory.CreateTempSubdirectory("rb-build-").FullName;

    [TestCleanup]
    public void DeleteFolder() => Directory.Delete(_folder, recursive: true);

    /// <summary>A module as the assembly rule weaves it: its constructor's instance block and stream, dropout in its continuing block.</summary>
    private sealed class Masked : nn.Module<Tensor, Tensor>
    {
        private readonly TorchSharp.Modules.Linear _linear;

        public Masked(long typeSeed) : base(nameof(Masked))
        {
            using (Reproducible.InstanceBlock(typeSeed, restoreOnExit: true))
            {
                _linear = nn.Linear(3, 3);
                RegisterComponents();
                WovenCode.RegisterStream(this);
            }
        }

        public override Tensor forward(Tensor input)
        {
            using (Reproducible.ContinuingBlock(this))
                return nn.functional.dropout(_linear.forward(input), 0.5, training: true);
        }
    }

    /// <summary>Where a run stops: after batch B of epoch E (B 0: before its batch loop), or after epoch E's end.</summary>
    public sealed record Stop(int Epoch, int Batch, bool AtEnd = false);

    private (bool Stopped, string Log) Run(Stop? stop, bool resume)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var run = new TrainingRun(seed: 8, _folder, deterministic: false);
        var body = new Masked(50); // built once, before the loop
        ReproducibleSampler sampler = run.Sampler(9);
        var log = new StringBuilder();
        run.Track(body).Track("log", () => Encoding.UTF8.GetBytes(log.ToString()), bytes => log.Clear().Append(Encoding.UTF8.GetString(bytes)));
        Assert.AreEqual(resume, run.Resume());

        foreach (long epoch in run.Epochs(3))
        {
            var head = new Masked(51);                 // a head built per epoch
            using Tensor scale = rand(3);              // drawn before the batch loop, used in it
            if (stop is { Batch: 0, AtEnd: false } s0 && s0.Epoch == epoch)
            {
                run.Checkpoint();
                return (true, "");
            }
            foreach (long[] batch in run.Batches(sampler.Chunk(2)))
            {
                var noise = new Masked(52);            // a module built per batch
                using (no_grad())
                using (Tensor x = tensor(batch.Select(i => (float)i).ToArray()).reshape(-1, 1).expand(-1, 3).contiguous())
                using (Tensor y = head.forward(noise.forward(body.forward(x))) * scale)
                    log.Append($"e{epoch} [{string.Join(",", batch)}] {string.Join(",", y.data<float>().ToArray().Select(v => v.ToString("R")))}\n");
                if (stop is { AtEnd: false } s && s.Epoch == epoch && s.Batch == run.BatchInEpoch + 1)
                {
                    run.Checkpoint();
                    return (true, "");
                }
            }
            using (Tensor extra = new Masked(53).forward(ones(1, 3)))   // and one at the epoch's end
                log.Append($"end {epoch} {string.Join(",", extra.data<float>().ToArray().Select(v => v.ToString("R")))}\n");
            if (stop is { AtEnd: true } end && end.Epoch == epoch)
            {
                run.Checkpoint();
                return (true, "");
            }
        }
        return (false, log.ToString());
    }

    [TestMethod]
    [DataRow(1, 0, false, DisplayName = "before epoch 1's batch loop")]
    [DataRow(1, 2, false, DisplayName = "after batch 2 of epoch 1")]
    [DataRow(2, 4, false, DisplayName = "after the last batch of the last epoch")]
    [DataRow(0, 0, true, DisplayName = "after epoch 0's end")]
    public void ModulesBuiltInTheLoop_ResumeToTheUninterruptedRun(int epoch, int batch, bool atEnd)
    {
        (bool stopped, string uninterrupted) = Run(stop: null, resume: false);
        Assert.IsFalse(stopped);
        foreach (string file in Directory.GetFiles(_folder))
            File.Delete(file);
        Assert.IsTrue(Run(new Stop(epoch, batch, atEnd), resume: false).Stopped);
        (_, string resumed) = Run(stop: null, resume: true);
        Assert.AreEqual(uninterrupted, resumed);
    }

    [TestMethod]
    public void Control_TheSameCheckpointTakenByHand_CannotBeRestoredIntoARunThatBuiltLess()
    {
        // What TrainingRun does for the loop above, done with Capture and Restore: the new process builds the body and
        // epoch 1's head, but not epoch 0's head nor the batches' modules, so their keys would go to other modules.
        Reproducible.SetSeed(8);
        var body = new Masked(50);
        for (int epoch = 0; epoch < 2; epoch++)
        {
            _ = new Masked(51);
            for (int batch = 0; batch < (epoch == 0 ? 5 : 2); batch++)
                _ = new Masked(52);
        }
        RngSnapshot checkpoint = Reproducible.Capture();

        Reproducible.SetSeed(8);
        body = new Masked(50);
        _ = new Masked(51);
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => Reproducible.Restore(checkpoint));
        StringAssert.Contains(error.Message, "instance block(s) with seed 51");
        GC.KeepAlive(body);
    }
}
