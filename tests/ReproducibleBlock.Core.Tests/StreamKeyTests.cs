using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.State;

namespace ReproducibleBlock.Tests;

/// <summary>
/// Continuing streams are keyed uniquely among live owners by construction, in the shapes ordinary training code
/// takes: a factory called twice (a student and its EMA teacher), owners first used in two openings of one block, a
/// constructor that runs a submodule before registering itself, folds trained without a SetSeed each. A snapshot of
/// them always round-trips through its bytes, and each owner gets its own state back.
/// </summary>
[TestClass]
public sealed class StreamKeyTests : RuntimeTest
{
    /// <summary>A module-like owner: its "forward" draws in its continuing block.</summary>
    private sealed class Owner
    {
        public long[] Forward(int n = 6)
        {
            using (Reproducible.ContinuingBlock(this))
                return Draws.Torch(n);
        }

        /// <summary>What its woven constructor would do: an instance block of its type, whose stream it registers.</summary>
        public static Owner Built(long typeSeed = 7)
        {
            var owner = new Owner();
            using (Reproducible.InstanceBlock(typeSeed, restoreOnExit: true))
                WovenCode.RegisterStream(owner);
            return owner;
        }
    }

    /// <summary>A woven factory, <c>[ReproducibleBlock(100)] Owner Create()</c>: every call enters the same block.</summary>
    private static (Owner Model, long[] InitialWeights) Create()
    {
        using (Reproducible.Block(100))
        {
            Owner model = Owner.Built();
            return (model, Draws.Torch(3));
        }
    }

    private static ulong KeyOf(object owner) => BlockRuntime.Shared.FindStreamForTests(owner)!.Key;

    [TestMethod]
    public void AFactoryCalledTwice_GivesItsTwoModelsTwoStreams_ThatRoundTripThroughBytes()
    {
        Reproducible.SetSeed(5);
        (Owner student, long[] studentInit) = Create();
        (Owner teacher, long[] teacherInit) = Create();
        CollectionAssert.AreEqual(studentInit, teacherInit, "control: both calls enter one block, as a block promises");

        long[] s0 = student.Forward(), t0 = teacher.Forward();
        Assert.AreEqual(0, s0.Intersect(t0).Count(), "the two models draw different masks");
        Assert.AreNotEqual(KeyOf(student), KeyOf(teacher));

        byte[] checkpoint = Reproducible.Capture().ToBytes();
        RngSnapshot read = RngSnapshot.FromBytes(checkpoint); // 0.2 refused it: "records stream ... twice"
        Assert.HasCount(2, read.Data.Streams);
        long[] s1 = student.Forward(), t1 = teacher.Forward();

        Reproducible.Restore(read);
        CollectionAssert.AreEqual(s1, student.Forward(), "the student gets its own state back");
        CollectionAssert.AreEqual(t1, teacher.Forward(), "the teacher gets its own, not the student's");

        // A new run built the same way resumes both.
        Reproducible.SetSeed(5);
        (Owner student2, _) = Create();
        (Owner teacher2, _) = Create();
        Reproducible.Restore(RngSnapshot.FromBytes(checkpoint));
        CollectionAssert.AreEqual(s1, student2.Forward());
        CollectionAssert.AreEqual(t1, teacher2.Forward());
    }

    [TestMethod]
    public void OwnersFirstUsedInTwoOpeningsOfOneBlock_GetTwoStreams()
    {
        Reproducible.SetSeed(5);
        var a = new Owner();
        var b = new Owner();
        long[] fromA, fromB;
        using (Reproducible.Block(3))
            fromA = a.Forward();
        using (Reproducible.Block(3))
            fromB = b.Forward();
        Assert.AreEqual(0, fromA.Intersect(fromB).Count());
        Assert.HasCount(2, RngSnapshot.FromBytes(Reproducible.Capture().ToBytes()).Data.Streams);

        // Control: the same owner in the two openings continues one stream; a fresh run repeats both.
        Reproducible.SetSeed(5);
        var a2 = new Owner();
        var b2 = new Owner();
        using (Reproducible.Block(3))
            CollectionAssert.AreEqual(fromA, a2.Forward());
        using (Reproducible.Block(3))
            CollectionAssert.AreEqual(fromB, b2.Forward());
    }

    [TestMethod]
    public void AConstructorThatRunsASubmoduleBeforeRegistering_GivesEachItsOwnStream()
    {
        Reproducible.SetSeed(5);
        var parent = new Owner();
        var child = new Owner();
        using (Reproducible.InstanceBlock(7, restoreOnExit: true))
        {
            child.Forward(); // the submodule's first call, inside the parent's constructor
            WovenCode.RegisterStream(parent);
        }
        Assert.AreNotEqual(KeyOf(parent), KeyOf(child));
        Assert.AreEqual(0, parent.Forward().Intersect(child.Forward()).Count());
        Assert.HasCount(2, RngSnapshot.FromBytes(Reproducible.Capture().ToBytes()).Data.Streams);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static List<long[]> TrainFolds(int folds, bool collectBetweenFolds, out byte[] checkpoint)
    {
        var masks = new List<long[]>();
        checkpoint = [];
        for (int fold = 0; fold < folds; fold++)
        {
            Owner model;
            using (Reproducible.Block(128)) // [ReproducibleBlock(128)] TrainFold()
            {
                model = Owner.Built();
                masks.Add(model.Forward());
                masks.Add(model.Forward());
            }
            checkpoint = Reproducible.Capture().ToBytes();
            if (collectBetweenFolds)
            {
                model = null!;
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        }
        return masks;
    }

    [TestMethod]
    public void FoldsTrainedWithoutASetSeedEach_GetStreamsOfTheirOwn_WhateverTheCollectorDoes()
    {
        Reproducible.SetSeed(5);
        List<long[]> kept = TrainFolds(3, collectBetweenFolds: false, out byte[] keptCheckpoint);
        Reproducible.SetSeed(5);
        List<long[]> collected = TrainFolds(3, collectBetweenFolds: true, out byte[] collectedCheckpoint);

        for (int i = 0; i < kept.Count; i++)
            CollectionAssert.AreEqual(kept[i], collected[i], $"mask {i} does not depend on whether earlier folds' models were collected");
        Assert.AreEqual(0, kept[0].Intersect(kept[2]).Count(), "fold 1's model does not replay fold 0's masks");
        Assert.AreEqual(0, kept[2].Intersect(kept[4]).Count());
        RngSnapshot.FromBytes(keptCheckpoint); // three live owners, three keys
        RngSnapshot.FromBytes(collectedCheckpoint);
    }

    [TestMethod]
    public void RestoringAFoldsCheckpoint_BeforeEveryEarlierFoldsModelWasBuiltAgain_IsRefused()
    {
        // The uninterrupted run: three folds, one model each, built in one block; the checkpoint is the last fold's.
        Reproducible.SetSeed(5);
        Owner last = null!;
        for (int fold = 0; fold < 3; fold++)
        {
            using (Reproducible.Block(128))
                last = Owner.Built();
        }
        ulong lastKey = KeyOf(last);
        byte[] checkpoint = Reproducible.Capture().ToBytes();
        long[] next = last.Forward();

        // A resumed process that builds only the fold it resumes: its model claims the first key under the block, the
        // one fold 0's model had, and so could never get the last fold's state. 0.2 restored it without a word.
        Reproducible.SetSeed(5);
        Owner resumed;
        using (Reproducible.Block(128))
            resumed = Owner.Built();
        Assert.AreNotEqual(lastKey, KeyOf(resumed), "control: without the refusal this model would continue another stream");
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => Reproducible.Restore(RngSnapshot.FromBytes(checkpoint)));
        StringAssert.Contains(error.Message, "after 3 module(s) built by woven constructors");
        StringAssert.Contains(error.Message, "has built 1 there so far");

        // Building the earlier folds' models again first (as the loop does when it runs every fold) is accepted, and
        // the last one continues exactly.
        Reproducible.SetSeed(5);
        for (int fold = 0; fold < 3; fold++)
        {
            using (Reproducible.Block(128))
                resumed = Owner.Built();
        }
        Assert.AreEqual(lastKey, KeyOf(resumed));
        Reproducible.Restore(RngSnapshot.FromBytes(checkpoint));
        CollectionAssert.AreEqual(next, resumed.Forward());
    }

    [TestMethod]
    public void AStreamClaimedAtFirstUse_NeedsNoRebuilding_ToBeRestored()
    {
        // Owners that are not built by a woven constructor claim at their first call: a restore before that call gives
        // them their state when they claim it, so the refusal above counts only constructor-registered claims.
        Reproducible.SetSeed(5);
        var owner = new Owner();
        owner.Forward();
        byte[] checkpoint = Reproducible.Capture().ToBytes();
        long[] next = owner.Forward();

        Reproducible.SetSeed(5);
        Reproducible.Restore(RngSnapshot.FromBytes(checkpoint));
        CollectionAssert.AreEqual(next, new Owner().Forward());
    }

    [TestMethod]
    public void SetSeedAgainAfterTheModelIsBuilt_KeepsEveryModulesStream()
    {
        // A PyTorch habit: seed, build, seed again right before training. 0.2 forgot the construction keys there.
        List<long[]> Train(Owner[] model) => [.. Enumerable.Range(0, 3).SelectMany(_ => model.Select(m => m.Forward()))];

        Reproducible.SetSeed(5);
        List<long[]> once = Train([Owner.Built(7), Owner.Built(8)]);

        Reproducible.SetSeed(5);
        Owner[] model = [Owner.Built(7), Owner.Built(8)];
        Draws.Torch(10); // whatever ran between
        Reproducible.SetSeed(5);
        List<long[]> twice = Train(model);
        for (int i = 0; i < once.Count; i++)
            CollectionAssert.AreEqual(once[i], twice[i], $"call {i}");

        // Control: seeding again with another seed does move them, the same way every time.
        Reproducible.SetSeed(5);
        model = [Owner.Built(7), Owner.Built(8)];
        Reproducible.SetSeed(6);
        List<long[]> other = Train(model);
        Reproducible.SetSeed(5);
        model = [Owner.Built(7), Owner.Built(8)];
        Reproducible.SetSeed(6);
        List<long[]> otherAgain = Train(model);
        Assert.AreEqual(0, once[0].Intersect(other[0]).Count());
        for (int i = 0; i < other.Count; i++)
            CollectionAssert.AreEqual(other[i], otherAgain[i], $"call {i} under seed 6");
    }

    [TestMethod]
    public void AModelAliveFromBeforeSetSeed_YieldsItsKeyToTheModelBuiltAgainInItsPlace()
    {
        // Tests in one process (or a notebook): each seeds and builds its model; an earlier one may still be alive.
        Reproducible.SetSeed(5);
        long[] alone = Owner.Built().Forward();

        Reproducible.SetSeed(5);
        Owner earlier = Owner.Built();
        earlier.Forward();
        Reproducible.SetSeed(5);
        Owner later = Owner.Built();
        CollectionAssert.AreEqual(alone, later.Forward(), "the new model draws what it draws alone, whatever came before");
        long[] fromEarlier = earlier.Forward();
        Assert.AreEqual(0, fromEarlier.Intersect(alone).Count(), "the earlier model, used again, has a stream of its own");
        Assert.HasCount(2, RngSnapshot.FromBytes(Reproducible.Capture().ToBytes()).Data.Streams);
        GC.KeepAlive(earlier);
    }
}
