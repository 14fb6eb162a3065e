using System;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.State;

namespace ReproducibleBlock.Tests;

/// <summary>Restore puts back exactly what was captured, only where it was captured, and says why when it refuses.</summary>
[TestClass]
public sealed class RestoreTests : RuntimeTest
{
    [TestMethod]
    public void RestoreUnderAnotherRootSeed_NamesBothSides()
    {
        Reproducible.SetSeed(1);
        RngSnapshot snapshot;
        using (Reproducible.Block(5))
            snapshot = Reproducible.Capture();
        Reproducible.SetSeed(2, BlockDerivation.ResetAndAdvance);
        using (Reproducible.Block(5))
        {
            var refused = Assert.ThrowsExactly<InvalidOperationException>(() => Reproducible.Restore(snapshot));
            StringAssert.Contains(refused.Message, "captured inside blocks 5 (root seed 1, Keyed)");
            StringAssert.Contains(refused.Message, "Restore was called inside blocks 5 (root seed 2, ResetAndAdvance)");
            StringAssert.Contains(refused.Message, "after the same SetSeed, inside the same blocks");
        }
    }

    [TestMethod]
    public void RestoreUnderTheSameRootSeedButAnotherDerivation_IsRefused()
    {
        // The block keys agree (they do not depend on the derivation): only the derivation tells the runs apart.
        Reproducible.SetSeed(1);
        RngSnapshot snapshot;
        using (Reproducible.Block(5))
            snapshot = Reproducible.Capture();
        Reproducible.SetSeed(1, BlockDerivation.ResetAndAdvance);
        using (Reproducible.Block(5))
        {
            var refused = Assert.ThrowsExactly<InvalidOperationException>(() => Reproducible.Restore(snapshot));
            StringAssert.Contains(refused.Message, "(root seed 1, Keyed)");
            StringAssert.Contains(refused.Message, "(root seed 1, ResetAndAdvance)");
        }
    }

    [TestMethod]
    public void RestoreInAnotherInstanceOfTheSameBlock_IsRefused()
    {
        Reproducible.SetSeed(1);
        RngSnapshot snapshot;
        using (Reproducible.InstanceBlock(5))
            snapshot = Reproducible.Capture();
        using (Reproducible.InstanceBlock(5)) // the second instance: same seed, another key
            Assert.ThrowsExactly<InvalidOperationException>(() => Reproducible.Restore(snapshot));
    }

    [TestMethod]
    public void RestoreInABlockThatDiffersOnlyInRestoringOnExit_IsRefused()
    {
        Reproducible.SetSeed(1);
        RngSnapshot snapshot;
        using (Reproducible.Block(5))
            snapshot = Reproducible.Capture();
        using (Reproducible.Block(5, restoreOnExit: true))
            Assert.ThrowsExactly<InvalidOperationException>(() => Reproducible.Restore(snapshot));
    }

    [TestMethod]
    public void RefusalMessages_SayWhereEachSideIs()
    {
        Reproducible.SetSeed(1);
        RngSnapshot outside = Reproducible.Capture(), inside;
        using (Reproducible.Block(5))
        using (Reproducible.Block(6))
        {
            inside = Reproducible.Capture();
            var refused = Assert.ThrowsExactly<InvalidOperationException>(() => Reproducible.Restore(outside));
            StringAssert.Contains(refused.Message, "captured outside every block (root seed 1, Keyed); Restore was called inside blocks 5 > 6 (root seed 1, Keyed)");
        }
        var refusedOutside = Assert.ThrowsExactly<InvalidOperationException>(() => Reproducible.Restore(inside));
        StringAssert.Contains(refusedOutside.Message, "captured inside blocks 5 > 6 (root seed 1, Keyed); Restore was called outside every block (root seed 1, Keyed)");

        var fresh = new BlockRuntime(_ => NoCudaGenerators.Instance) { WarningHandler = null };
        var refusedFresh = Assert.ThrowsExactly<InvalidOperationException>(() => fresh.Restore(inside.Data));
        StringAssert.Contains(refusedFresh.Message, "Restore was called outside every block (before any SetSeed)");
    }

    [TestMethod]
    public void Snapshot_OfAnotherCpuStateSize_IsRefusedSayingWhy()
    {
        Reproducible.SetSeed(1);
        SnapshotData captured = Reproducible.Capture().Data;
        var foreign = new RngState(5000, 0);
        var snapshot = new SnapshotData
        {
            RootSeed = 1,
            Derivation = BlockDerivation.Keyed,
            Reference = foreign,
            Current = foreign,
            Root = captured.Root,
            Frames = [],
        };
        byte[] before = Draws.CpuState();
        var refused = Assert.ThrowsExactly<ArgumentException>(() => Reproducible.Restore(new RngSnapshot(snapshot)));
        StringAssert.Contains(refused.Message, "5000-byte CPU generator state, but this libtorch's is 5056 bytes");
        CollectionAssert.AreEqual(before, Draws.CpuState());
    }

    [TestMethod]
    public void Restore_PutsBackEveryLevelsInstanceCounters_OnceTheirBlocksWereEnteredAgain()
    {
        long[] Run(Action atCheckpoint)
        {
            Reproducible.SetSeed(3);
            using (Reproducible.InstanceBlock(5)) { }
            using (Reproducible.InstanceBlock(6)) { }
            using (Reproducible.Block(1))
            {
                using (Reproducible.InstanceBlock(7)) { }
                atCheckpoint();
                using (Reproducible.InstanceBlock(7))
                    return Draws.Torch(2);
            }
        }

        RngSnapshot? saved = null;
        long[] uninterrupted = Run(() => saved = Reproducible.Capture());

        // Resume as a program does: it builds what it built before the checkpoint, then restores; the counters then
        // carry on from the snapshot's, at every level.
        Reproducible.SetSeed(3);
        using (Reproducible.InstanceBlock(5)) { }
        using (Reproducible.InstanceBlock(6)) { }
        long[] resumedInner, resumedRoot5, resumedRoot6;
        using (Reproducible.Block(1))
        {
            using (Reproducible.InstanceBlock(7)) { }
            Reproducible.Restore(saved!);
            using (Reproducible.InstanceBlock(7))
                resumedInner = Draws.Torch(2);
        }
        using (Reproducible.InstanceBlock(5))
            resumedRoot5 = Draws.Torch(2);
        using (Reproducible.InstanceBlock(6))
            resumedRoot6 = Draws.Torch(2);

        CollectionAssert.AreEqual(uninterrupted, resumedInner, "the second instance of 7 inside block 1");
        Reproducible.SetSeed(3);
        long[] second5, second6;
        using (Reproducible.InstanceBlock(5)) { }
        using (Reproducible.InstanceBlock(5))
            second5 = Draws.Torch(2);
        using (Reproducible.InstanceBlock(6)) { }
        using (Reproducible.InstanceBlock(6))
            second6 = Draws.Torch(2);
        CollectionAssert.AreEqual(second5, resumedRoot5, "the root counter of seed 5 carried on");
        CollectionAssert.AreEqual(second6, resumedRoot6, "the root counter of seed 6 carried on");
    }

    [TestMethod]
    public void Restore_BeforeTheModelIsBuiltAgain_IsRefused_NamingTheRightOrder()
    {
        // The trap of 0.2: restored counters gave the model built after Restore the ordinal of a second model, so
        // every one of its streams had another key, silently.
        Reproducible.SetSeed(3);
        using (Reproducible.InstanceBlock(5)) { }
        RngSnapshot saved = Reproducible.Capture();

        Reproducible.SetSeed(3);
        byte[] before = Draws.CpuState();
        var refused = Assert.ThrowsExactly<InvalidOperationException>(() => Reproducible.Restore(saved));
        StringAssert.Contains(refused.Message, "captured after 1 instance block(s) with seed 5 (woven constructors) had been entered outside every block");
        StringAssert.Contains(refused.Message, "this process has entered 0 there so far");
        StringAssert.Contains(refused.Message, "Build the model (and whatever else was built before the checkpoint) first, then call Restore or Resume");
        CollectionAssert.AreEqual(before, Draws.CpuState(), "a refused restore changes nothing");
        Assert.ThrowsExactly<InvalidOperationException>(() => Reproducible.Resume(saved), "Resume restores at once here, and is refused the same way");
        Assert.IsFalse(Reproducible.IsResumePending);

        using (Reproducible.InstanceBlock(5)) { }
        Reproducible.Restore(saved); // built first: accepted
    }

    [TestMethod]
    public void Resume_IntoABlockThatBuildsBeforeItsCheckpoint_IsRefusedAtItsEntry()
    {
        Reproducible.SetSeed(3);
        RngSnapshot? saved = null;
        using (Reproducible.Block(1))
        {
            using (Reproducible.InstanceBlock(7)) { }
            saved = Reproducible.Capture();
        }

        Reproducible.SetSeed(3);
        Reproducible.Resume(saved);
        Assert.IsTrue(Reproducible.IsResumePending);
        var refused = Assert.ThrowsExactly<InvalidOperationException>(() => Reproducible.Block(1));
        StringAssert.Contains(refused.Message, "Resume applies it as block 1 is entered, before its body builds them again");
        StringAssert.Contains(refused.Message, "Call Reproducible.Restore inside the block, after building");
        Assert.IsTrue(Reproducible.IsResumePending, "the refused entry left the snapshot waiting, and nothing open");
        Assert.AreEqual(0, Reproducible.Capture().Data.Frames.Count);
    }
}
