using System;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using static TorchSharp.torch;

namespace ReproducibleBlock.Tests;

/// <summary>
/// The rank and world size: read from a launcher's variables or given, recorded in the environment (not compared: a
/// run resumes on another rank), and a rank block seed that differs per rank and nowhere else.
/// </summary>
[TestClass]
public sealed class DataParallelTests : RuntimeTest
{
    [TestMethod]
    [DataRow(null, null, null, 0, 1, null)]
    [DataRow("", "", null, 0, 1, null)]
    [DataRow("3", "4", "1", 3, 4, 1)]
    [DataRow("0", "1", null, 0, 1, null)]
    public void TheLaunchersVariables_AreRead(string? rank, string? worldSize, string? localRank, int expectedRank, int expectedWorld, int? expectedLocal)
    {
        DataParallel ranks = DataParallel.FromVariables(rank, worldSize, localRank);
        Assert.AreEqual(expectedRank, ranks.Rank);
        Assert.AreEqual(expectedWorld, ranks.WorldSize);
        Assert.AreEqual(expectedLocal, ranks.LocalRank);
    }

    [TestMethod]
    [DataRow("1", null, null, "Set both")]
    [DataRow(null, "2", null, "Set both")]
    [DataRow("x", "2", null, "RANK is 'x'")]
    [DataRow("-1", "2", null, "RANK is '-1'")]
    [DataRow("2", "2", null, "do not fit together")]
    [DataRow("0", "0", null, "do not fit together")]
    [DataRow("0", "2", "2", "do not fit together")]
    [DataRow("0", "2", "one", "LOCAL_RANK is 'one'")]
    public void BadVariables_AreRefused_NamingThem(string? rank, string? worldSize, string? localRank, string expected)
    {
        var error = Assert.ThrowsExactly<FormatException>(() => DataParallel.FromVariables(rank, worldSize, localRank));
        StringAssert.Contains(error.Message, expected);
    }

    [TestMethod]
    public void ARankOutsideTheWorld_IsRefused()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new DataParallel(2, 2));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new DataParallel(-1, 2));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new DataParallel(0, 0));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new DataParallel(0, 2, localRank: 2));
        Assert.AreEqual("rank 1 of 4", new DataParallel(1, 4).ToString());
    }

    [TestMethod]
    public void ARankBlock_DrawsDifferentlyOnEachRank_AndTheSameOnEachRun()
    {
        long[] Draw(int rank)
        {
            Reproducible.SetSeed(4);
            using (Reproducible.Block(new DataParallel(rank, 4).BlockSeed(7)))
            using (Tensor noise = randint(1 << 20, [8]))
                return noise.data<long>().ToArray();
        }
        long[][] ranks = [.. Enumerable.Range(0, 4).Select(Draw)];
        for (int a = 0; a < 4; a++)
        {
            CollectionAssert.AreEqual(ranks[a], Draw(a), $"rank {a} again");
            for (int b = a + 1; b < 4; b++)
                Assert.AreEqual(0, ranks[a].Intersect(ranks[b]).Count(), $"ranks {a} and {b}");
        }
        // Control: a plain block of the same seed is the same on every rank (model initialisation, by default).
        Assert.AreNotEqual(7L, new DataParallel(0, 4).BlockSeed(7));
        Assert.AreEqual(new DataParallel(2, 4).BlockSeed(7), new DataParallel(2, 8).BlockSeed(7), "it depends on the rank, not the world size");
    }

    [TestMethod]
    public void TheEnvironmentRecord_CarriesTheRank_WithoutComparingIt()
    {
        _ = new TrainingRun(seed: 1, deterministic: false, ranks: new DataParallel(1, 2));
        ReproducibleEnvironment here = ReproducibleEnvironment.Current();
        Assert.AreEqual(1, here.Rank);
        Assert.AreEqual(2, here.WorldSize);
        RngSnapshot snapshot = Reproducible.Capture();
        Assert.AreEqual(1, RngSnapshot.FromBytes(snapshot.ToBytes()).Environment!.Rank, "through the snapshot's bytes");

        _ = new TrainingRun(seed: 1, deterministic: false, ranks: new DataParallel(0, 2));
        Assert.AreEqual(0, ReproducibleEnvironment.Current().Rank);
        Assert.IsEmpty(ReproducibleEnvironment.Current().DifferencesFrom(here), "another rank is no difference");
        _ = new TrainingRun(seed: 1, deterministic: false);
        Assert.IsNull(ReproducibleEnvironment.Current().Rank, "one process");
    }
}
