using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.State;

namespace ReproducibleBlock.Tests;

/// <summary>
/// CUDA behaviour through a fake of <see cref="ICudaDevices"/> (the CI machine has no GPU). The real
/// implementation over libtorch_cuda's exports is exercised by the demo's --check run on a GPU machine.
/// </summary>
[TestClass]
public sealed class CudaTests
{
    private static (BlockRuntime Runtime, FakeCudaGenerators Cuda, List<string> Warnings) Create(int devices, bool exact)
    {
        var cuda = new FakeCudaGenerators(devices, exact);
        var runtime = new BlockRuntime(cuda.Factory);
        var warnings = new List<string>();
        runtime.WarningHandler = warnings.Add;
        return (runtime, cuda, warnings);
    }

    private static void AssertAllDevices(FakeCudaGenerators cuda, CudaGeneratorState expected)
    {
        for (int device = 0; device < cuda.DeviceCount; device++)
            Assert.AreEqual(expected, cuda.Peek(device), $"device {device}");
    }

    [TestMethod]
    public void SetSeed_SeedsEveryDevice()
    {
        var (runtime, cuda, _) = Create(devices: 3, exact: true);
        runtime.SetSeed(42, BlockDerivation.Keyed);
        AssertAllDevices(cuda, new CudaGeneratorState(42, 0));
    }

    [TestMethod]
    public void KeyedBlock_SetsItsOwnSeedWithOffsetZeroOnEveryDevice()
    {
        var (runtime, cuda, _) = Create(devices: 2, exact: true);
        runtime.SetSeed(42, BlockDerivation.Keyed);
        cuda.Draw(0, 40);
        CudaGeneratorState first, second, other;
        using (runtime.Enter(7, false, false))
        {
            first = cuda.Peek(0);
            AssertAllDevices(cuda, first);
            cuda.Draw(0, 400);
        }
        using (runtime.Enter(7, false, false))
            second = cuda.Peek(1);
        using (runtime.Enter(8, false, false))
            other = cuda.Peek(0);

        Assert.AreEqual(0UL, first.Offset);
        Assert.AreNotEqual(42UL, first.Seed);
        Assert.AreEqual(first, second, "the same block gets the same CUDA stream");
        Assert.AreNotEqual(first.Seed, other.Seed, "another block gets another CUDA stream");
        Assert.AreEqual(KeyDerivation.CudaSeed(KeyDerivation.Child(KeyDerivation.Root(42), 7, 0)), first.Seed, "the documented derivation");
    }

    [TestMethod]
    public void ResetAndAdvanceBlocks_AllGetTheReferenceCudaStream()
    {
        var (runtime, cuda, _) = Create(devices: 2, exact: true);
        runtime.SetSeed(42, BlockDerivation.ResetAndAdvance);
        foreach (long seed in new long[] { 0, 5, 64 })
        {
            cuda.Draw(0, 12);
            using (runtime.Enter(seed, false, false))
                AssertAllDevices(cuda, new CudaGeneratorState(42, 0));
        }
    }

    [TestMethod]
    public void RestoreOnExit_PutsBackTheExactSeedAndOffset()
    {
        var (runtime, cuda, _) = Create(devices: 2, exact: true);
        runtime.SetSeed(42, BlockDerivation.Keyed);
        cuda.Draw(0, 8);
        cuda.Draw(1, 16);
        CudaGeneratorState device0 = cuda.Peek(0), device1 = cuda.Peek(1);
        using (runtime.Enter(3, restoreOnExit: true, instance: false))
        {
            cuda.Draw(0, 100);
            cuda.Draw(1, 100);
        }
        Assert.AreEqual(device0, cuda.Peek(0));
        Assert.AreEqual(device1, cuda.Peek(1));
    }

    [TestMethod]
    public void WithoutExactState_RestoreOnExitContinuesFromFreshDerivedSeeds()
    {
        var (runtime, cuda, _) = Create(devices: 2, exact: false);
        runtime.SetSeed(42, BlockDerivation.Keyed);
        ulong blockSeed = KeyDerivation.CudaSeed(KeyDerivation.Child(KeyDerivation.Root(42), 3, 0));
        var seen = new HashSet<ulong> { 42, blockSeed };
        for (int exit = 0; exit < 5; exit++)
        {
            using (runtime.Enter(3, restoreOnExit: true, instance: false))
                AssertAllDevices(cuda, new CudaGeneratorState(blockSeed, 0)); // re-seeding still gives the block its own stream
            CudaGeneratorState after = cuda.Peek(0);
            Assert.AreEqual(KeyDerivation.Continuation(KeyDerivation.Root(42), (ulong)exit), after.Seed, "parent key and exit counter");
            Assert.IsTrue(seen.Add(after.Seed), "a continuation never replays an earlier stream");
            AssertAllDevices(cuda, after);
        }

        // The counter is part of the state: SetSeed starts it again, so the run repeats.
        runtime.SetSeed(42, BlockDerivation.Keyed);
        using (runtime.Enter(3, restoreOnExit: true, instance: false)) { }
        Assert.AreEqual(KeyDerivation.Continuation(KeyDerivation.Root(42), 0), cuda.Peek(0).Seed);
    }

    [TestMethod]
    public void Snapshot_CarriesEveryDevicesSeedAndOffset()
    {
        var (runtime, cuda, _) = Create(devices: 2, exact: true);
        runtime.SetSeed(42, BlockDerivation.Keyed);
        cuda.Draw(0, 20);
        cuda.Draw(1, 36);
        byte[] bytes = new RngSnapshot(runtime.Capture()).ToBytes();
        CudaGeneratorState device0 = cuda.Peek(0), device1 = cuda.Peek(1);

        // A "new process": a fresh runtime over fresh devices.
        var (resumed, resumedCuda, warnings) = Create(devices: 2, exact: true);
        resumed.SetSeed(1, BlockDerivation.Keyed);
        resumed.Restore(RngSnapshot.FromBytes(bytes).Data);
        Assert.AreEqual(device0, resumedCuda.Peek(0));
        Assert.AreEqual(device1, resumedCuda.Peek(1));
        Assert.AreEqual(0, warnings.Count);
    }

    [TestMethod]
    public void Restore_OnAnotherDeviceCount_WarnsAndLeavesCudaAlone()
    {
        var (runtime, _, _) = Create(devices: 2, exact: true);
        runtime.SetSeed(42, BlockDerivation.Keyed);
        RngSnapshot snapshot = new(runtime.Capture());

        var (resumed, resumedCuda, warnings) = Create(devices: 1, exact: true);
        resumed.SetSeed(9, BlockDerivation.Keyed);
        resumedCuda.Draw(0, 8);
        resumed.Restore(snapshot.Data);
        Assert.AreEqual(new CudaGeneratorState(9, 8), resumedCuda.Peek(0));
        Assert.AreEqual(1, warnings.Count);
        StringAssert.Contains(warnings[0], "2 device(s)");
        StringAssert.Contains(warnings[0], "CUDA generators are left as they are");
    }

    [TestMethod]
    public void WithoutExactState_CaptureWarnsOnceThatCudaIsNotCarried()
    {
        var (runtime, _, warnings) = Create(devices: 1, exact: false);
        runtime.SetSeed(42, BlockDerivation.Keyed);
        RngSnapshot snapshot = new(runtime.Capture());
        runtime.Capture();
        Assert.AreEqual(0, snapshot.Data.Current.Cuda.Length);
        Assert.AreEqual(1, warnings.Count);
        StringAssert.Contains(warnings[0], "snapshots do not carry CUDA generator state here");
    }

    [TestMethod]
    public void WithoutCuda_NothingIsCalled()
    {
        var (runtime, cuda, warnings) = Create(devices: 0, exact: true);
        runtime.SetSeed(42, BlockDerivation.Keyed);
        using (runtime.Enter(1, restoreOnExit: true, instance: false)) { }
        runtime.Restore(runtime.Capture());
        Assert.AreEqual(0, cuda.SeedAllCalls.Count);
        Assert.AreEqual(0, warnings.Count);
    }

    [TestMethod]
    public void RestoringFrame_CarriesTheCudaStateItWillRestore_ThroughASnapshot()
    {
        var (runtime, cuda, _) = Create(devices: 2, exact: true);
        runtime.SetSeed(42, BlockDerivation.Keyed);
        cuda.Draw(0, 24);
        CudaGeneratorState before = cuda.Peek(0);
        byte[] bytes;
        using (runtime.Enter(3, restoreOnExit: true, instance: false))
        {
            cuda.Draw(0, 100);
            bytes = new RngSnapshot(runtime.Capture()).ToBytes();
        }

        var (resumed, resumedCuda, _) = Create(devices: 2, exact: true);
        resumed.SetSeed(42, BlockDerivation.Keyed);
        using (resumed.Enter(3, restoreOnExit: true, instance: false))
            resumed.Restore(RngSnapshot.FromBytes(bytes).Data);
        Assert.AreEqual(before, resumedCuda.Peek(0), "leaving the block put back what the captured run had before it");
    }

    [TestMethod]
    public void AfterRestoringFromAnotherDeviceCount_TheReferenceIsTheRootSeedOnEveryDevice()
    {
        var (runtime, _, _) = Create(devices: 1, exact: true);
        runtime.SetSeed(42, BlockDerivation.ResetAndAdvance);
        RngSnapshot snapshot = new(runtime.Capture());

        var (resumed, cuda, _) = Create(devices: 3, exact: true);
        resumed.SetSeed(9, BlockDerivation.ResetAndAdvance);
        cuda.Draw(1, 16);
        resumed.Restore(snapshot.Data);
        CollectionAssert.AreEqual(
            new[] { new CudaGeneratorState(42, 0), new CudaGeneratorState(42, 0), new CudaGeneratorState(42, 0) },
            resumed.Capture().Reference.Cuda);
    }

    [TestMethod]
    public void SeedOnly_RestoredExitCounters_ContinueWhereTheCapturedRunWas()
    {
        var (runtime, cuda, _) = Create(devices: 1, exact: false);
        runtime.SetSeed(42, BlockDerivation.Keyed);
        ulong inner;
        using (runtime.Enter(5, restoreOnExit: false, instance: false))
        {
            using (runtime.Enter(6, restoreOnExit: true, instance: false)) { }
            using (runtime.Enter(6, restoreOnExit: true, instance: false)) { }
            RngSnapshot snapshot = new(runtime.Capture());
            using (runtime.Enter(6, restoreOnExit: true, instance: false)) { }
            inner = cuda.Peek(0).Seed;
            using (runtime.Enter(7, restoreOnExit: true, instance: false)) { }
            runtime.Restore(snapshot.Data);
            using (runtime.Enter(6, restoreOnExit: true, instance: false)) { }
            Assert.AreEqual(inner, cuda.Peek(0).Seed, "the third exit under block 5 again");
        }
        Assert.AreEqual(KeyDerivation.Continuation(KeyDerivation.Child(KeyDerivation.Root(42), 5, 0), 2), inner);

        var (other, otherCuda, _) = Create(devices: 1, exact: false);
        other.SetSeed(42, BlockDerivation.Keyed);
        using (other.Enter(1, restoreOnExit: true, instance: false)) { }
        RngSnapshot atRoot = new(other.Capture());
        using (other.Enter(1, restoreOnExit: true, instance: false)) { }
        ulong second = otherCuda.Peek(0).Seed;
        other.SetSeed(42, BlockDerivation.Keyed);
        other.Restore(atRoot.Data);
        using (other.Enter(1, restoreOnExit: true, instance: false)) { }
        Assert.AreEqual(second, otherCuda.Peek(0).Seed, "the root level's counter too");
    }
}
