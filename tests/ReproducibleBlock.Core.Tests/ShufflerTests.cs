using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;

namespace ReproducibleBlock.Tests;

[TestClass]
public sealed class ShufflerTests : RuntimeTest
{
    [TestMethod]
    public void EachEnumeration_IsAFreshPermutation()
    {
        Reproducible.SetSeed(3);
        var shuffler = new BlockShuffler(100);
        long[] first = shuffler.ToArray(), second = shuffler.ToArray();
        CollectionAssert.AreEquivalent(Enumerable.Range(0, 100).Select(i => (long)i).ToArray(), first);
        CollectionAssert.AreEquivalent(first, second);
        CollectionAssert.AreNotEqual(first, second);
    }

    [TestMethod]
    public void Orders_RepeatInTheSameBlock_WhateverHappensOutside()
    {
        long[][] Epochs(int drawsOutside)
        {
            Reproducible.SetSeed(3);
            Draws.Managed(drawsOutside);
            using (Reproducible.Block(128))
            {
                var shuffler = new BlockShuffler(50);
                return [shuffler.ToArray(), shuffler.ToArray(), shuffler.ToArray()];
            }
        }
        long[][] a = Epochs(0), b = Epochs(17);
        for (int epoch = 0; epoch < 3; epoch++)
            CollectionAssert.AreEqual(a[epoch], b[epoch]);
    }

    [TestMethod]
    public void DataLoader_WithTheShuffler_ChangesOrderPerEpoch_AndRepeatsPerRun()
    {
        List<long[]> Run()
        {
            Reproducible.SetSeed(3);
            using var dataset = new IndexDataset(20);
            using var loader = new TorchSharp.Modules.DataLoader(dataset, batchSize: 20, shuffler: new BlockShuffler(dataset.Count));
            var epochs = new List<long[]>();
            using (Reproducible.Block(128))
            {
                for (int epoch = 0; epoch < 2; epoch++)
                {
                    foreach (var batch in loader)
                        epochs.Add(batch["index"].data<long>().ToArray());
                }
            }
            return epochs;
        }
        List<long[]> first = Run(), second = Run();
        Assert.AreEqual(2, first.Count);
        CollectionAssert.AreNotEqual(first[0], first[1], "a new order each epoch");
        CollectionAssert.AreEqual(first[0], second[0]);
        CollectionAssert.AreEqual(first[1], second[1]);
    }

    /// <summary>A dataset whose samples are their own indices, so a batch shows the order it was drawn in.</summary>
    private sealed class IndexDataset(long count) : torch.utils.data.Dataset
    {
        public override long Count => count;
        public override Dictionary<string, Tensor> GetTensor(long index) => new() { ["index"] = tensor(index) };
    }

    [TestMethod]
    public void GivenGenerator_IsUsedInstead()
    {
        const int count = 30, seed = 5;
        long[] identity = Enumerable.Range(0, count).Select(i => (long)i).ToArray();
        // Fisher-Yates from an independent generator with the same seed: for i from n-1 down to 1, swap i and Next(i + 1).
        var independent = new Random(seed);
        long[] Shuffle()
        {
            long[] order = (long[])identity.Clone();
            for (int i = count - 1; i > 0; i--)
            {
                int j = independent.Next(i + 1);
                (order[i], order[j]) = (order[j], order[i]);
            }
            return order;
        }
        long[] expectedFirst = Shuffle(), expectedSecond = Shuffle();

        Reproducible.SetSeed(3);
        ulong managedBefore = ReproducibleBlock.State.BlockRuntime.Shared.Random.State;
        var shuffler = new BlockShuffler(count, new Random(seed));
        long[] first = shuffler.ToArray(), second = shuffler.ToArray();
        CollectionAssert.AreEqual(expectedFirst, first);
        CollectionAssert.AreEqual(expectedSecond, second, "the second epoch goes on drawing from the given generator");
        CollectionAssert.AreNotEqual(identity, first);
        CollectionAssert.AreNotEqual(first, second);
        Assert.AreEqual(managedBefore, ReproducibleBlock.State.BlockRuntime.Shared.Random.State, "Reproducible.Random was not drawn from");
    }

    [TestMethod]
    public void NegativeCount_Throws() => Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new BlockShuffler(-1));
}
