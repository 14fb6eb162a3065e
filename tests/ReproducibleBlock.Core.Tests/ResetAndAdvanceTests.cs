using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.State;
using TorchSharp;

namespace ReproducibleBlock.Tests;

/// <summary>
/// ResetAndAdvance must be torch-reproducible-block's algorithm bit for bit. Expected values come from two
/// independent paths: a Mersenne Twister written from its reference code, and torch itself driven by hand
/// (manual_seed, then blockSeed single randint calls, as the Python package does).
/// </summary>
[TestClass]
public sealed class ResetAndAdvanceTests : RuntimeTest
{
    /// <summary>
    /// What <c>randint(0, 2^31, [count])</c> draws after <c>manual_seed(rootSeed)</c> and <paramref name="skip"/> calls of
    /// <c>randint(1, 10, [1])</c>. libtorch 2.10's CPU randint draws an element as <c>r % range + low</c>, where r is one
    /// 32-bit output for ranges below 2^28 (so the Python package's randint(1, 10) consumes one output per call) and
    /// random64(), two outputs joined with the first as the high half, from 2^28 up (so each value here consumes two).
    /// </summary>
    private static long[] Expected(long rootSeed, long skip, int count)
    {
        var twister = new MersenneTwister(unchecked((uint)rootSeed)); // manual_seed keeps the low 32 bits
        for (long i = 0; i < skip; i++)
            twister.Next();
        return Enumerable.Range(0, count).Select(_ => (long)(twister.NextUInt64() % (1UL << 31))).ToArray();
    }

    [TestMethod]
    public void TheTwisterModel_MatchesTorchRandint()
    {
        // Checks the model itself, on both sides of the 2^28 range threshold.
        torch.manual_seed(42);
        using torch.Tensor small = torch.randint(1, 10, new long[] { 2000 });
        using torch.Tensor large = torch.randint(0, 1L << 31, new long[] { 2000 });
        var twister = new MersenneTwister(42);
        long[] expectedSmall = Enumerable.Range(0, 2000).Select(_ => (long)(twister.Next() % 9 + 1)).ToArray();
        long[] expectedLarge = Enumerable.Range(0, 2000).Select(_ => (long)(twister.NextUInt64() % (1UL << 31))).ToArray();
        CollectionAssert.AreEqual(expectedSmall, small.data<long>().ToArray());
        CollectionAssert.AreEqual(expectedLarge, large.data<long>().ToArray());
    }

    [TestMethod]
    [DataRow(42L, 0L)]
    [DataRow(42L, 1L)]
    [DataRow(42L, 64L)]
    [DataRow(42L, 623L)]
    [DataRow(42L, 624L)]
    [DataRow(7L, 1000L)]
    [DataRow(-3L, 5L)]
    public void Block_DrawsTheMersenneTwisterStreamSkippedByTheBlockSeed(long rootSeed, long blockSeed)
    {
        Reproducible.SetSeed(rootSeed, BlockDerivation.ResetAndAdvance);
        using (Reproducible.Block(blockSeed))
            CollectionAssert.AreEqual(Expected(rootSeed, blockSeed, 40), Draws.Torch(40));
    }

    [TestMethod]
    public void Block_LeavesTheStateOfBlockSeedSingleRandintCalls()
    {
        const long blockSeed = 300;
        torch.manual_seed(42);
        for (int i = 0; i < blockSeed; i++)
        {
            using torch.Tensor _ = torch.randint(1, 10, new long[] { 1 });
        }
        byte[] expected = Draws.CpuState();

        Reproducible.SetSeed(42, BlockDerivation.ResetAndAdvance);
        using (Reproducible.Block(blockSeed))
            CollectionAssert.AreEqual(expected, Draws.CpuState());
    }

    [TestMethod]
    public void Block_BeyondOneAdvanceChunk_StaysExact()
    {
        long blockSeed = TorchCpuGenerator.AdvanceChunk * 2 + 17;
        Reproducible.SetSeed(9, BlockDerivation.ResetAndAdvance);
        using (Reproducible.Block(blockSeed))
            CollectionAssert.AreEqual(Expected(9, blockSeed, 8), Draws.Torch(8));
    }

    [TestMethod]
    public void NestedBlocks_AreAbsolute()
    {
        Reproducible.SetSeed(42, BlockDerivation.ResetAndAdvance);
        long[] topLevel;
        using (Reproducible.Block(5))
            topLevel = Draws.Torch(10);
        using (Reproducible.Block(64))
        using (Reproducible.Block(5))
            CollectionAssert.AreEqual(topLevel, Draws.Torch(10));
    }

    /// <summary>The defect the Keyed derivation fixes, kept here on purpose: neighbouring seeds overlap.</summary>
    [TestMethod]
    public void NeighbouringSeeds_GiveLinearWeightsShiftedByOneElement()
    {
        Reproducible.SetSeed(42, BlockDerivation.ResetAndAdvance);
        float[] block64, block65;
        using (Reproducible.Block(64))
            block64 = Draws.LinearWeights(16, 8);
        using (Reproducible.Block(65))
            block65 = Draws.LinearWeights(16, 8);
        CollectionAssert.AreEqual(block64.Skip(1).ToArray(), block65.Take(block65.Length - 1).ToArray());
    }

    [TestMethod]
    public void InstanceBlocks_IgnoreTheInstanceCount()
    {
        Reproducible.SetSeed(42, BlockDerivation.ResetAndAdvance);
        long[] first, second;
        using (Reproducible.InstanceBlock(3))
            first = Draws.Torch(5);
        using (Reproducible.InstanceBlock(3))
            second = Draws.Torch(5);
        CollectionAssert.AreEqual(first, second);
    }

    [TestMethod]
    public void ManagedGenerator_IsResetAndAdvancedToo()
    {
        Reproducible.SetSeed(42, BlockDerivation.ResetAndAdvance);
        long[] block3;
        using (Reproducible.Block(3))
            block3 = Draws.Managed(10);
        long[] block0;
        Reproducible.Random.NextInt64();
        using (Reproducible.Block(0))
            block0 = Draws.Managed(10);
        // SplitMix64 draws one output per NextInt64 here (no rejection below 2^63 - 1 in practice), so block 3 is block 0 moved by 3.
        CollectionAssert.AreEqual(block0.Skip(3).ToArray(), block3.Take(7).ToArray());
    }
}
