using System;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.State;
using TorchSharp;

namespace ReproducibleBlock.Tests;

[TestClass]
public sealed class KeyedTests : RuntimeTest
{
    /// <summary>Counts the positions where two streams agree under the best shift of one against the other.</summary>
    private static int BestShiftAgreement(long[] a, long[] b, int maxShift)
    {
        int best = 0;
        for (int shift = -maxShift; shift <= maxShift; shift++)
        {
            int agree = 0;
            for (int i = 0; i < a.Length; i++)
            {
                int j = i + shift;
                if (j >= 0 && j < b.Length && a[i] == b[j])
                    agree++;
            }
            best = Math.Max(best, agree);
        }
        return best;
    }

    [TestMethod]
    public void NeighbouringSeeds_ShareNoShiftedStream()
    {
        Reproducible.SetSeed(42);
        for (long seed = 60; seed < 70; seed++)
        {
            long[] here, next;
            using (Reproducible.Block(seed))
                here = Draws.Torch(500);
            using (Reproducible.Block(seed + 1))
                next = Draws.Torch(500);
            // Values are 31-bit: a chance agreement anywhere in 1001 alignments × 500 positions is about 2 in 10,000.
            Assert.IsTrue(BestShiftAgreement(here, next, 500) <= 1, $"blocks {seed} and {seed + 1} overlap");
        }
    }

    [TestMethod]
    public void NeighbouringSeeds_GiveUnrelatedLinearWeights()
    {
        Reproducible.SetSeed(42);
        float[] block64, block65;
        using (Reproducible.Block(64))
            block64 = Draws.LinearWeights(16, 8);
        using (Reproducible.Block(65))
            block65 = Draws.LinearWeights(16, 8);
        CollectionAssert.AreNotEqual(block64.Skip(1).ToArray(), block65.Take(block65.Length - 1).ToArray());
        Assert.AreEqual(0, block64.Intersect(block65).Count());
    }

    [TestMethod]
    public void DifferentRootSeed_ChangesEveryBlock()
    {
        long[][] Blocks(long root)
        {
            Reproducible.SetSeed(root);
            return Enumerable.Range(0, 50).Select(seed => { using (Reproducible.Block(seed)) return Draws.Torch(4); }).ToArray();
        }
        long[][] one = Blocks(1), two = Blocks(2);
        for (int seed = 0; seed < 50; seed++)
            Assert.AreEqual(0, one[seed].Intersect(two[seed]).Count(), $"block {seed}");
    }

    [TestMethod]
    public void RootSeedsEqualModulo2To32_StillGiveDifferentBlocks()
    {
        const long low = 5, high = 5 + (1L << 32);
        Reproducible.SetSeed(low);
        long[] outsideLow = Draws.Torch(4), insideLow;
        using (Reproducible.Block(1))
            insideLow = Draws.Torch(4);
        Reproducible.SetSeed(high);
        long[] outsideHigh = Draws.Torch(4), insideHigh;
        using (Reproducible.Block(1))
            insideHigh = Draws.Torch(4);
        CollectionAssert.AreEqual(outsideLow, outsideHigh, "outside blocks, torch.manual_seed keeps 32 bits, as in PyTorch");
        CollectionAssert.AreNotEqual(insideLow, insideHigh, "block keys keep all 64 bits");
    }

    [TestMethod]
    public void BlockKeysThatAgreeInTheirLow32Bits_StillGiveDifferentStates()
    {
        // Derived states use the whole key: two keys with equal low halves must not collide as manual_seed(key) would.
        Span<byte> a = new byte[CpuGeneratorState.Size], b = new byte[CpuGeneratorState.Size];
        CpuGeneratorState.Derive(0x0000_0001_1234_5678, a);
        CpuGeneratorState.Derive(0x0000_0002_1234_5678, b);
        Assert.IsFalse(a[CpuGeneratorState.WordsOffset..].SequenceEqual(b[CpuGeneratorState.WordsOffset..]));
        Assert.IsNull(CpuGeneratorState.Validate(a));
    }

    [TestMethod]
    public void NestedBlock_DependsOnItsParent()
    {
        Reproducible.SetSeed(42);
        long[] inA, inAAgain, inB, topLevel;
        using (Reproducible.Block(1))
        using (Reproducible.Block(9))
            inA = Draws.Torch(8);
        using (Reproducible.Block(1))
        {
            Draws.Torch(100); // the parent's own draws do not move its children
            using (Reproducible.Block(9))
                inAAgain = Draws.Torch(8);
        }
        using (Reproducible.Block(2))
        using (Reproducible.Block(9))
            inB = Draws.Torch(8);
        using (Reproducible.Block(9))
            topLevel = Draws.Torch(8);
        CollectionAssert.AreEqual(inA, inAAgain);
        CollectionAssert.AreNotEqual(inA, inB);
        CollectionAssert.AreNotEqual(inA, topLevel);
    }

    [TestMethod]
    public void TopLevelBlock_DependsOnlyOnRootAndBlockSeed()
    {
        Reproducible.SetSeed(42);
        long[] early;
        using (Reproducible.Block(77))
            early = Draws.Torch(8);
        Draws.Torch(1000);
        Draws.Managed(10);
        using (Reproducible.Block(3)) Draws.Torch(10);
        using (Reproducible.Block(77))
            CollectionAssert.AreEqual(early, Draws.Torch(8));
    }

    [TestMethod]
    public void BlockKey_FollowsTheDocumentedFormula()
    {
        // XXH64 over little-endian (parent key, block seed, ordinal) with the "RB.block" domain, from the root key
        // XXH64(little-endian root seed) with the "RB.root" domain; see KeyDerivation's remarks.
        byte[] root = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(root, 42);
        ulong rootKey = XxHash64.HashToUInt64(root, seed: 0x00746F6F722E4252);
        byte[] child = new byte[24];
        BinaryPrimitives.WriteUInt64LittleEndian(child, rootKey);
        BinaryPrimitives.WriteInt64LittleEndian(child.AsSpan(8), 64);
        ulong key = XxHash64.HashToUInt64(child, seed: 0x6B636F6C622E4252);

        Reproducible.SetSeed(42);
        using (Reproducible.Block(64))
            Assert.AreEqual(unchecked((long)key), torch.initial_seed(), "the block's key is its CPU generator's initial seed");
    }

    [TestMethod]
    public void DerivedState_IsAFreshlySeededMersenneTwister()
    {
        // Read back through libtorch: left = 1, next = 0, seeded, and the first draw twists the whole state.
        Reproducible.SetSeed(42);
        using (Reproducible.Block(5))
        {
            byte[] state = Draws.CpuState();
            Assert.AreEqual(1, BinaryPrimitives.ReadInt32LittleEndian(state.AsSpan(8)));
            Assert.AreEqual(1, BinaryPrimitives.ReadInt32LittleEndian(state.AsSpan(12)));
            Assert.AreEqual(0UL, BinaryPrimitives.ReadUInt64LittleEndian(state.AsSpan(16)));
            Assert.IsNull(CpuGeneratorState.Validate(state));
        }
    }
}
