using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using CsCheck;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.Native;
using ReproducibleBlock.State;
using TorchSharp;

namespace ReproducibleBlock.Tests;

/// <summary>
/// The CPU generator's state read and written in the generator object (<see cref="CpuGeneratorMemory"/>) against
/// TorchSharp's <c>get_state</c> and <c>set_state</c> on the real libtorch: the same bytes read, and after a write the
/// same draws, bit for bit. On a platform where the memory path is not verified, these check that the tensor path is the
/// one in use.
/// </summary>
[TestClass]
public sealed class CpuGeneratorMemoryTests
{
    private const int NormalXOffset = 5016, NormalYOffset = 5024, NormalRhoOffset = 5032, FloatValueOffset = 5048;

    private static readonly TorchCpuGenerator Cpu = new();

    /// <summary>
    /// Any state <see cref="CpuGeneratorState.Validate"/> accepts: any seed, left in 1..624 with next = 625 - left (as
    /// between two twists) or, with left = 1, any next in 0..624; any 32-bit words, each cache valid or not with any
    /// value, and the fields set_state ignores (normal_x, normal_rho, an invalid cache's value, padding) not zero.
    /// </summary>
    private static readonly Gen<byte[]> ValidStates = Gen.Select(
        Gen.Select(Gen.ULong, Gen.Int[1, CpuGeneratorState.WordCount], Gen.Int[0, CpuGeneratorState.WordCount], Gen.UInt.Array[CpuGeneratorState.WordCount]),
        Gen.Select(Gen.Bool, Gen.Float, Gen.Bool, Gen.Double),
        Gen.Select(Gen.Double, Gen.Double, Gen.Byte, Gen.Byte),
        (engine, caches, ignored) => State(engine.Item1, engine.Item2, Next(engine.Item2, engine.Item3), engine.Item4, caches, ignored));

    private static int Next(int left, int anyNext) => left == 1 ? anyNext : CpuGeneratorState.WordCount + 1 - left;

    /// <summary>Valid states whose ignored fields are zero: every draw after them is the generator's own.</summary>
    private static readonly Gen<byte[]> DrawableStates =
        from left in Gen.Int[1, CpuGeneratorState.WordCount]
        from next in Gen.Int[0, CpuGeneratorState.WordCount]
        from seed in Gen.ULong
        from words in Gen.UInt.Array[CpuGeneratorState.WordCount]
        from caches in Gen.Select(Gen.Bool, Gen.Float, Gen.Bool, Gen.Double)
        select State(seed, left, Next(left, next), words, caches, (0, 0, 0, 0));

    private static byte[] State(ulong seed, int left, int next, uint[] words, (bool, float, bool, double) caches, (double, double, byte, byte) ignored)
    {
        byte[] state = new byte[CpuGeneratorState.Size];
        BinaryPrimitives.WriteUInt64LittleEndian(state.AsSpan(CpuGeneratorState.InitialSeedOffset), seed);
        BinaryPrimitives.WriteInt32LittleEndian(state.AsSpan(CpuGeneratorState.LeftOffset), left);
        BinaryPrimitives.WriteInt32LittleEndian(state.AsSpan(CpuGeneratorState.SeededOffset), 1);
        BinaryPrimitives.WriteUInt64LittleEndian(state.AsSpan(CpuGeneratorState.NextOffset), (ulong)next);
        for (int i = 0; i < words.Length; i++)
            BinaryPrimitives.WriteUInt64LittleEndian(state.AsSpan(CpuGeneratorState.WordsOffset + 8 * i), words[i]);
        (bool floatValid, float single, bool doubleValid, double @double) = caches;
        BinaryPrimitives.WriteSingleLittleEndian(state.AsSpan(FloatValueOffset), single);
        state[CpuGeneratorState.FloatNormalIsValidOffset] = floatValid ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteDoubleLittleEndian(state.AsSpan(NormalYOffset), @double);
        BinaryPrimitives.WriteInt32LittleEndian(state.AsSpan(CpuGeneratorState.NormalIsValidOffset), doubleValid ? 1 : 0);
        (double normalX, double normalRho, byte padding, byte tail) = ignored;
        BinaryPrimitives.WriteDoubleLittleEndian(state.AsSpan(NormalXOffset), normalX);
        BinaryPrimitives.WriteDoubleLittleEndian(state.AsSpan(NormalRhoOffset), normalRho);
        state[CpuGeneratorState.NormalIsValidOffset + 4] = padding;
        state[CpuGeneratorState.Size - 1] = tail;
        Assert.IsNull(CpuGeneratorState.Validate(state));
        return state;
    }

    private static byte[] TorchRead()
    {
        using torch.Tensor state = torch.Generator.Default.get_state();
        return state.bytes.ToArray();
    }

    private static void TorchWrite(byte[] state)
    {
        using torch.Tensor tensor = torch.tensor(state);
        torch.Generator.Default.set_state(tensor);
    }

    private static byte[] FastRead()
    {
        byte[] state = new byte[CpuGeneratorState.Size];
        Cpu.Read(state);
        return state;
    }

    /// <summary>
    /// Every kind of draw the library isolates, each of a size that takes libtorch's serial path (which reads and fills the
    /// cached normals) or its vectorised one, as raw bytes, then the state they leave.
    /// </summary>
    private static byte[] Draws()
    {
        using DisposeScope scope = torch.NewDisposeScope();
        var bytes = new List<byte>();
        void Add(torch.Tensor drawn) => bytes.AddRange(drawn.bytes.ToArray());
        Add(torch.rand([5]));
        Add(torch.randn([3]));                                   // serial: leaves a double cached
        Add(torch.randn([5], torch.float64));
        Add(torch.empty([7]).normal_(1.0, 2.0));
        Add(torch.randn([33]));                                  // vectorised
        Add(torch.empty([9]).bernoulli_(0.3));                   // scalar p
        Add(torch.bernoulli(torch.full([9], 0.6f)));             // tensor p
        Add(torch.randint(0, 1000, [6]));
        Add(torch.empty([3], torch.int64).random_(0, 1L << 40)); // two outputs each
        Add(torch.nn.functional.dropout(torch.ones(21), 0.5, training: true));
        Add(torch.randperm(12));
        bytes.AddRange(TorchRead());
        return bytes.ToArray();
    }

    private static bool MemoryPathExpected => OperatingSystem.IsLinux() && Environment.Is64BitProcess && BitConverter.IsLittleEndian;

    [TestMethod]
    public void ThisProcess_UsesTheGeneratorMemory_OnLinux_AndTheTensorsElsewhere()
    {
        if (MemoryPathExpected)
        {
            Assert.AreEqual(CpuStateAccess.GeneratorMemory, Cpu.Access, Cpu.WhyTensorCopies);
            Assert.IsNull(Cpu.WhyTensorCopies);
        }
        else
        {
            Assert.AreEqual(CpuStateAccess.TensorCopies, Cpu.Access);
            StringAssert.Contains(Cpu.WhyTensorCopies, "verified on 64-bit little-endian Linux only");
        }
        Assert.AreEqual(Cpu.Access, new TorchCpuGenerator().Access, "one choice per process");
        Assert.AreEqual((Cpu.Access, Cpu.WhyTensorCopies), TorchCpuGenerator.ProcessAccess);
    }

    [TestMethod]
    public void Read_AnyValidStateSetThroughTorchSharp_IsWhatGetStateReads()
    {
        ValidStates.Sample(state =>
        {
            TorchWrite(state);
            CollectionAssert.AreEqual(TorchRead(), FastRead());
        }, iter: 300, threads: 1);
    }

    [TestMethod]
    public void Write_AnyValidState_LeavesWhatSetStateLeaves()
    {
        ValidStates.Sample(state =>
        {
            TorchWrite(state);
            byte[] expected = TorchRead();
            Cpu.Seed(1);
            Cpu.Write(state);
            CollectionAssert.AreEqual(expected, TorchRead());
        }, iter: 300, threads: 1);
    }

    [TestMethod]
    public void Write_ThenDraws_AreTheDrawsAfterSetState_BitForBit()
    {
        DrawableStates.Sample(state =>
        {
            TorchWrite(state);
            byte[] expected = Draws();
            Cpu.Seed(1);
            Cpu.Write(state);
            CollectionAssert.AreEqual(expected, Draws());
        }, iter: 60, threads: 1);
    }

    [TestMethod]
    [DataRow(0L)]
    [DataRow(42L)]
    [DataRow(-1L)]
    [DataRow(long.MaxValue)]
    public void FreshlySeeded_ReadsAsGetState_AndWritesBackToTheSameDraws(long seed)
    {
        torch.manual_seed(seed);
        byte[] seeded = TorchRead();
        CollectionAssert.AreEqual(seeded, FastRead());
        byte[] expected = Draws();
        Cpu.WriteReadBack(seeded);
        CollectionAssert.AreEqual(expected, Draws());
    }

    /// <summary>
    /// The states draws leave, caches included: randn of an odd count on the serial path leaves a double cached (read
    /// back as normal_is_valid and normal_y), bernoulli and normal_ move the words, dropout the rest.
    /// </summary>
    [TestMethod]
    public void StatesLeftByDraws_ReadAsGetState_AndWriteBackToTheSameDraws()
    {
        Action[] steps =
        [
            () => torch.randn([1]).Dispose(),
            () => torch.rand([3]).Dispose(),
            () => torch.empty([5], torch.float64).normal_(0.0, 1.0).Dispose(),
            () => torch.empty([4]).bernoulli_(0.25).Dispose(),
            () => torch.nn.functional.dropout(torch.ones(7), 0.5, training: true).Dispose(),
            () => torch.randint(0, 7, [700]).Dispose(), // crosses a twist
            () => torch.randn([15]).Dispose(),
        ];
        torch.manual_seed(7);
        bool sawDoubleCached = false;
        for (int round = 0; round < 3; round++)
        {
            foreach (Action step in steps)
            {
                step();
                byte[] state = TorchRead();
                sawDoubleCached |= BinaryPrimitives.ReadInt32LittleEndian(state.AsSpan(CpuGeneratorState.NormalIsValidOffset)) == 1;
                CollectionAssert.AreEqual(state, FastRead());
                byte[] expected = Draws();
                Cpu.WriteReadBack(state);
                CollectionAssert.AreEqual(expected, Draws());
                Cpu.WriteReadBack(state);
            }
        }
        Assert.IsTrue(sawDoubleCached, "some draw left a cached normal");
    }

    [TestMethod]
    public void WriteDerived_SetsTheDerivedState_AndLastWrittenIsIt()
    {
        byte[] derived = new byte[CpuGeneratorState.Size];
        CpuGeneratorState.Derive(0xDEC0DE, derived);
        Cpu.WriteDerived(0xDEC0DE);
        CollectionAssert.AreEqual(derived, TorchRead());
        CollectionAssert.AreEqual(derived, Cpu.LastWritten.ToArray());
        byte[] other = DrawableStates.Single();
        Cpu.WriteReadBack(other);
        CollectionAssert.AreEqual(other, Cpu.LastWritten.ToArray());
    }

    /// <summary>The verification's own states: each one valid, each one's draws inside the words.</summary>
    [TestMethod]
    public void VerificationStates_AreValid()
    {
        foreach (byte[] state in CpuGeneratorMemory.VerificationStates())
            Assert.IsNull(CpuGeneratorState.Validate(state));
    }

    /// <summary>A reference that reads one bit wrong after its first read (the state saved to put back): the check at start-up finds the difference.</summary>
    private sealed class MisreadingReference(ICpuStateReference inner) : ICpuStateReference
    {
        private int _reads;

        public void Read(Span<byte> destination)
        {
            inner.Read(destination);
            if (_reads++ > 0)
                destination[CpuGeneratorState.WordsOffset + 8 * 100] ^= 1;
        }

        public void Write(ReadOnlySpan<byte> state) => inner.Write(state);
    }

    /// <summary>A reference whose writes never reach the generator: the engine holding the probe seed is not found.</summary>
    private sealed class DeafReference(ICpuStateReference inner) : ICpuStateReference
    {
        public void Read(Span<byte> destination) => inner.Read(destination);

        public void Write(ReadOnlySpan<byte> state)
        {
        }
    }

    [TestMethod]
    public void Verification_ForcedToDisagree_FallsBackToTensors_WhichAreExact()
    {
        torch.manual_seed(3);
        torch.randn([1]).Dispose();
        byte[] before = TorchRead();
        var fallback = new TorchCpuGenerator(reference => new MisreadingReference(reference));
        Assert.AreEqual(CpuStateAccess.TensorCopies, fallback.Access);
        if (MemoryPathExpected)
            StringAssert.Contains(fallback.WhyTensorCopies, "from memory differs from get_state at byte " + (CpuGeneratorState.WordsOffset + 8 * 100));
        CollectionAssert.AreEqual(before, TorchRead(), "the check puts the state back");

        DrawableStates.Sample(state =>
        {
            TorchWrite(state);
            byte[] read = new byte[CpuGeneratorState.Size];
            fallback.Read(read);
            CollectionAssert.AreEqual(TorchRead(), read);
            byte[] expected = Draws();
            fallback.Write(state);
            CollectionAssert.AreEqual(expected, Draws());
        }, iter: 20, threads: 1);
    }

    [TestMethod]
    public void Verification_WhenTheProbeNeverLands_FallsBackToTensors()
    {
        var fallback = new TorchCpuGenerator(reference => new DeafReference(reference));
        Assert.AreEqual(CpuStateAccess.TensorCopies, fallback.Access);
        if (MemoryPathExpected)
            StringAssert.Contains(fallback.WhyTensorCopies, "the engine's seed was not found in the first 512 bytes");
        byte[] state = DrawableStates.Single();
        fallback.Write(state);
        CollectionAssert.AreEqual(state.Take(NormalXOffset).ToArray(), TorchRead().Take(NormalXOffset).ToArray());
    }

    [TestMethod]
    public void Write_StillRefusesInvalidStates_BeforeTouchingTheGenerator()
    {
        byte[] before = TorchRead();
        byte[] invalid = DrawableStates.Single();
        BinaryPrimitives.WriteInt32LittleEndian(invalid.AsSpan(CpuGeneratorState.LeftOffset), 0);
        var refused = Assert.ThrowsExactly<ArgumentException>(() => Cpu.Write(invalid));
        StringAssert.Contains(refused.Message, "'left' count is 0");
        CollectionAssert.AreEqual(before, TorchRead());
    }

    /// <summary>Draws that take a generator argument (the per-sample streams' use), then the state they leave.</summary>
    private static byte[] Draws(torch.Generator generator)
    {
        using DisposeScope scope = torch.NewDisposeScope();
        var bytes = new List<byte>();
        void Add(torch.Tensor drawn) => bytes.AddRange(drawn.bytes.ToArray());
        Add(torch.rand([5], generator: generator));
        Add(torch.randn([3], generator: generator));
        Add(torch.empty([7]).normal_(1.0, 2.0, generator: generator));
        Add(torch.randint(0, 1000, [6], generator: generator));
        Add(torch.empty([9]).bernoulli_(0.3, generator: generator));
        Add(torch.randperm(12, generator: generator));
        using (torch.Tensor state = generator.get_state())
            bytes.AddRange(state.bytes.ToArray());
        return bytes.ToArray();
    }

    [TestMethod]
    public void TryAttach_AnotherGenerator_WritesAsItsSetState()
    {
        CpuStateAccess access = Cpu.Access; // the process's choice is made, as SetSeed makes it before any sample stream
        using var generator = new torch.Generator(5);
        CpuGeneratorMemory? memory = CpuGeneratorMemory.TryAttach(generator);
        Assert.AreEqual(access == CpuStateAccess.GeneratorMemory, memory is not null);
        if (memory is null)
            return;
        using (torch.Generator defaultGenerator = torch.Generator.Default)
            Assert.AreNotEqual(Marshal.ReadIntPtr(defaultGenerator.Handle), memory.Implementation, "its own object, not the default generator's");
        DrawableStates.Sample(state =>
        {
            using (torch.Tensor tensor = torch.tensor(state))
                generator.set_state(tensor);
            byte[] read = new byte[CpuGeneratorState.Size];
            memory.Read(read);
            using (torch.Tensor got = generator.get_state())
                CollectionAssert.AreEqual(got.bytes.ToArray(), read);
            byte[] expected = Draws(generator);
            memory.Write(state);
            CollectionAssert.AreEqual(expected, Draws(generator));
        }, iter: 30, threads: 1);
    }

    [TestMethod]
    public void TryAttach_AHandleThatIsNoGenerator_IsRefused()
    {
        using torch.Tensor tensor = torch.zeros(4);
        Assert.IsNull(CpuGeneratorMemory.TryAttach(tensor.Handle, new GeneratorTensors(torch.Generator.Default)));
    }

    /// <summary>Both widths of the word loops, whichever this CPU accelerates: words widened and narrowed as plain casts would.</summary>
    [TestMethod]
    [DataRow(true)]
    [DataRow(false)]
    public unsafe void WordLoops_BothWidths_AreTheCasts(bool wide)
    {
        uint[] words = Gen.UInt.Array[CpuGeneratorState.WordCount].Single();
        ulong[] slots = new ulong[CpuGeneratorState.WordCount], copy = new ulong[CpuGeneratorState.WordCount];
        fixed (uint* w = words)
        fixed (ulong* s = slots)
            CpuGeneratorMemory.Widen(w, s, wide);
        CollectionAssert.AreEqual(words.Select(word => (ulong)word).ToArray(), slots);

        ulong[] wideSlots = Gen.ULong.Array[CpuGeneratorState.WordCount].Single();
        uint[] narrowed = new uint[CpuGeneratorState.WordCount];
        fixed (ulong* s = wideSlots)
        fixed (uint* w = narrowed)
        fixed (ulong* c = copy)
        {
            CpuGeneratorMemory.Narrow(s, w, c, wide);
        }
        CollectionAssert.AreEqual(wideSlots.Select(slot => (uint)slot).ToArray(), narrowed);
        CollectionAssert.AreEqual(wideSlots, copy);
        Array.Clear(narrowed);
        fixed (ulong* s = wideSlots)
        fixed (uint* w = narrowed)
            CpuGeneratorMemory.Narrow(s, w, null, wide);
        CollectionAssert.AreEqual(wideSlots.Select(slot => (uint)slot).ToArray(), narrowed);
    }

    [TestMethod]
    public void ReadAndWrite_RefuseBuffersOfAnotherSize()
    {
        using torch.Generator generator = torch.Generator.Default;
        CpuGeneratorMemory? memory = CpuGeneratorMemory.TryOpen(generator.Handle, new GeneratorTensors(generator), out string? why);
        Assert.AreEqual(Cpu.Access == CpuStateAccess.GeneratorMemory, memory is not null, why);
        if (memory is null)
            return;
        Assert.IsTrue(memory.EngineOffset is >= 8 and <= CpuGeneratorMemory.EngineSearchLimit);
        byte[] before = TorchRead();
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => memory.Read(new byte[CpuGeneratorState.Size + 1])).Message, "A CPU generator state is 5056 bytes.");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => memory.Write(new byte[CpuGeneratorState.Size - 1])).Message, "A CPU generator state is 5056 bytes.");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => memory.Write(before, new byte[8])).Message, "A copy of a CPU generator state is 5056 bytes.");
        CollectionAssert.AreEqual(before, TorchRead());
    }
}
