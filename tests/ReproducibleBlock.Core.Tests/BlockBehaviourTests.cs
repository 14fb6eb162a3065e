using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO.Hashing;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.State;
using TorchSharp;

namespace ReproducibleBlock.Tests;

/// <summary>The behaviours torch-reproducible-block documents and tests, under both derivations.</summary>
[TestClass]
public sealed class BlockBehaviourTests : RuntimeTest
{
    public static System.Collections.Generic.IEnumerable<object[]> Derivations =>
        [[BlockDerivation.Keyed], [BlockDerivation.ResetAndAdvance]];

    [TestMethod]
    [DynamicData(nameof(Derivations))]
    public void Block_SameSeedTwice_DrawsTheSame(BlockDerivation derivation)
    {
        Reproducible.SetSeed(42, derivation);
        long[] first, second;
        using (Reproducible.Block(7))
            first = Draws.Torch(16);
        Draws.Torch(5); // outside draws must not matter
        using (Reproducible.Block(7))
            second = Draws.Torch(16);
        CollectionAssert.AreEqual(first, second);
    }

    [TestMethod]
    [DynamicData(nameof(Derivations))]
    public void Block_DifferentSeeds_DrawDifferently(BlockDerivation derivation)
    {
        Reproducible.SetSeed(42, derivation);
        long[] seven, eight;
        using (Reproducible.Block(7))
            seven = Draws.Torch(16);
        using (Reproducible.Block(8))
            eight = Draws.Torch(16);
        CollectionAssert.AreNotEqual(seven, eight);
    }

    [TestMethod]
    public void ResetAndAdvance_BlockZero_EqualsTheStateRightAfterManualSeed()
    {
        torch.manual_seed(1234);
        long[] expected = Draws.Torch(32);

        Reproducible.SetSeed(1234, BlockDerivation.ResetAndAdvance);
        Draws.Torch(100);
        using (Reproducible.Block(0))
            CollectionAssert.AreEqual(expected, Draws.Torch(32));
    }

    [TestMethod]
    [DynamicData(nameof(Derivations))]
    public void RestoreOnExit_LeavesTheOuterStreamUntouched(BlockDerivation derivation)
    {
        Reproducible.SetSeed(5, derivation);
        Draws.Torch(3);
        Draws.Managed(3);
        long[] expectedTorch = Draws.Torch(20);
        long[] expectedManaged = Draws.Managed(20);

        Reproducible.SetSeed(5, derivation);
        Draws.Torch(3);
        Draws.Managed(3);
        using (Reproducible.Block(99, restoreOnExit: true))
        {
            Draws.Torch(1000);
            Draws.Managed(1000);
        }
        CollectionAssert.AreEqual(expectedTorch, Draws.Torch(20));
        CollectionAssert.AreEqual(expectedManaged, Draws.Managed(20));
    }

    [TestMethod]
    [DynamicData(nameof(Derivations))]
    public void DefaultExit_ContinuesFromTheBlocksOwnState(BlockDerivation derivation)
    {
        Reproducible.SetSeed(5, derivation);
        long[] inside;
        using (Reproducible.Block(3))
            inside = Draws.Torch(30);

        Reproducible.SetSeed(5, derivation);
        using (Reproducible.Block(3))
            Draws.Torch(10);
        long[] after = Draws.Torch(20);
        CollectionAssert.AreEqual(inside.Skip(10).ToArray(), after);
    }

    [TestMethod]
    public void Block_ExceptionInside_StillLeavesTheBlock()
    {
        Reproducible.SetSeed(5);
        Draws.Torch(2);
        long[] expected = Draws.Torch(8);

        Reproducible.SetSeed(5);
        Draws.Torch(2);
        Assert.ThrowsExactly<InvalidTimeZoneException>(() =>
        {
            using (Reproducible.Block(1, restoreOnExit: true))
            {
                Draws.Torch(50);
                throw new InvalidTimeZoneException("thrown inside the block");
            }
        });
        CollectionAssert.AreEqual(expected, Draws.Torch(8), "the block was left and restored");
        Reproducible.SetSeed(6); // SetSeed refuses while a block is open, so this proves none is
    }

    [TestMethod]
    public void Dispose_Twice_IsANoOp()
    {
        Reproducible.SetSeed(5);
        BlockScope outer = Reproducible.Block(1);
        BlockScope inner = Reproducible.Block(2);
        inner.Dispose();
        inner.Dispose();
        long[] afterInner = Draws.Torch(4);
        outer.Dispose();
        outer.Dispose();
        Reproducible.SetSeed(5);
        using (Reproducible.Block(1))
        {
            using (Reproducible.Block(2)) { }
            CollectionAssert.AreEqual(afterInner, Draws.Torch(4));
        }
    }

    [TestMethod]
    public void Dispose_OutOfOrder_ThrowsAndKeepsTheStack()
    {
        Reproducible.SetSeed(5);
        long[] expectedInner, expectedAfter;
        using (Reproducible.Block(1))
        {
            Draws.Torch(2);
            using (Reproducible.Block(2))
                expectedInner = Draws.Torch(6);
            expectedAfter = Draws.Torch(3);
        }

        Reproducible.SetSeed(5);
        BlockScope outer = Reproducible.Block(1);
        Draws.Torch(2);
        BlockScope inner = Reproducible.Block(2);
        long[] innerDraws = Draws.Torch(3);

        var error = Assert.ThrowsExactly<InvalidOperationException>(outer.Dispose);
        StringAssert.Contains(error.Message, "Block 1 cannot be left while block 2");
        StringAssert.Contains(error.Message, "dispose the inner block first");

        // Still inside block 2, whose stream goes on where it was; then both leave in order.
        innerDraws = [.. innerDraws, .. Draws.Torch(3)];
        CollectionAssert.AreEqual(expectedInner, innerDraws);
        inner.Dispose();
        CollectionAssert.AreEqual(expectedAfter, Draws.Torch(3), "back in block 1 after block 2, as without the failed dispose");
        outer.Dispose();
        Reproducible.SetSeed(5); // refused if anything were still open
    }

    [TestMethod]
    public void Block_BeforeSetSeed_ThrowsAndSaysWhatToCall()
    {
        var runtime = new State.BlockRuntime(_ => State.NoCudaGenerators.Instance);
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => runtime.Enter(3, restoreOnExit: false, instance: false));
        StringAssert.Contains(error.Message, "Reproducible.SetSeed");
        Assert.IsFalse(runtime.IsSeeded);
    }

    [TestMethod]
    public void SetSeed_InsideABlock_Throws()
    {
        Reproducible.SetSeed(1);
        using (Reproducible.Block(12))
        {
            var error = Assert.ThrowsExactly<InvalidOperationException>(() => Reproducible.SetSeed(2));
            StringAssert.Contains(error.Message, "12");
        }
    }

    [TestMethod]
    public void SetSeed_UndefinedDerivation_Throws()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Reproducible.SetSeed(1, (BlockDerivation)7));
    }

    [TestMethod]
    public void ResetAndAdvance_NegativeBlockSeed_Throws()
    {
        // What the run does after the refused entry, and what the same run does with no refused entry: they must agree.
        static (long[] Before, long[] BeforeManaged, long[] Inside, long[] InsideManaged, long[] After) Continue()
        {
            long[] before = Draws.Torch(4), beforeManaged = Draws.Managed(4), inside, insideManaged;
            using (Reproducible.InstanceBlock(7, restoreOnExit: true))
            {
                inside = Draws.Torch(8);
                insideManaged = Draws.Managed(8);
            }
            return (before, beforeManaged, inside, insideManaged, Draws.Torch(4));
        }

        foreach (bool restoreOnExit in new[] { false, true })
        {
            foreach (bool instance in new[] { false, true })
            {
                string what = $"restoreOnExit: {restoreOnExit}, instance: {instance}";
                Reproducible.SetSeed(1, BlockDerivation.ResetAndAdvance);
                Draws.Torch(3);
                Draws.Managed(2); // away from the reference state, to which a half-done entry would reset the generators
                byte[] cpuBefore = Draws.CpuState();
                ulong managedBefore = BlockRuntime.Shared.Random.State;

                var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(
                    () => instance ? Reproducible.InstanceBlock(-1, restoreOnExit) : Reproducible.Block(-1, restoreOnExit), what);
                Assert.AreEqual("blockSeed", error.ParamName, what);

                CollectionAssert.AreEqual(cpuBefore, Draws.CpuState(), $"{what}: the torch generator did not move");
                Assert.AreEqual(managedBefore, BlockRuntime.Shared.Random.State, $"{what}: the managed generator did not move");
                SnapshotData captured = Reproducible.Capture().Data;
                Assert.IsEmpty(captured.Frames, $"{what}: no frame was left open");
                Assert.IsEmpty(captured.Root.InstanceCounts, $"{what}: the refused entry counted no instance");

                var afterRefusal = Continue();
                SnapshotData afterBlock = Reproducible.Capture().Data;
                Assert.IsEmpty(afterBlock.Frames, $"{what}: the following block was left");
                Assert.AreEqual(1L, afterBlock.Root.InstanceCounts[7], $"{what}: the following block was counted at the top level");
                Assert.HasCount(1, afterBlock.Root.InstanceCounts, what);

                Reproducible.SetSeed(1, BlockDerivation.ResetAndAdvance);
                Draws.Torch(3);
                Draws.Managed(2);
                var expected = Continue();
                CollectionAssert.AreEqual(expected.Before, afterRefusal.Before, what);
                CollectionAssert.AreEqual(expected.BeforeManaged, afterRefusal.BeforeManaged, what);
                CollectionAssert.AreEqual(expected.Inside, afterRefusal.Inside, $"{what}: the following block draws as a top-level block");
                CollectionAssert.AreEqual(expected.InsideManaged, afterRefusal.InsideManaged, what);
                CollectionAssert.AreEqual(expected.After, afterRefusal.After, $"{what}: and restores on exit as one");
            }
        }
        Reproducible.SetSeed(2); // refused if anything were still open
    }

    [TestMethod]
    public void ResetAndAdvance_SeedThatWouldSkipForHours_ThrowsInsteadOfHanging()
    {
        Reproducible.SetSeed(1, BlockDerivation.ResetAndAdvance);
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Reproducible.Block(1L << 32));
        StringAssert.Contains(error.Message, "Keyed");
        StringAssert.Contains(error.Message, "[ReproducibleBlock(seed)]");
    }

    [TestMethod]
    public void Keyed_AnyLongIsABlockSeed()
    {
        // The documented key (KeyDerivation's remarks): XXH64 of the little-endian root seed with the "RB.root" domain,
        // then XXH64 of (root key, block seed, ordinal 0) with the "RB.block" domain.
        static ulong DocumentedKey(long rootSeed, long blockSeed)
        {
            byte[] root = new byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(root, rootSeed);
            byte[] child = new byte[24];
            BinaryPrimitives.WriteUInt64LittleEndian(child, XxHash64.HashToUInt64(root, seed: 0x00746F6F722E4252));
            BinaryPrimitives.WriteInt64LittleEndian(child.AsSpan(8), blockSeed);
            return XxHash64.HashToUInt64(child, seed: 0x6B636F6C622E4252);
        }

        long[] seeds = [long.MinValue, -1L, 0L, long.MaxValue];
        var draws = new List<long[]>();
        Reproducible.SetSeed(1);
        foreach (long seed in seeds)
        {
            ulong key = DocumentedKey(1, seed);
            byte[] derived = new byte[CpuGeneratorState.Size];
            CpuGeneratorState.Derive(key, derived);
            using (BlockScope scope = Reproducible.Block(seed))
            {
                Assert.AreEqual(seed, scope.BlockSeed);
                Assert.AreEqual(unchecked((long)key), torch.initial_seed(), $"block {seed}: its CPU generator is seeded with its documented key");
                CollectionAssert.AreEqual(derived, Draws.CpuState(), $"block {seed}: its CPU state is the one derived from that key");
                draws.Add(Draws.Torch(16));
            }
        }
        for (int i = 0; i < seeds.Length; i++)
        {
            for (int j = i + 1; j < seeds.Length; j++)
                Assert.IsEmpty(draws[i].Intersect(draws[j]), $"blocks {seeds[i]} and {seeds[j]} share draws");
        }
    }

    [TestMethod]
    public void SetSeed_OutsideBlocks_MatchesTorchManualSeed()
    {
        torch.manual_seed(77);
        long[] expected = Draws.Torch(10);
        Reproducible.SetSeed(77);
        CollectionAssert.AreEqual(expected, Draws.Torch(10));
        Assert.IsTrue(Reproducible.IsSeeded);
    }

    [TestMethod]
    public void Scope_ReportsItsSeedAndMode()
    {
        Reproducible.SetSeed(1);
        using BlockScope scope = Reproducible.Block(64, restoreOnExit: true);
        Assert.AreEqual(64, scope.BlockSeed);
        Assert.IsTrue(scope.RestoresOnExit);
        Assert.AreEqual("Block 64 (restores on exit)", scope.ToString());
        using BlockScope plain = Reproducible.Block(-3);
        Assert.AreEqual("Block -3", plain.ToString());
    }
}
