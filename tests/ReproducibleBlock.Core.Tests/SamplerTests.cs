using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.State;
using TorchSharp;
using static TorchSharp.torch;

namespace ReproducibleBlock.Tests;

/// <summary>
/// <see cref="ReproducibleSampler"/> with TorchSharp's real <c>DataLoader</c>: per-sample streams that do not depend on
/// the number of workers or their thread order, and never touch the global generators.
/// </summary>
[TestClass]
public sealed class SamplerTests : RuntimeTest
{
    /// <summary>A dataset whose samples are random "augmentations" drawn from each sample's own stream.</summary>
    private sealed class AugmentedDataset(ReproducibleSampler sampler) : torch.utils.data.Dataset
    {
        public ConcurrentDictionary<(long Epoch, long Index), string> Drawn { get; } = new();

        public override long Count => sampler.Count;

        public override Dictionary<string, Tensor> GetTensor(long index)
        {
            SampleStream stream = sampler.Resolve(index);
            using Tensor noise = torch.rand(4, generator: stream.Generator);
            long flip = torch.randint(0, 2, [1], generator: stream.Generator).item<long>();
            double managed = stream.Random.NextDouble();
            Drawn[(stream.Epoch, index)] = $"{string.Join(",", noise.data<float>().ToArray())}|{flip}|{managed:R}";
            return new() { ["index"] = tensor(index) };
        }
    }

    private static (Dictionary<(long, long), string> Drawn, List<long[]> Orders, byte[] CpuAfter) Train(int workers, long seed = 3)
    {
        Reproducible.SetSeed(seed);
        var sampler = new ReproducibleSampler(24);
        using var dataset = new AugmentedDataset(sampler);
        using var loader = new TorchSharp.Modules.DataLoader(dataset, batchSize: 6, shuffler: sampler, num_worker: workers, disposeDataset: false);
        var orders = new List<long[]>();
        using (Reproducible.Block(128))
        {
            for (int epoch = 0; epoch < 3; epoch++)
            {
                var order = new List<long>();
                foreach (var batch in loader)
                    order.AddRange(batch["index"].data<long>().ToArray());
                orders.Add([.. order]);
                Draws.Torch(2); // the main flow keeps drawing inside its block while the workers augment
            }
        }
        return (new Dictionary<(long, long), string>(dataset.Drawn), orders, Draws.CpuState());
    }

    [TestMethod]
    public void OneOrFourWorkers_DrawTheSameForEverySample()
    {
        var one = Train(workers: 1);
        var four = Train(workers: 4);
        Assert.AreEqual(72, one.Drawn.Count, "3 epochs of 24 samples");
        CollectionAssert.AreEquivalent(one.Drawn.Keys.ToList(), four.Drawn.Keys.ToList());
        foreach (var key in one.Drawn.Keys)
            Assert.AreEqual(one.Drawn[key], four.Drawn[key], $"epoch {key.Item1}, index {key.Item2}");
        for (int epoch = 0; epoch < 3; epoch++)
            CollectionAssert.AreEqual(one.Orders[epoch], four.Orders[epoch]);
        CollectionAssert.AreEqual(one.CpuAfter, four.CpuAfter, "the workers never touched the global generator");
    }

    [TestMethod]
    public void Streams_DifferPerSampleAndPerEpoch_AndFollowTheSeed()
    {
        var run = Train(workers: 2);
        Assert.AreEqual(72, run.Drawn.Values.Distinct().Count(), "every sample of every epoch draws its own numbers");
        CollectionAssert.AreNotEqual(run.Orders[0], run.Orders[1], "a new order each epoch");
        var other = Train(workers: 2, seed: 4);
        Assert.AreEqual(0, run.Drawn.Values.Intersect(other.Drawn.Values).Count(), "another root seed, other streams");
    }

    [TestMethod]
    public void Order_IsTheBlockShufflersOrder()
    {
        Reproducible.SetSeed(9);
        long[] shuffler;
        using (Reproducible.Block(5))
            shuffler = new BlockShuffler(30).ToArray();
        Reproducible.SetSeed(9);
        using (Reproducible.Block(5))
            CollectionAssert.AreEqual(shuffler, new ReproducibleSampler(30).ToArray());
        Reproducible.SetSeed(9);
        CollectionAssert.AreEqual(Enumerable.Range(0, 30).Select(i => (long)i).ToArray(), new ReproducibleSampler(30, shuffle: false).ToArray());
    }

    [TestMethod]
    public void SampleState_IsTheDocumentedDerivation()
    {
        // epoch key = XXH64(block key, stream seed, epoch), sample key = XXH64(epoch key, position): KeyDerivation's remarks.
        Reproducible.SetSeed(11);
        var sampler = new ReproducibleSampler(10, streamSeed: 77);
        long[] order;
        using (Reproducible.Block(2))
        {
            _ = sampler.ToArray();
            order = sampler.ToArray(); // epoch 1
        }
        long index = order[4];
        SampleStream stream = sampler.Resolve(index);
        Assert.AreEqual(1L, stream.Epoch);
        Assert.AreEqual(4L, stream.Position);
        Assert.AreEqual(index, stream.Index);

        ulong blockKey = StreamModelTests.ChildKey(StreamModelTests.RootKey(11), 2);
        ulong sampleKey = KeyDerivation.Sample(KeyDerivation.Epoch(blockKey, 77, 1), 4);
        byte[] expected = new byte[CpuGeneratorState.Size];
        CpuGeneratorState.Derive(sampleKey, expected);
        using Tensor state = stream.Generator.get_state();
        CollectionAssert.AreEqual(expected, state.bytes.ToArray());
        Assert.AreEqual(new StreamModelTests.ManagedModel(StreamModelTests.Mix(sampleKey ^ 0x00646567616E616D)).Below(1000), (ulong)stream.Random.NextInt64(1000));
    }

    [TestMethod]
    public void StreamSeeds_SeparateSamplersInOneBlock()
    {
        Reproducible.SetSeed(1);
        var train = new ReproducibleSampler(8, shuffle: false, streamSeed: 1);
        var validation = new ReproducibleSampler(8, shuffle: false, streamSeed: 2);
        _ = train.ToArray();
        _ = validation.ToArray();
        long a = torch.randint(0, 1L << 31, [1], generator: train.Resolve(3).Generator).item<long>();
        long b = torch.randint(0, 1L << 31, [1], generator: validation.Resolve(3).Generator).item<long>();
        Assert.AreNotEqual(a, b);
    }

    [TestMethod]
    public void Resolve_BeforeAnyEpoch_OrOutOfRange_SaysWhy()
    {
        Reproducible.SetSeed(1);
        var sampler = new ReproducibleSampler(5);
        var early = Assert.ThrowsExactly<InvalidOperationException>(() => sampler.Resolve(0));
        StringAssert.Contains(early.Message, "Pass the sampler to the DataLoader");
        _ = sampler.ToArray();
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => sampler.Resolve(5));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => sampler.Resolve(-1));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new ReproducibleSampler(-1));
        Assert.AreEqual(1L, sampler.EpochsStarted);
    }

    [TestMethod]
    public void CurrentKey_BeforeSetSeed_SaysWhatToCall()
    {
        var runtime = new BlockRuntime(_ => NoCudaGenerators.Instance);
        var refused = Assert.ThrowsExactly<InvalidOperationException>(() => runtime.CurrentKey("A ReproducibleSampler's epoch"));
        StringAssert.Contains(refused.Message, "call Reproducible.SetSeed(seed)");
    }

    [TestMethod]
    public void AStreamUsedAfterItsThreadResolvedAnotherSample_Throws_RatherThanDrawAnothersNumbers()
    {
        Reproducible.SetSeed(1);
        var sampler = new ReproducibleSampler(8, shuffle: false);
        _ = sampler.ToArray();
        SampleStream first = sampler.Resolve(0);
        long drawnFirst = torch.randint(0, 1000, [1], generator: first.Generator).item<long>();
        SampleStream second = sampler.Resolve(1); // mixup: the second sample resolved on the same thread
        var stale = Assert.ThrowsExactly<InvalidOperationException>(() => first.Generator);
        StringAssert.Contains(stale.Message, "no longer current");
        Assert.ThrowsExactly<InvalidOperationException>(() => first.Random);
        _ = second.Random.Next();
        Assert.AreEqual(drawnFirst, torch.randint(0, 1000, [1], generator: sampler.Resolve(0).Generator).item<long>(), "resolving again gives the same stream");

        var onAnotherThread = System.Threading.Tasks.Task.Run(() => second.Generator);
        Assert.ThrowsExactly<InvalidOperationException>(() => onAnotherThread.GetAwaiter().GetResult());
        var empty = Assert.ThrowsExactly<InvalidOperationException>(() => default(SampleStream).Generator);
        StringAssert.Contains(empty.Message, "default value");
    }

    [TestMethod]
    public void EnumeratingAgainMidEpoch_StopsTheEpochInProgress_SayingWhy()
    {
        Reproducible.SetSeed(1);
        var sampler = new ReproducibleSampler(8);
        using IEnumerator<long> epoch = sampler.GetEnumerator();
        Assert.IsTrue(epoch.MoveNext());
        Assert.AreEqual(1L, sampler.PositionInEpoch);
        Assert.AreEqual(8, sampler.Count()); // LINQ's Count reads the count: no epoch starts
        Assert.AreEqual(1L, sampler.PositionInEpoch);
        Assert.HasCount(8, sampler.ToList()); // ToList enumerates it: a new epoch starts, and takes all of it
        Assert.AreEqual(8L, sampler.PositionInEpoch, "the new epoch's position");
        var refused = Assert.ThrowsExactly<InvalidOperationException>(() => epoch.MoveNext());
        StringAssert.Contains(refused.Message, "Enumerate it once per epoch");
        Assert.AreEqual(2L, sampler.NextEpoch);
    }
}
