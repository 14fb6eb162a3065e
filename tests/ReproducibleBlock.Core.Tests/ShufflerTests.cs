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
        long[] a = new BlockShuffler(30, new Random(5)).ToArray();
        long[] b = new BlockShuffler(30, new Random(5)).ToArray();
        CollectionAssert.AreEqual(a, b);
    }

    [TestMethod]
    public void NegativeCount_Throws() => Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new BlockShuffler(-1));
}
