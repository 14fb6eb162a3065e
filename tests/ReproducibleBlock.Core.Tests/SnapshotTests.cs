using System;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.State;

namespace ReproducibleBlock.Tests;

[TestClass]
public sealed class SnapshotTests : RuntimeTest
{
    private static BlockRuntime FreshRuntime() => new(_ => NoCudaGenerators.Instance) { WarningHandler = null };

    [TestMethod]
    public void CaptureRestore_RepeatsEveryDraw()
    {
        Reproducible.SetSeed(42);
        Draws.Torch(7);
        RngSnapshot snapshot = Reproducible.Capture();
        long[] torchDraws = Draws.Torch(20), managedDraws = Draws.Managed(20);
        long[] inBlock;
        using (Reproducible.InstanceBlock(5))
            inBlock = Draws.Torch(5);

        Reproducible.Restore(snapshot);
        CollectionAssert.AreEqual(torchDraws, Draws.Torch(20));
        CollectionAssert.AreEqual(managedDraws, Draws.Managed(20));
        using (Reproducible.InstanceBlock(5))
            CollectionAssert.AreEqual(inBlock, Draws.Torch(5));
    }

    [TestMethod]
    public void Bytes_ResumeInAFreshRuntime_DrawWhatTheUninterruptedRunDraws()
    {
        Reproducible.SetSeed(42, BlockDerivation.ResetAndAdvance);
        using (Reproducible.InstanceBlock(3)) { }
        Draws.Managed(3);
        byte[] checkpoint = Reproducible.Capture().ToBytes();
        long[] expectedTorch = Draws.Torch(10), expectedManaged = Draws.Managed(10), expectedBlock;
        using (Reproducible.Block(9))
            expectedBlock = Draws.Torch(10);

        // A new process builds what was built before the checkpoint (instance block 3), then restores.
        BlockRuntime resumed = FreshRuntime();
        resumed.SetSeed(7, BlockDerivation.Keyed);
        using (resumed.Enter(3, restoreOnExit: false, instance: true)) { }
        resumed.Restore(RngSnapshot.FromBytes(checkpoint).Data);
        Assert.AreEqual(42, resumed.RootSeed);
        Assert.AreEqual(BlockDerivation.ResetAndAdvance, resumed.Derivation);
        CollectionAssert.AreEqual(expectedTorch, Draws.Torch(10));
        CollectionAssert.AreEqual(expectedManaged, Enumerable.Range(0, 10).Select(_ => resumed.Random.NextInt64()).ToArray());
        using (resumed.Enter(9, restoreOnExit: false, instance: false))
            CollectionAssert.AreEqual(expectedBlock, Draws.Torch(10));
    }

    [TestMethod]
    public void Restore_InsideTheSameBlocks_AlsoRestoresWhatTheyWillRestoreOnExit()
    {
        Reproducible.SetSeed(42);
        long[] inner, afterInner, afterOuter;
        byte[] checkpoint;
        Draws.Torch(3);
        using (Reproducible.Block(1, restoreOnExit: true))
        {
            using (Reproducible.Block(2))
            {
                Draws.Torch(4);
                checkpoint = Reproducible.Capture().ToBytes();
                inner = Draws.Torch(5);
            }
            afterInner = Draws.Torch(5);
        }
        afterOuter = Draws.Torch(5);

        // The resumed run reaches the same blocks by another way, then restores.
        Reproducible.SetSeed(42);
        Draws.Torch(100);
        using (Reproducible.Block(1, restoreOnExit: true))
        {
            using (Reproducible.Block(2))
            {
                Reproducible.Restore(RngSnapshot.FromBytes(checkpoint));
                CollectionAssert.AreEqual(inner, Draws.Torch(5));
            }
            CollectionAssert.AreEqual(afterInner, Draws.Torch(5));
        }
        CollectionAssert.AreEqual(afterOuter, Draws.Torch(5), "block 1 restored the state saved in the original run");
    }

    [TestMethod]
    public void Restore_InOtherBlocks_ThrowsAndChangesNothing()
    {
        Reproducible.SetSeed(42);
        RngSnapshot outside = Reproducible.Capture();
        RngSnapshot inside;
        using (Reproducible.Block(1))
            inside = Reproducible.Capture();

        using (Reproducible.Block(2))
        {
            byte[] before = Draws.CpuState();
            var error = Assert.ThrowsExactly<InvalidOperationException>(() => Reproducible.Restore(outside));
            StringAssert.Contains(error.Message, "outside every block");
            StringAssert.Contains(error.Message, "inside blocks 2");
            Assert.ThrowsExactly<InvalidOperationException>(() => Reproducible.Restore(inside));
            CollectionAssert.AreEqual(before, Draws.CpuState());
        }
    }

    [TestMethod]
    public void Snapshot_NamesItsRootSeedAndDerivation()
    {
        Reproducible.SetSeed(-17, BlockDerivation.ResetAndAdvance);
        RngSnapshot snapshot = RngSnapshot.FromBytes(Reproducible.Capture().ToBytes());
        Assert.AreEqual(-17, snapshot.RootSeed);
        Assert.AreEqual(BlockDerivation.ResetAndAdvance, snapshot.Derivation);
    }

    [TestMethod]
    public void Capture_BeforeSetSeed_Throws()
    {
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => FreshRuntime().Capture());
        StringAssert.Contains(error.Message, "Reproducible.SetSeed");
    }

    [TestMethod]
    public void Restore_Null_Throws() => Assert.ThrowsExactly<ArgumentNullException>(() => Reproducible.Restore(null!));

    private static byte[] SampleBytes()
    {
        Reproducible.SetSeed(42);
        using (Reproducible.Block(1, restoreOnExit: true))
        using (Reproducible.InstanceBlock(2))
            return Reproducible.Capture().ToBytes();
    }

    [TestMethod]
    public void FromBytes_EveryTruncation_IsAFormatException()
    {
        byte[] bytes = SampleBytes();
        for (int length = 0; length < bytes.Length; length++)
            Assert.ThrowsExactly<FormatException>(() => RngSnapshot.FromBytes(bytes.AsSpan(0, length)), $"length {length}");
        RngSnapshot.FromBytes(bytes); // the whole is fine
    }

    [TestMethod]
    public void FromBytes_AnyFlippedByte_IsAFormatException()
    {
        byte[] bytes = SampleBytes();
        for (int i = 0; i < bytes.Length; i++)
        {
            byte[] corrupt = (byte[])bytes.Clone();
            corrupt[i] ^= 0x10;
            Assert.ThrowsExactly<FormatException>(() => RngSnapshot.FromBytes(corrupt), $"byte {i}");
        }
    }

    [TestMethod]
    public void FromBytes_ForeignBytes_AreAFormatException()
    {
        var error = Assert.ThrowsExactly<FormatException>(() => RngSnapshot.FromBytes("{\"seed\": 42}"u8));
        StringAssert.Contains(error.Message, "not a ReproducibleBlock snapshot");
        Assert.ThrowsExactly<FormatException>(() => RngSnapshot.FromBytes(new byte[10_000]));
    }

    [TestMethod]
    public void FromBytes_AnotherVersion_SaysSo()
    {
        byte[] bytes = SampleBytes();
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), 4);
        var error = Assert.ThrowsExactly<FormatException>(() => RngSnapshot.FromBytes(bytes));
        StringAssert.Contains(error.Message, "format version 4");
        StringAssert.Contains(error.Message, "reads versions 1 to 3");
    }

    [TestMethod]
    public void FromBytes_IntactChecksumButInvalidGeneratorState_IsRejectedBeforeLibtorchSeesIt()
    {
        // Offsets from SnapshotFormat's documented layout: header 14, root seed 8, derivation 1, then the reference
        // state (4 + 5056 + 8 + 4 bytes without CUDA), then the current state's length (4) and bytes.
        byte[] bytes = SampleBytes();
        int currentCpu = 14 + 8 + 1 + (4 + CpuGeneratorState.Size + 8 + 4) + 4;
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(currentCpu + 8), 0); // left = 0: libtorch would reject it
        int end = bytes.Length - 8;
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(end), XxHash64.HashToUInt64(bytes.AsSpan(0, end)));

        var error = Assert.ThrowsExactly<FormatException>(() => RngSnapshot.FromBytes(bytes));
        StringAssert.Contains(error.Message, "'left'");
    }
}
