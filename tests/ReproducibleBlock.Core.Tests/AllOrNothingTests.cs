using System;
using System.Collections.Generic;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.State;

namespace ReproducibleBlock.Tests;

/// <summary>
/// Entering a block and seeding either happen whole or leave everything as it was: generators, instance counters,
/// root seed and derivation. CUDA failures are made with the fake (a lost device, an exclusive-process GPU).
/// </summary>
[TestClass]
public sealed class AllOrNothingTests : RuntimeTest
{
    private static (BlockRuntime Runtime, FakeCudaGenerators Cuda, List<string> Warnings) Create(int devices, bool exact)
    {
        var cuda = new FakeCudaGenerators(devices, exact);
        var warnings = new List<string>();
        var runtime = new BlockRuntime(cuda.Factory) { WarningHandler = warnings.Add };
        return (runtime, cuda, warnings);
    }

    private static Action<string> FailOnce(params string[] operations)
    {
        int failures = 1;
        return op =>
        {
            if (Array.IndexOf(operations, op) >= 0 && failures-- > 0)
                throw new InvalidOperationException($"CUDA error: an illegal memory access was encountered ({op})");
        };
    }

    [TestMethod]
    [DataRow(false, false)]
    [DataRow(true, false)]
    [DataRow(false, true)]
    [DataRow(true, true)]
    public void FailedEntry_LeavesGeneratorsAndCountersAsTheyWere(bool restoreOnExit, bool exact)
    {
        var (runtime, cuda, _) = Create(devices: 2, exact);
        runtime.SetSeed(42, BlockDerivation.Keyed);
        Draws.Torch(3);
        byte[] cpuBefore = Draws.CpuState();
        ulong managedBefore = runtime.Random.State;
        CudaGeneratorState deviceBefore = cuda.Peek(0);

        cuda.BeforeCall = FailOnce("SeedAll");
        Assert.ThrowsExactly<InvalidOperationException>(() => runtime.Enter(300, restoreOnExit, instance: true));

        CollectionAssert.AreEqual(cpuBefore, Draws.CpuState(), "the CPU generator moved");
        Assert.AreEqual(managedBefore, runtime.Random.State, "the managed generator moved");
        Assert.AreEqual(deviceBefore, cuda.Peek(0), "CUDA moved");
        long[] retried;
        using (runtime.Enter(300, restoreOnExit, instance: true))
            retried = Draws.Torch(4);

        runtime.SetSeed(42, BlockDerivation.Keyed);
        long[] clean;
        using (runtime.Enter(300, restoreOnExit, instance: true))
            clean = Draws.Torch(4);
        CollectionAssert.AreEqual(clean, retried, "the retried instance block is the first instance, at the top level");
    }

    [TestMethod]
    public void FailedResetAndAdvanceEntry_LeavesTheGeneratorsAsTheyWere()
    {
        var (runtime, cuda, _) = Create(devices: 1, exact: true);
        runtime.SetSeed(42, BlockDerivation.ResetAndAdvance);
        Draws.Torch(3);
        byte[] cpuBefore = Draws.CpuState();
        ulong managedBefore = runtime.Random.State;
        cuda.BeforeCall = FailOnce("SeedAll", "Write");
        Assert.ThrowsExactly<InvalidOperationException>(() => runtime.Enter(64, false, instance: true));
        CollectionAssert.AreEqual(cpuBefore, Draws.CpuState());
        Assert.AreEqual(managedBefore, runtime.Random.State);
        SnapshotData after = runtime.Capture();
        Assert.AreEqual(0, after.Frames.Count, "no block was left open");
        Assert.IsFalse(after.Root.InstanceCounts.ContainsKey(64), "the failed instance was not counted");
    }

    [TestMethod]
    [DataRow(true)]
    [DataRow(false)]
    public void FailedSetSeed_KeepsThePreviousSeedingWhole(bool exact)
    {
        var (runtime, cuda, _) = Create(devices: 2, exact);
        runtime.SetSeed(1, BlockDerivation.Keyed);
        using (runtime.Enter(5, false, instance: true)) { }
        Draws.Torch(2);
        byte[] cpuBefore = Draws.CpuState();
        ulong managedBefore = runtime.Random.State;
        CudaGeneratorState deviceBefore = cuda.Peek(1);

        cuda.BeforeCall = FailOnce("SeedAll");
        Assert.ThrowsExactly<InvalidOperationException>(() => runtime.SetSeed(2, BlockDerivation.ResetAndAdvance));

        CollectionAssert.AreEqual(cpuBefore, Draws.CpuState(), "the CPU generator was reseeded");
        Assert.AreEqual(managedBefore, runtime.Random.State, "the managed generator was reseeded");
        Assert.AreEqual(deviceBefore, cuda.Peek(1), "CUDA was reseeded");
        SnapshotData after = runtime.Capture();
        Assert.AreEqual(1L, after.RootSeed);
        Assert.AreEqual(BlockDerivation.Keyed, after.Derivation);
        Assert.AreEqual(1L, after.Root.InstanceCounts[5], "the instance counters were reset");
    }

    [TestMethod]
    public void FailedFirstSetSeed_LeavesTheRuntimeUnseeded()
    {
        var (runtime, cuda, _) = Create(devices: 1, exact: true);
        byte[] cpuBefore = Draws.CpuState();
        cuda.BeforeCall = FailOnce("SeedAll");
        Assert.ThrowsExactly<InvalidOperationException>(() => runtime.SetSeed(2, BlockDerivation.Keyed));
        Assert.IsFalse(runtime.IsSeeded);
        CollectionAssert.AreEqual(cpuBefore, Draws.CpuState());
        runtime.SetSeed(2, BlockDerivation.Keyed); // the device recovered: seeding works
        Assert.IsTrue(runtime.IsSeeded);
    }

    [TestMethod]
    public void CudaDetectionThatThrows_FallsBackToCpuOnly_WithOneWarning()
    {
        // An exclusive-process GPU taken by another process, or one out of memory, fails CUDA's initialisation.
        var warnings = new List<string>();
        var runtime = new BlockRuntime(_ => throw new InvalidOperationException("CUDA error: all CUDA-capable devices are busy or unavailable"))
        {
            WarningHandler = warnings.Add,
        };
        runtime.SetSeed(42, BlockDerivation.Keyed);
        Assert.IsTrue(runtime.IsSeeded);
        long[] inside;
        using (runtime.Enter(64, restoreOnExit: true, instance: false))
            inside = Draws.Torch(3);
        runtime.SetSeed(43, BlockDerivation.Keyed);
        runtime.Restore(runtime.Capture());

        Assert.AreEqual(1, warnings.Count, string.Join("\n", warnings));
        StringAssert.Contains(warnings[0], "all CUDA-capable devices are busy or unavailable");
        StringAssert.Contains(warnings[0], "CPU");
        StringAssert.Contains(warnings[0], "exclusive mode");
        runtime.SetSeed(42, BlockDerivation.Keyed);
        using (runtime.Enter(64, false, false))
            CollectionAssert.AreEqual(inside, Draws.Torch(3), "blocks work as without CUDA");
    }

    [TestMethod]
    public void ResetAndAdvance_AfterRestoringASnapshotFromAnotherDeviceCount_ResetsCudaToTheRootSeed()
    {
        var (captured, _, _) = Create(devices: 1, exact: true);
        captured.SetSeed(42, BlockDerivation.ResetAndAdvance);
        byte[] bytes = new RngSnapshot(captured.Capture()).ToBytes();

        var (resumed, cuda, warnings) = Create(devices: 2, exact: true);
        resumed.SetSeed(7, BlockDerivation.ResetAndAdvance);
        cuda.Draw(0, 40);
        resumed.Restore(RngSnapshot.FromBytes(bytes).Data);
        Assert.AreEqual(1, warnings.Count, "the device count differs");
        cuda.Draw(0, 8);
        cuda.Draw(1, 8);
        using (resumed.Enter(64, false, false))
        {
            // The reference every ResetAndAdvance block resets CUDA to is (root seed, offset 0) on every device.
            Assert.AreEqual(new CudaGeneratorState(42, 0), cuda.Peek(0));
            Assert.AreEqual(new CudaGeneratorState(42, 0), cuda.Peek(1));
        }
    }
    [TestMethod]
    public void SetSeed_FailingAfterTheGeneratorsWereSeeded_PutsThemAllBack()
    {
        var (runtime, cuda, _) = Create(devices: 2, exact: true);
        runtime.SetSeed(1, BlockDerivation.Keyed);
        Draws.Torch(2);
        cuda.Draw(0, 12);
        byte[] cpuBefore = Draws.CpuState();
        ulong managedBefore = runtime.Random.State;
        CudaGeneratorState deviceBefore = cuda.Peek(0);

        // Reads 1-2 save the state before seeding; read 3 is the reference, after every generator was seeded.
        int reads = 0;
        cuda.BeforeCall = op =>
        {
            if (op == "Read" && ++reads == 3)
                throw new InvalidOperationException("CUDA error: unspecified launch failure");
        };
        Assert.ThrowsExactly<InvalidOperationException>(() => runtime.SetSeed(2, BlockDerivation.Keyed));
        cuda.BeforeCall = null;

        CollectionAssert.AreEqual(cpuBefore, Draws.CpuState());
        Assert.AreEqual(managedBefore, runtime.Random.State);
        Assert.AreEqual(deviceBefore, cuda.Peek(0));
        Assert.AreEqual(1L, runtime.Capture().RootSeed);
    }

    [TestMethod]
    public void EntryFailingOnTheSecondDevice_RestoringBlock_PutsTheFirstBack()
    {
        var (runtime, cuda, _) = Create(devices: 2, exact: true);
        runtime.SetSeed(42, BlockDerivation.Keyed);
        cuda.Draw(0, 8);
        CudaGeneratorState device0 = cuda.Peek(0), device1 = cuda.Peek(1);
        cuda.FailSeedAllAfter = 1;
        Assert.ThrowsExactly<InvalidOperationException>(() => runtime.Enter(5, restoreOnExit: true, instance: false));
        Assert.AreEqual(device0, cuda.Peek(0), "the state read for restoreOnExit was written back");
        Assert.AreEqual(device1, cuda.Peek(1));
    }

    [TestMethod]
    public void EntryFailingOnTheSecondDevice_PlainBlock_LeavesTheFirstAtTheBlocksSeed()
    {
        // Documented: without restoreOnExit nothing was read on entry, so devices before the failing one keep the
        // block's seed; the CPU and managed generators and the bookkeeping are untouched.
        var (runtime, cuda, _) = Create(devices: 2, exact: true);
        runtime.SetSeed(42, BlockDerivation.Keyed);
        byte[] cpuBefore = Draws.CpuState();
        CudaGeneratorState device1 = cuda.Peek(1);
        cuda.FailSeedAllAfter = 1;
        Assert.ThrowsExactly<InvalidOperationException>(() => runtime.Enter(5, restoreOnExit: false, instance: false));
        Assert.AreEqual(new CudaGeneratorState(KeyDerivation.CudaSeed(KeyDerivation.Child(KeyDerivation.Root(42), 5, 0)), 0), cuda.Peek(0));
        Assert.AreEqual(device1, cuda.Peek(1));
        CollectionAssert.AreEqual(cpuBefore, Draws.CpuState());
        Assert.AreEqual(0, runtime.Capture().Frames.Count);
    }

    [TestMethod]
    public void SetSeed_UndefinedDerivation_ThrowsBeforeAnythingMoves()
    {
        var (runtime, _, _) = Create(devices: 0, exact: true);
        runtime.SetSeed(1, BlockDerivation.Keyed);
        byte[] cpuBefore = Draws.CpuState();
        ulong managedBefore = runtime.Random.State;
        var refused = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => runtime.SetSeed(2, (BlockDerivation)7));
        StringAssert.Contains(refused.Message, "Use BlockDerivation.Keyed or BlockDerivation.ResetAndAdvance");
        CollectionAssert.AreEqual(cpuBefore, Draws.CpuState());
        Assert.AreEqual(managedBefore, runtime.Random.State);
        Assert.AreEqual(1L, runtime.Capture().RootSeed);
    }

    [TestMethod]
    public void RealDetection_WithoutCuda_IsSilent()
    {
        var warnings = new List<string>();
        var runtime = new BlockRuntime(cudaFactory: null) { WarningHandler = warnings.Add };
        runtime.SetSeed(42, BlockDerivation.Keyed);
        using (runtime.Enter(1, restoreOnExit: true, instance: false)) { }
        runtime.Capture();
        Assert.AreEqual(0, warnings.Count, string.Join("\n", warnings));
    }

    [TestMethod]
    public void SeedOnlyExitFailing_MovesNothing_AndTheRetryContinuesWithTheSameSeed()
    {
        var (runtime, cuda, _) = Create(devices: 2, exact: false);
        runtime.SetSeed(42, BlockDerivation.Keyed);
        BlockScope scope = runtime.Enter(3, restoreOnExit: true, instance: false);
        Draws.Torch(5);
        byte[] cpuInside = Draws.CpuState();
        cuda.BeforeCall = FailOnce("SeedAll");
        Assert.ThrowsExactly<InvalidOperationException>(scope.Dispose);
        CollectionAssert.AreEqual(cpuInside, Draws.CpuState(), "the CPU generator was restored although the exit failed");
        Assert.AreEqual(1, runtime.Capture().Frames.Count, "the block is still open");

        scope.Dispose();
        Assert.AreEqual(KeyDerivation.Continuation(KeyDerivation.Root(42), 0), cuda.Peek(0).Seed, "the failed exit was not counted");
        Assert.AreEqual(0, runtime.Capture().Frames.Count);
    }

    [TestMethod]
    public void RestoreFailingOnTheSecondDevice_PutsBackWhatItHadWritten()
    {
        var (runtime, cuda, _) = Create(devices: 2, exact: true);
        runtime.SetSeed(42, BlockDerivation.Keyed);
        cuda.Draw(0, 40);
        cuda.Draw(1, 40);
        RngSnapshot snapshot = new(runtime.Capture());
        cuda.Draw(0, 8);
        Draws.Torch(3);
        byte[] cpuBefore = Draws.CpuState();
        CudaGeneratorState device0 = cuda.Peek(0), device1 = cuda.Peek(1);

        int writes = 0;
        cuda.BeforeCall = op =>
        {
            if (op == "Write" && ++writes == 2)
                throw new InvalidOperationException("CUDA error: device 1 was lost");
        };
        Assert.ThrowsExactly<InvalidOperationException>(() => runtime.Restore(snapshot.Data));
        cuda.BeforeCall = null;
        Assert.AreEqual(device0, cuda.Peek(0), "device 0, already restored, was put back");
        Assert.AreEqual(device1, cuda.Peek(1));
        CollectionAssert.AreEqual(cpuBefore, Draws.CpuState());
    }
}
