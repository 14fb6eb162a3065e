using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;

namespace ReproducibleBlock.Tests;

/// <summary>
/// A training run stopped mid-epoch and resumed from a checkpoint (model, optimizer, <see cref="Reproducible.Capture"/>,
/// sampler position) ends with the uninterrupted run's weights, bit for bit: same data order, same per-sample
/// augmentation, same dropout masks, on a different number of workers.
/// </summary>
[TestClass]
public sealed class ResumeTests : RuntimeTest
{
    private const int Samples = 24, BatchSize = 6, Epochs = 3;

    private sealed class NoisyDataset(ReproducibleSampler sampler) : torch.utils.data.Dataset
    {
        private readonly Tensor _inputs = torch.linspace(-1, 1, Samples * 4).reshape(Samples, 4).DetachFromDisposeScope();

        public override long Count => Samples;

        public override Dictionary<string, Tensor> GetTensor(long index)
        {
            SampleStream stream = sampler.Resolve(index);
            Tensor noise = torch.randn(4, generator: stream.Generator) * 0.1f;
            return new() { ["x"] = _inputs[index] + noise, ["y"] = tensor(stream.Random.NextDouble() > 0.5 ? 1f : 0f) };
        }

        protected override void Dispose(bool disposing)
        {
            _inputs.Dispose();
            base.Dispose(disposing);
        }
    }

    private sealed class Checkpoint
    {
        public byte[] Model = [], Optimizer = [], Snapshot = [], Sampler = [];
    }

    private static TorchSharp.Modules.Sequential NewModel()
    {
        using (Reproducible.Block(1))
            return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 1));
    }

    /// <summary>Trains; stops after (epoch, batch), counted from 1, with a checkpoint; or resumes from one.</summary>
    private static byte[]? Run(int workers, (int Epoch, int Batch)? stopAfter = null, Checkpoint? resume = null, Checkpoint? save = null)
    {
        Reproducible.SetSeed(17);
        var model = NewModel();
        var optimizer = optim.SGD(model.parameters(), 0.1, momentum: 0.9);
        var sampler = new ReproducibleSampler(Samples);
        if (resume is not null)
        {
            using (var reader = new BinaryReader(new MemoryStream(resume.Model)))
                model.load(reader);
            using (var reader = new BinaryReader(new MemoryStream(resume.Optimizer)))
                optimizer.load_state_dict(reader);
            sampler.LoadState(resume.Sampler);
            Reproducible.Resume(RngSnapshot.FromBytes(resume.Snapshot));
        }
        using var dataset = new NoisyDataset(sampler);
        using var loader = new TorchSharp.Modules.DataLoader(dataset, BatchSize, sampler, num_worker: workers, disposeDataset: false);
        using (Reproducible.Block(128)) // the training method's block
        {
            // A resumed run continues the epoch it stopped in: its first enumeration finishes that epoch.
            for (long epoch = resume is null ? 0 : sampler.EpochsStarted - 1; epoch < Epochs; epoch++)
            {
                foreach (var data in loader)
                {
                    using (torch.NewDisposeScope())
                    {
                        optimizer.zero_grad();
                        Tensor loss = nn.functional.binary_cross_entropy_with_logits(model.forward(data["x"]).squeeze(1), data["y"]);
                        loss.backward();
                        optimizer.step();
                    }
                    if (stopAfter is { } stop && sampler.EpochsStarted == stop.Epoch && sampler.PositionInEpoch == stop.Batch * BatchSize)
                    {
                        using (var stream = new MemoryStream())
                        using (var writer = new BinaryWriter(stream))
                        {
                            model.save(writer);
                            writer.Flush();
                            save!.Model = stream.ToArray();
                        }
                        using (var stream = new MemoryStream())
                        using (var writer = new BinaryWriter(stream))
                        {
                            optimizer.save_state_dict(writer);
                            writer.Flush();
                            save.Optimizer = stream.ToArray();
                        }
                        save.Snapshot = Reproducible.Capture().ToBytes();
                        save.Sampler = sampler.SaveState();
                        return null;
                    }
                }
            }
        }
        Assert.IsFalse(Reproducible.IsResumePending, "the snapshot was applied when block 128 was entered");
        return model.parameters().SelectMany(p => p.data<float>().ToArray().SelectMany(BitConverter.GetBytes)).ToArray();
    }

    [TestMethod]
    public void StoppedMidEpochAndResumedOnAnotherWorkerCount_EndsWithTheUninterruptedWeights()
    {
        byte[] uninterrupted = Run(workers: 1)!;
        byte[] again = Run(workers: 3)!;
        CollectionAssert.AreEqual(uninterrupted, again, "1 or 3 workers train the same weights");

        var checkpoint = new Checkpoint();
        Assert.IsNull(Run(workers: 1, stopAfter: (2, 2), save: checkpoint));
        byte[] resumed = Run(workers: 2, resume: checkpoint)!;
        CollectionAssert.AreEqual(uninterrupted, resumed);
    }

    [TestMethod]
    public void Resume_CapturedAtTheTopLevel_RestoresAtOnce()
    {
        Reproducible.SetSeed(2);
        Draws.Torch(5);
        RngSnapshot snapshot = Reproducible.Capture();
        long[] expected = Draws.Torch(4);
        Reproducible.SetSeed(2);
        Reproducible.Resume(snapshot);
        Assert.IsFalse(Reproducible.IsResumePending);
        CollectionAssert.AreEqual(expected, Draws.Torch(4));
    }

    [TestMethod]
    public void Resume_WaitsForItsWholePath_NotJustItsInnermostBlock()
    {
        Reproducible.SetSeed(2);
        RngSnapshot snapshot;
        long[] expected;
        using (Reproducible.Block(1))
        using (Reproducible.InstanceBlock(9))
        {
            Draws.Torch(3);
            snapshot = Reproducible.Capture();
            expected = Draws.Torch(4);
        }

        Reproducible.SetSeed(2);
        Reproducible.Resume(snapshot);
        using (Reproducible.InstanceBlock(9)) { } // the same innermost block, elsewhere: not the captured path
        Assert.IsTrue(Reproducible.IsResumePending);
        using (Reproducible.Block(1))
        {
            Assert.IsTrue(Reproducible.IsResumePending);
            using (Reproducible.InstanceBlock(9))
            {
                Assert.IsFalse(Reproducible.IsResumePending);
                CollectionAssert.AreEqual(expected, Draws.Torch(4));
            }
        }
    }

    [TestMethod]
    public void SamplerState_IsChecked_AndAnEpochEndStartsTheNextEpoch()
    {
        Reproducible.SetSeed(4);
        var sampler = new ReproducibleSampler(10);
        long[] first = sampler.ToArray();
        byte[] atEpochEnd = sampler.SaveState();
        RngSnapshot snapshot = Reproducible.Capture();
        long[] second = sampler.ToArray();

        var resumed = new ReproducibleSampler(10);
        resumed.LoadState(atEpochEnd);
        Reproducible.Restore(snapshot);
        Assert.AreEqual(1L, resumed.EpochsStarted);
        CollectionAssert.AreEqual(second, resumed.ToArray(), "the saved epoch was complete: the next one starts");
        CollectionAssert.AreNotEqual(first, second);

        Assert.ThrowsExactly<FormatException>(() => new ReproducibleSampler(11).LoadState(atEpochEnd));
        Assert.ThrowsExactly<FormatException>(() => new ReproducibleSampler(10, shuffle: false).LoadState(atEpochEnd));
        Assert.ThrowsExactly<FormatException>(() => new ReproducibleSampler(10, streamSeed: 1).LoadState(atEpochEnd));
        byte[] corrupted = (byte[])atEpochEnd.Clone();
        corrupted[^12] ^= 1;
        Assert.ThrowsExactly<FormatException>(() => resumed.LoadState(corrupted));
        Assert.ThrowsExactly<FormatException>(() => resumed.LoadState(atEpochEnd.AsSpan(0, 20)));
        Assert.ThrowsExactly<FormatException>(() => resumed.LoadState("not a sampler state"u8));
    }

    [TestMethod]
    public void SamplerState_MidEpoch_ContinuesFromTheNextSample_WithTheSameStreams()
    {
        Reproducible.SetSeed(4);
        var sampler = new ReproducibleSampler(10);
        using IEnumerator<long> epoch = sampler.GetEnumerator();
        var taken = new List<long>();
        for (int i = 0; i < 4 && epoch.MoveNext(); i++)
            taken.Add(epoch.Current);
        Assert.AreEqual(4L, sampler.PositionInEpoch);
        byte[] state = sampler.SaveState();
        var rest = new List<long>();
        while (epoch.MoveNext())
            rest.Add(epoch.Current);
        long stream = torch.randint(0, 1L << 31, [1], generator: sampler.Resolve(rest[0]).Generator).item<long>();

        var resumed = new ReproducibleSampler(10);
        resumed.LoadState(state);
        CollectionAssert.AreEqual(rest, resumed.ToList());
        Assert.AreEqual(stream, torch.randint(0, 1L << 31, [1], generator: resumed.Resolve(rest[0]).Generator).item<long>());
        Assert.AreEqual(4L, resumed.Resolve(rest[0]).Position);
    }

    [TestMethod]
    public void Resume_ThatCouldNeverApply_IsRefused_AndSetSeedDropsAWaitingOne()
    {
        Reproducible.SetSeed(2);
        RngSnapshot snapshot;
        using (Reproducible.Block(1))
        using (Reproducible.Block(9))
            snapshot = Reproducible.Capture();

        Reproducible.SetSeed(3);
        var otherSeed = Assert.ThrowsExactly<InvalidOperationException>(() => Reproducible.Resume(snapshot));
        Assert.AreEqual("The snapshot was captured inside blocks after SetSeed(2, Keyed); Resume was called root seed 3, Keyed, so its blocks "
            + "would never derive the same keys. Call Reproducible.SetSeed(2, BlockDerivation.Keyed) first.", otherSeed.Message);
        var fresh = new ReproducibleBlock.State.BlockRuntime(_ => ReproducibleBlock.State.NoCudaGenerators.Instance);
        StringAssert.Contains(Assert.ThrowsExactly<InvalidOperationException>(() => fresh.Resume(snapshot.Data)).Message, "Resume was called before any SetSeed");

        Reproducible.SetSeed(2);
        using (Reproducible.Block(1))
        using (Reproducible.Block(9))
        using (Reproducible.Block(4))
        {
            var deep = Assert.ThrowsExactly<InvalidOperationException>(() => Reproducible.Resume(snapshot), "deeper than the capture");
            StringAssert.StartsWith(deep.Message, "Resume was called inside blocks 1 > 9 > 4, deeper than (or as deep as) the blocks open at capture");
            StringAssert.Contains(deep.Message, "call it where the snapshot was captured, or outside every block");
        }

        var warnings = new List<string>();
        Action<string>? handler = Reproducible.WarningHandler;
        Reproducible.WarningHandler = warnings.Add;
        try
        {
            Reproducible.Resume(snapshot);
            Assert.IsTrue(Reproducible.IsResumePending);
            using (Reproducible.Block(1))
            {
                using (Reproducible.Block(8)) { } // not the captured path
            }
            Assert.HasCount(1, warnings, "leaving the snapshot's outermost block without applying it warns");
            Assert.AreEqual("block 1, the outermost block of the snapshot given to Resume, is being left, but the snapshot was not applied: "
                + "the blocks inside it (1 > 9) were not entered as at capture. The run goes on without it.", warnings[0]);
            Reproducible.SetSeed(2);
            Assert.IsFalse(Reproducible.IsResumePending);
            Assert.HasCount(2, warnings);
            StringAssert.Contains(warnings[1], "call Resume after SetSeed");
        }
        finally
        {
            Reproducible.WarningHandler = handler;
        }
    }

    [TestMethod]
    public void Resume_WaitsThroughADecoyAtTheSameDepth()
    {
        Reproducible.SetSeed(2);
        RngSnapshot snapshot;
        long[] expected;
        using (Reproducible.Block(1))
        using (Reproducible.InstanceBlock(9))
        {
            snapshot = Reproducible.Capture();
            expected = Draws.Torch(4);
        }
        Reproducible.SetSeed(2);
        Reproducible.Resume(snapshot);
        using (Reproducible.Block(2))
        using (Reproducible.InstanceBlock(9)) { } // same depth, another path
        using (Reproducible.Block(1))
        {
            using (Reproducible.Block(9, restoreOnExit: true)) { } // the same key, but a restoring block: another path
            Assert.IsTrue(Reproducible.IsResumePending);
            using (Reproducible.InstanceBlock(9))
                CollectionAssert.AreEqual(expected, Draws.Torch(4));
        }
        Assert.IsFalse(Reproducible.IsResumePending);
    }
}
