using System;
using System.Buffers.Binary;
using System.IO.Hashing;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.State;

namespace ReproducibleBlock.Tests;

/// <summary>
/// The CUDA streams, pinned through the fake (the CI machine has no GPU): which Philox seed and offset each block
/// gives every device. Each value is both derived here from the documented formulas and pinned as recorded from 0.1.0.
/// </summary>
[TestClass]
public sealed class PinnedCudaStreamTests
{
    private static (BlockRuntime Runtime, FakeCudaGenerators Cuda) Create(bool exact, BlockDerivation derivation = BlockDerivation.Keyed)
    {
        var cuda = new FakeCudaGenerators(devices: 2, exact);
        var runtime = new BlockRuntime(cuda.Factory) { WarningHandler = null };
        runtime.SetSeed(42, derivation);
        return (runtime, cuda);
    }

    /// <summary>The key of a block path from the root, by the documented formulas (<see cref="StreamModelTests"/>).</summary>
    private static ulong Key(long rootSeed, params (long Seed, long Ordinal)[] path)
    {
        ulong key = StreamModelTests.RootKey(rootSeed);
        foreach ((long seed, long ordinal) in path)
            key = StreamModelTests.ChildKey(key, seed, ordinal);
        return key;
    }

    /// <summary>CUDA seed = SplitMix64 finalizer(key XOR "cuda\0\0\0\0").</summary>
    private static ulong CudaSeed(ulong key) => StreamModelTests.Mix(key ^ 0x0000000061647563);

    private static void AssertDevices(FakeCudaGenerators cuda, ulong seed, ulong offset, ulong pinnedSeed)
    {
        Assert.AreEqual(pinnedSeed, seed, "the derived seed moved from its pinned value");
        for (int device = 0; device < cuda.DeviceCount; device++)
            Assert.AreEqual(new CudaGeneratorState(pinnedSeed, offset), cuda.Peek(device), $"device {device}");
    }

    [TestMethod]
    public void KeyedBlocks_SeedEveryDeviceFromTheirKey()
    {
        var (runtime, cuda) = Create(exact: true);
        AssertDevices(cuda, 42, 0, pinnedSeed: 42);
        using (runtime.Enter(64, false, false))
            AssertDevices(cuda, CudaSeed(Key(42, (64, 0))), 0, pinnedSeed: 16733338988751000567);
        using (runtime.Enter(1, false, false))
        using (runtime.Enter(9, false, false))
            AssertDevices(cuda, CudaSeed(Key(42, (1, 0), (9, 0))), 0, pinnedSeed: 16447945948501090873);
        using (runtime.Enter(300, false, true)) { }
        using (runtime.Enter(300, false, true))
            AssertDevices(cuda, CudaSeed(Key(42, (300, 1))), 0, pinnedSeed: 16050513237886512597);
        using (runtime.Enter(long.MinValue, false, false))
            AssertDevices(cuda, CudaSeed(Key(42, (long.MinValue, 0))), 0, pinnedSeed: 16189995447721598884);
    }

    [TestMethod]
    public void ExactRestoreOnExit_PutsBackTheSeedAndOffsetItFound()
    {
        var (runtime, cuda) = Create(exact: true);
        cuda.Draw(0, 40);
        cuda.Draw(1, 8);
        using (runtime.Enter(64, true, false))
        {
            cuda.Draw(0, 400);
            cuda.Draw(1, 400);
        }
        Assert.AreEqual(new CudaGeneratorState(42, 40), cuda.Peek(0));
        Assert.AreEqual(new CudaGeneratorState(42, 8), cuda.Peek(1));
    }

    [TestMethod]
    public void SeedOnlyRestoreOnExit_ContinuesFromTheDocumentedContinuationSeeds()
    {
        // continuation seed = XXH64(parent key ‖ exit counter, seed "RB.cont\0"), counted per parent.
        static ulong Continuation(ulong parent, ulong exits)
        {
            byte[] input = new byte[16];
            BinaryPrimitives.WriteUInt64LittleEndian(input, parent);
            BinaryPrimitives.WriteUInt64LittleEndian(input.AsSpan(8), exits);
            return XxHash64.HashToUInt64(input, seed: 0x00746E6F632E4252);
        }
        var (runtime, cuda) = Create(exact: false);
        using (runtime.Enter(64, true, false)) { }
        AssertDevices(cuda, Continuation(Key(42), 0), 0, pinnedSeed: 17611038484821139066);
        using (runtime.Enter(64, true, false)) { }
        AssertDevices(cuda, Continuation(Key(42), 1), 0, pinnedSeed: 3734699873556308070);
        using (runtime.Enter(5, false, false))
        {
            using (runtime.Enter(6, true, false)) { }
            AssertDevices(cuda, Continuation(Key(42, (5, 0)), 0), 0, pinnedSeed: 5736862767174348003);
        }
    }

    [TestMethod]
    [DataRow(true)]
    [DataRow(false)]
    public void ResetAndAdvanceBlocks_AllResetCudaToTheRootSeed(bool exact)
    {
        var (runtime, cuda) = Create(exact, BlockDerivation.ResetAndAdvance);
        cuda.Draw(0, 40);
        using (runtime.Enter(64, false, false))
            AssertDevices(cuda, 42, 0, pinnedSeed: 42);
        using (runtime.Enter(3, false, false))
        using (runtime.Enter(5, false, false))
            AssertDevices(cuda, 42, 0, pinnedSeed: 42);
    }
}
