using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.State;
using TorchSharp;
using static TorchSharp.torch;

namespace ReproducibleBlock.Tests;

/// <summary>
/// Continuing blocks: each owner (a module) draws from a stream of its own that resumes where its previous call left
/// it, isolated from every other module and from the code around it.
/// </summary>
[TestClass]
public sealed class ContinuingBlockTests : RuntimeTest
{
    /// <summary>A module-like owner whose "forward" draws a dropout-like mask in its continuing block.</summary>
    private sealed class Owner
    {
        public long[] Forward(int n = 4)
        {
            using (Reproducible.ContinuingBlock(this))
                return Draws.Torch(n);
        }
    }

    [TestMethod]
    public void ConsecutiveCalls_DrawFreshNumbers_ThatRepeatAfterSetSeed()
    {
        List<long[]> Run()
        {
            Reproducible.SetSeed(5);
            var owner = new Owner();
            return [owner.Forward(), owner.Forward(), owner.Forward()];
        }
        List<long[]> first = Run(), again = Run();
        CollectionAssert.AreNotEqual(first[0], first[1]);
        CollectionAssert.AreNotEqual(first[1], first[2]);
        for (int call = 0; call < 3; call++)
            CollectionAssert.AreEqual(first[call], again[call], $"call {call}");
    }

    [TestMethod]
    public void AnotherModulesDraws_AndDrawsOutside_DoNotShiftAModulesStream()
    {
        List<long[]> Run(bool extraModule)
        {
            Reproducible.SetSeed(5);
            var classifier = new Owner();
            using (Reproducible.InstanceBlock(1)) WovenCode.RegisterStream(classifier); // as its woven constructor would
            Owner? extractor = null;
            if (extraModule)
            {
                extractor = new Owner();
                using (Reproducible.InstanceBlock(2)) WovenCode.RegisterStream(extractor);
            }
            var calls = new List<long[]>();
            for (int step = 0; step < 3; step++)
            {
                extractor?.Forward(50); // a dropout added to the feature extractor
                Draws.Torch(step + 1);  // and other draws outside every module
                calls.Add(classifier.Forward());
            }
            return calls;
        }
        List<long[]> without = Run(extraModule: false), with = Run(extraModule: true);
        for (int step = 0; step < 3; step++)
            CollectionAssert.AreEqual(without[step], with[step], $"step {step}");
    }

    [TestMethod]
    public void RegisteredOwners_KeepTheirStreams_WhateverOrderTheyAreCalledIn()
    {
        List<long[]> Run(bool extractorFirst)
        {
            Reproducible.SetSeed(5);
            var classifier = new Owner();
            var extractor = new Owner();
            using (Reproducible.InstanceBlock(10)) WovenCode.RegisterStream(classifier); // as a woven constructor does
            using (Reproducible.InstanceBlock(20)) WovenCode.RegisterStream(extractor);
            var calls = new List<long[]>();
            for (int step = 0; step < 3; step++)
            {
                if (extractorFirst)
                    extractor.Forward(30);
                calls.Add(classifier.Forward());
                if (!extractorFirst)
                    extractor.Forward(30);
            }
            return calls;
        }
        List<long[]> a = Run(extractorFirst: false), b = Run(extractorFirst: true);
        for (int step = 0; step < 3; step++)
            CollectionAssert.AreEqual(a[step], b[step], $"step {step}");
    }

    [TestMethod]
    public void TheEnclosingStream_ContinuesAsIfTheCallsDrewNothing()
    {
        Reproducible.SetSeed(5);
        Draws.Torch(3);
        long[] expected = Draws.Torch(4);
        ulong managedAfter = BlockRuntime.Shared.Random.State;

        Reproducible.SetSeed(5);
        var owner = new Owner();
        Draws.Torch(3);
        owner.Forward(100);
        owner.Forward(100);
        CollectionAssert.AreEqual(expected, Draws.Torch(4));
        Assert.AreEqual(managedAfter, BlockRuntime.Shared.Random.State);
    }

    [TestMethod]
    public void TwoInstances_HaveDifferentStreams()
    {
        Reproducible.SetSeed(5);
        var a = new Owner();
        var b = new Owner();
        Assert.AreEqual(0, a.Forward(8).Intersect(b.Forward(8)).Count());
    }

    [TestMethod]
    public void StreamKey_IsTheDocumentedDerivation()
    {
        // An owner registered in its constructor's block: key = XXH64(constructor block key, "RB.strm", 0); an
        // unregistered one: the n-th new stream under the block open at its first call.
        Reproducible.SetSeed(5);
        var registered = new Owner();
        using (Reproducible.InstanceBlock(10))
            WovenCode.RegisterStream(registered);
        var unregistered = new Owner();
        ulong ctorKey = StreamModelTests.ChildKey(StreamModelTests.RootKey(5), 10);
        using (Reproducible.ContinuingBlock(registered))
            Assert.AreEqual(unchecked((long)StreamModelTests.ChildKey(ctorKey, StreamRegistry.StreamSeed)), torch.initial_seed());
        using (Reproducible.Block(3))
        using (Reproducible.ContinuingBlock(unregistered))
            Assert.AreEqual(unchecked((long)StreamModelTests.ChildKey(StreamModelTests.ChildKey(StreamModelTests.RootKey(5), 3), StreamRegistry.StreamSeed)), torch.initial_seed());
        Assert.AreEqual(0x6D7274732E4252L, StreamRegistry.StreamSeed, "\"RB.strm\" as a little-endian integer");
    }

    [TestMethod]
    public void Snapshots_CarryEveryStream_AcrossAFreshRuntime()
    {
        Reproducible.SetSeed(5);
        var a = new Owner();
        var b = new Owner();
        a.Forward();
        b.Forward();
        a.Forward();
        byte[] checkpoint = Reproducible.Capture().ToBytes();
        long[] nextA = a.Forward(), nextB = b.Forward(), nextA2 = a.Forward();

        // A new run: new owners, seeded again, the checkpoint restored before their first calls.
        Reproducible.SetSeed(5);
        var a2 = new Owner();
        var b2 = new Owner();
        Reproducible.Restore(RngSnapshot.FromBytes(checkpoint));
        CollectionAssert.AreEqual(nextA, a2.Forward(), "the restored state waits for the owner with its key");
        CollectionAssert.AreEqual(nextB, b2.Forward());
        CollectionAssert.AreEqual(nextA2, a2.Forward());
    }

    [TestMethod]
    public void RestoringAnEarlierSnapshot_PutsLiveStreamsBack_AndStartsOverThoseItDidNotHave()
    {
        Reproducible.SetSeed(5);
        var a = new Owner();
        a.Forward();
        RngSnapshot snapshot = Reproducible.Capture();
        long[] nextA = a.Forward();
        var late = new Owner();
        long[] lateFirst = late.Forward();
        a.Forward();
        late.Forward();
        Reproducible.Restore(snapshot);
        CollectionAssert.AreEqual(nextA, a.Forward());
        CollectionAssert.AreEqual(lateFirst, late.Forward(), "a stream that had not started at capture starts over");
    }

    [TestMethod]
    public void CaptureInsideAContinuingBlock_IsRefused()
    {
        Reproducible.SetSeed(5);
        var owner = new Owner();
        using (Reproducible.ContinuingBlock(owner))
        {
            var refused = Assert.ThrowsExactly<InvalidOperationException>(() => Reproducible.Capture());
            StringAssert.Contains(refused.Message, "Checkpoint between steps");
        }
    }

    [TestMethod]
    public void CollectedOwners_TakeTheirStreamsWithThem()
    {
        Reproducible.SetSeed(5);
        WeakReference owner = CallOnce();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.IsFalse(owner.IsAlive);
        Assert.AreEqual(0, Reproducible.Capture().Data.Streams.Count, "the stream went with its owner");

        [MethodImpl(MethodImplOptions.NoInlining)]
        static WeakReference CallOnce()
        {
            var owner = new Owner();
            owner.Forward();
            return new WeakReference(owner);
        }
    }

    [TestMethod]
    public void Dropout_InAContinuingBlock_DrawsAFreshMaskEachCall()
    {
        Reproducible.SetSeed(5);
        using var dropout = nn.Dropout(0.5);
        dropout.train();
        Tensor Mask()
        {
            using (Reproducible.ContinuingBlock(dropout))
                return dropout.forward(torch.ones(64)).ne(0);
        }
        using Tensor first = Mask(), second = Mask();
        CollectionAssert.AreNotEqual(first.data<bool>().ToArray(), second.data<bool>().ToArray(), "consecutive masks differ");
    }

    [TestMethod]
    public void Cuda_ExactStreamsContinue_SeedOnlyStreamsGetAFreshSeedPerCall()
    {
        foreach (bool exact in new[] { true, false })
        {
            var cuda = new FakeCudaGenerators(devices: 2, exact);
            var runtime = new BlockRuntime(cuda.Factory) { WarningHandler = null };
            runtime.SetSeed(5, BlockDerivation.Keyed);
            var owner = new object();
            cuda.Draw(0, 8);
            CudaGeneratorState outside = cuda.Peek(0);
            CudaGeneratorState firstCall, secondCall;
            using (runtime.EnterStream(owner))
            {
                firstCall = cuda.Peek(0);
                cuda.Draw(0, 40);
            }
            if (exact)
                Assert.AreEqual(outside, cuda.Peek(0), "the enclosing CUDA stream is put back");
            using (runtime.EnterStream(owner))
                secondCall = cuda.Peek(0);
            if (exact)
            {
                Assert.AreEqual(firstCall with { Offset = 40 }, secondCall, "the second call continues the Philox stream");
            }
            else
            {
                Assert.AreNotEqual(firstCall.Seed, secondCall.Seed, "a fresh seed per call");
                Assert.AreEqual(0UL, secondCall.Offset);
            }
        }
    }

    [TestMethod]
    public void SnapshotOperations_InsideAContinuingBlock_AreRefusedByName()
    {
        Reproducible.SetSeed(5);
        RngSnapshot snapshot = Reproducible.Capture();
        var owner = new Owner();
        using (Reproducible.ContinuingBlock(owner))
        {
            StringAssert.StartsWith(Assert.ThrowsExactly<InvalidOperationException>(() => Reproducible.Restore(snapshot)).Message, "Restore cannot run inside a continuing block");
            StringAssert.StartsWith(Assert.ThrowsExactly<InvalidOperationException>(() => Reproducible.Resume(snapshot)).Message, "Resume cannot run inside a continuing block");
            StringAssert.StartsWith(Assert.ThrowsExactly<InvalidOperationException>(() => Reproducible.Capture()).Message, "Capture cannot run inside a continuing block");
        }
    }

    [TestMethod]
    public void ContinuingBlock_BeforeSetSeed_SaysWhatToCall()
    {
        var runtime = new BlockRuntime(_ => NoCudaGenerators.Instance);
        var refused = Assert.ThrowsExactly<InvalidOperationException>(() => runtime.EnterStream(new Owner()));
        StringAssert.Contains(refused.Message, "The continuing block of a Owner was entered before any seed was set");
        runtime.RegisterStream(new Owner()); // nothing to register before a seed: no error either
    }

    [TestMethod]
    public void Registering_Twice_KeepsTheFirstKey()
    {
        Reproducible.SetSeed(5);
        var owner = new Owner();
        using (Reproducible.InstanceBlock(10)) WovenCode.RegisterStream(owner);
        using (Reproducible.InstanceBlock(11)) WovenCode.RegisterStream(owner);
        ulong first = StreamModelTests.ChildKey(StreamModelTests.ChildKey(StreamModelTests.RootKey(5), 10), StreamRegistry.StreamSeed);
        using (Reproducible.ContinuingBlock(owner))
            Assert.AreEqual(unchecked((long)first), torch.initial_seed());
    }

    [TestMethod]
    public void ContinuingBlocks_FromAnotherFlow_RunPassively_AndADrawIsRefusedByName()
    {
        Reproducible.SetSeed(5);
        var owner = new Owner();
        using (Reproducible.Block(1))
        {
            byte[] before = Draws.CpuState();
            Exception? seen = null;
            var thread = new System.Threading.Thread(() =>
            {
                try
                {
                    owner.Forward();
                }
                catch (Exception e)
                {
                    seen = e;
                }
            });
            using (System.Threading.ExecutionContext.SuppressFlow())
                thread.Start();
            thread.Join();
            Assert.IsInstanceOfType<InvalidOperationException>(seen);
            StringAssert.StartsWith(seen.Message, "The continuing block of a Owner drew random numbers from torch's global generator on a thread or task that does not own the open blocks");
            StringAssert.Contains(seen.Message, "draw on one thread, or give each thread its own process");
            Assert.IsNull(Find(owner), "a passive call claims no stream");
            CollectionAssert.AreNotEqual(before, Draws.CpuState(), "it drew from the global generator, which is what it is refused for");
        }
    }

    private static ContinuingStream? Find(object owner) => BlockRuntime.Shared.FindStreamForTests(owner);

    [TestMethod]
    public void NestedStreams_AreNumberedUnderTheirEnclosingBlock()
    {
        Reproducible.SetSeed(5);
        var a = new Owner();
        var b = new Owner();
        ulong root = StreamModelTests.RootKey(5);
        using (Reproducible.ContinuingBlock(a))
        {
            Assert.AreEqual(unchecked((long)StreamModelTests.ChildKey(root, StreamRegistry.StreamSeed, 0)), torch.initial_seed());
            using (Reproducible.ContinuingBlock(b))
            {
                ulong aKey = StreamModelTests.ChildKey(root, StreamRegistry.StreamSeed, 0);
                Assert.AreEqual(unchecked((long)StreamModelTests.ChildKey(aKey, StreamRegistry.StreamSeed, 0)), torch.initial_seed(), "the first new stream under a's");
            }
        }
        var c = new Owner();
        using (Reproducible.ContinuingBlock(c))
            Assert.AreEqual(unchecked((long)StreamModelTests.ChildKey(root, StreamRegistry.StreamSeed, 1)), torch.initial_seed(), "the second under the root");
    }
}
