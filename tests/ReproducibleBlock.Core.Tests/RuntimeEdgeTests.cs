using System;
using System.IO;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.State;

namespace ReproducibleBlock.Tests;

/// <summary>Edges of the runtime and its state model that the behaviour tests do not reach on their own.</summary>
[TestClass]
public sealed class RuntimeEdgeTests : RuntimeTest
{
    [TestMethod]
    public void DisposingAScopeWhoseBlockIsGone_LeavesTheOpenBlockAlone()
    {
        Reproducible.SetSeed(1);
        BlockScope forgotten = Reproducible.Block(3);
        BlockRuntime.Shared.AbandonOpenBlocks(); // the test clean-up path: the block is forgotten, not left
        using (Reproducible.Block(4))
        {
            forgotten.Dispose();
            Assert.AreEqual(1, Reproducible.Capture().Data.Frames.Count, "block 4 is still open");
            Assert.AreEqual(4L, Reproducible.Capture().Data.Frames[0].BlockSeed);
        }
    }

    [TestMethod]
    public void DefaultWarningHandler_WritesToStandardError()
    {
        TextWriter original = Console.Error;
        var captured = new StringWriter();
        Console.SetError(captured);
        try
        {
            BlockRuntime.DefaultWarningHandler("the device is on fire");
        }
        finally
        {
            Console.SetError(original);
        }
        Assert.AreEqual("ReproducibleBlock warning: the device is on fire" + Environment.NewLine, captured.ToString());
    }

    [TestMethod]
    public void Shuffler_LongerThanAnArray_IsRefused()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new BlockShuffler((long)Array.MaxLength + 1));
        Assert.IsFalse(new BlockShuffler(0).GetEnumerator().MoveNext(), "an empty dataset has an empty order");
    }

    [TestMethod]
    public void ResetAndAdvance_AcceptsSeedsUpTo2To32Minus1_AndSaysWhyBeyond()
    {
        var derivation = new ResetAndAdvanceDerivation(1, new RngState(CpuGeneratorState.Size, 0));
        derivation.CheckBlockSeed(0);
        derivation.CheckBlockSeed(uint.MaxValue);
        var beyond = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => derivation.CheckBlockSeed((long)uint.MaxValue + 1));
        StringAssert.Contains(beyond.Message, "skipping 4,294,967,296 draws would take hours");
        StringAssert.Contains(beyond.Message, "give woven blocks explicit seeds");
        var negative = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => derivation.CheckBlockSeed(-1));
        StringAssert.Contains(negative.Message, "it cannot be negative");
    }

    [TestMethod]
    public void Derive_IntoAWrongSizedBuffer_Throws()
    {
        var refused = Assert.ThrowsExactly<ArgumentException>(() => CpuGeneratorState.Derive(1, new byte[CpuGeneratorState.Size - 1]));
        StringAssert.Contains(refused.Message, "A CPU generator state is 5056 bytes.");
    }

    [TestMethod]
    public void Derive_IntoADirtyBuffer_WritesEveryByte()
    {
        byte[] clean = new byte[CpuGeneratorState.Size], dirty = new byte[CpuGeneratorState.Size];
        Array.Fill(dirty, (byte)0xFF);
        CpuGeneratorState.Derive(77, clean);
        CpuGeneratorState.Derive(77, dirty);
        CollectionAssert.AreEqual(clean, dirty);
        Assert.IsNull(CpuGeneratorState.Validate(dirty));
    }

    [TestMethod]
    public void CpuGenerator_RefusesStatesLibtorchWouldAbortOn_SayingWhy()
    {
        var cpu = new TorchCpuGenerator();
        byte[] before = Draws.CpuState();
        var size = Assert.ThrowsExactly<ArgumentException>(() => cpu.Write(new byte[100]));
        StringAssert.Contains(size.Message, "This libtorch's CPU generator state is 5056 bytes; the given one is 100");
        byte[] unseeded = new byte[CpuGeneratorState.Size];
        CpuGeneratorState.Derive(5, unseeded);
        unseeded[CpuGeneratorState.SeededOffset] = 0;
        var invalid = Assert.ThrowsExactly<ArgumentException>(() => cpu.Write(unseeded));
        StringAssert.Contains(invalid.Message, "Invalid CPU generator state: the CPU generator state is not marked as seeded");
        CollectionAssert.AreEqual(before, Draws.CpuState());
    }
}
