using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO.Hashing;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.State;

namespace ReproducibleBlock.Tests;

/// <summary>
/// Each check the snapshot reader makes, reached by a crafted payload with a correct length header and checksum, so that
/// what rejects it is that check and not the checksum. Payloads are written by <see cref="Layout"/> from the layout
/// documented in SnapshotFormat's remarks, independently of SnapshotFormat.Write.
/// </summary>
[TestClass]
public sealed class SnapshotFormatTests
{
    private const int HeaderSize = 14;
    private const int MaxCpuStateSize = 1 << 20;
    private const int MaxCudaDevices = 1024;

    // ---- A test-side model of the documented layout, and a writer for it ----

    private sealed class StateModel
    {
        public byte[] Cpu { get; set; } = ValidCpu(1);
        public ulong Managed { get; set; }
        public List<(ulong Seed, ulong Offset)> Cuda { get; set; } = [];
        /// <summary>Written instead of the real device count, to announce more records than follow.</summary>
        public uint? DeviceCountOverride { get; set; }
    }

    private sealed class FrameModel
    {
        public long BlockSeed { get; set; }
        public long Ordinal { get; set; }
        /// <summary>The restore byte as written; <see cref="Saved"/> is written after it whenever it is set.</summary>
        public byte Restore { get; set; }
        public StateModel? Saved { get; set; }
        public List<(long Seed, long Count)> Counts { get; set; } = [];
        public uint? CountOverride { get; set; }
        public ulong Exits { get; set; }
    }

    private sealed class SnapshotModel
    {
        public long RootSeed { get; set; }
        public byte Derivation { get; set; }
        public StateModel Reference { get; set; } = new();
        public StateModel Current { get; set; } = new();
        public FrameModel Root { get; set; } = new();
        public List<FrameModel> Frames { get; set; } = [];
        public uint? FrameCountOverride { get; set; }
    }

    /// <summary>Little-endian fields in the documented order, with no help from SnapshotFormat.</summary>
    private sealed class Layout
    {
        private readonly List<byte> _bytes = [];

        public byte[] ToArray() => [.. _bytes];

        public Layout U8(byte value) { _bytes.Add(value); return this; }

        public Layout U16(ushort value) => Bytes([(byte)value, (byte)(value >> 8)]);

        public Layout U32(uint value) => Bytes([(byte)value, (byte)(value >> 8), (byte)(value >> 16), (byte)(value >> 24)]);

        public Layout U64(ulong value) => U32((uint)value).U32((uint)(value >> 32));

        public Layout I64(long value) => U64(unchecked((ulong)value));

        public Layout Bytes(ReadOnlySpan<byte> bytes)
        {
            foreach (byte b in bytes)
                _bytes.Add(b);
            return this;
        }

        // state : u32 cpu length | cpu bytes | u64 managed | u32 devices | (u64 seed, u64 offset) × devices
        public Layout State(StateModel state)
        {
            U32((uint)state.Cpu.Length).Bytes(state.Cpu).U64(state.Managed);
            U32(state.DeviceCountOverride ?? (uint)state.Cuda.Count);
            foreach ((ulong seed, ulong offset) in state.Cuda)
                U64(seed).U64(offset);
            return this;
        }

        // frame : i64 block seed | i64 ordinal | u8 restore | [state saved, when restore] | u32 m | (i64 seed, i64 count) × m | u64 exits
        public Layout Frame(FrameModel frame)
        {
            I64(frame.BlockSeed).I64(frame.Ordinal).U8(frame.Restore);
            if (frame.Saved is not null)
                State(frame.Saved);
            U32(frame.CountOverride ?? (uint)frame.Counts.Count);
            foreach ((long seed, long count) in frame.Counts)
                I64(seed).I64(count);
            return U64(frame.Exits);
        }

        // payload : i64 root seed | u8 derivation | state reference | state current | frame root | u32 n | frame × n
        public static byte[] Payload(SnapshotModel model)
        {
            var layout = new Layout();
            layout.I64(model.RootSeed).U8(model.Derivation).State(model.Reference).State(model.Current).Frame(model.Root);
            layout.U32(model.FrameCountOverride ?? (uint)model.Frames.Count);
            foreach (FrameModel frame in model.Frames)
                layout.Frame(frame);
            return layout.ToArray();
        }
    }

    /// <summary>
    /// header "RBLKSNAP" | u16 version | u32 payload length, then the payload, then XXH64 (seed 0) of header and payload.
    /// </summary>
    private static byte[] Seal(byte[] payload, ushort version = 1, uint? announcedLength = null, ReadOnlySpan<byte> magic = default)
    {
        var layout = new Layout();
        layout.Bytes(magic.IsEmpty ? "RBLKSNAP"u8 : magic).U16(version).U32(announcedLength ?? (uint)payload.Length).Bytes(payload);
        byte[] sealedBytes = layout.ToArray();
        ulong hash = XxHash64.HashToUInt64(sealedBytes, seed: 0);
        return [.. sealedBytes, .. new Layout().U64(hash).ToArray()];
    }

    private static byte[] Seal(SnapshotModel model) => Seal(Layout.Payload(model));

    private static byte[] ValidCpu(ulong key)
    {
        byte[] state = new byte[CpuGeneratorState.Size];
        CpuGeneratorState.Derive(key, state);
        return state;
    }

    private static StateModel State(ulong key, params (ulong Seed, ulong Offset)[] cuda) =>
        new() { Cpu = ValidCpu(key), Managed = key * 0x9E3779B97F4A7C15, Cuda = [.. cuda] };

    /// <summary>A snapshot with every kind of record: CUDA devices, counters, a restoring and a non-restoring frame.</summary>
    private static SnapshotModel Valid(byte derivation = 0) => new()
    {
        RootSeed = -42,
        Derivation = derivation,
        Reference = State(1, (7, 0), (7, 4)),
        Current = State(2, (9, 8), (9, 1UL << 40)),
        Root = new FrameModel { Counts = [(5, 2), (-3, 1)], Exits = 1 },
        Frames =
        [
            new FrameModel { BlockSeed = 3, Restore = 1, Saved = State(3, (11, 12), (11, 16)), Counts = [(8, 1), (9, 4)], Exits = 2 },
            new FrameModel { BlockSeed = 5, Ordinal = 1, Exits = ulong.MaxValue },
        ],
    };

    /// <summary>The bytes are rejected with a <see cref="FormatException"/> whose message holds every one of <paramref name="expected"/>.</summary>
    private static void AssertRejected(byte[] bytes, params string[] expected)
    {
        var error = Assert.ThrowsExactly<FormatException>(() => RngSnapshot.FromBytes(bytes));
        foreach (string part in expected)
            StringAssert.Contains(error.Message, part);
    }

    private static void AssertRejected(SnapshotModel model, params string[] expected) => AssertRejected(Seal(model), expected);

    // ---- The layout agrees with the reader and the writer ----

    [TestMethod]
    [DataRow((byte)0)]
    [DataRow((byte)1)]
    public void IndependentLayout_ReadsBackEveryField_AndWriteGivesTheSameBytes(byte derivation)
    {
        SnapshotModel model = Valid(derivation);
        byte[] bytes = Seal(model);

        SnapshotData data = SnapshotFormat.Read(bytes);
        Assert.AreEqual(model.RootSeed, data.RootSeed);
        Assert.AreEqual((BlockDerivation)derivation, data.Derivation);
        AssertState(model.Reference, data.Reference, "reference");
        AssertState(model.Current, data.Current, "current");
        AssertFrame(model.Root, data.Root, "root");
        Assert.HasCount(model.Frames.Count, data.Frames);
        for (int i = 0; i < model.Frames.Count; i++)
            AssertFrame(model.Frames[i], data.Frames[i], $"frame {i}");

        // The writer writes version 3: version 1's payload, then the environment section (here absent: one 0 byte), the
        // continuing streams (here none: a u32 0) and the stream claims (here none: a u32 0).
        byte[] version3 = Seal([.. Layout.Payload(model), 0, 0, 0, 0, 0, 0, 0, 0, 0], version: 3);
        CollectionAssert.AreEqual(version3, SnapshotFormat.Write(data), "Write of what was read");
        CollectionAssert.AreEqual(version3, SnapshotFormat.Write(ToData(model)), "Write of the same data built directly");
        Assert.IsNull(SnapshotFormat.Read(version3).Environment);
    }

    /// <summary>Version 3's tail after version 1's payload: no environment, no streams, then the claims as given.</summary>
    private static byte[] WithClaims(SnapshotModel model, params (ulong Anchor, long All, long Registered)[] claims)
    {
        var tail = new Layout().U8(0).U32(0).U32((uint)claims.Length);
        foreach ((ulong anchor, long all, long registered) in claims)
            tail.U64(anchor).I64(all).I64(registered);
        return Seal([.. Layout.Payload(model), .. tail.ToArray()], version: 3);
    }

    [TestMethod]
    public void Claims_ReadBackInOrder_AndWriteGivesTheSameBytes()
    {
        // Anchors in ascending order, as the writer sorts them, so that the same registry always gives the same bytes.
        byte[] bytes = WithClaims(Valid(), (3, 2, 2), (0xFFFF_0000_0000_0001, 5, 1), (ulong.MaxValue, 1, 0));
        SnapshotData data = SnapshotFormat.Read(bytes);
        CollectionAssert.AreEqual(
            new[] { (3UL, new ClaimCount(2, 2)), (0xFFFF_0000_0000_0001UL, new ClaimCount(5, 1)), (ulong.MaxValue, new ClaimCount(1, 0)) },
            data.Claims.ToArray());
        CollectionAssert.AreEqual(bytes, SnapshotFormat.Write(data));
    }

    [TestMethod]
    [DataRow(0L, 0L)]   // an anchor recorded with no claim
    [DataRow(-1L, 0L)]
    [DataRow(2L, 3L)]   // more registered than claimed
    [DataRow(2L, -1L)]
    public void Claims_Impossible_AreRejected(long all, long registered)
    {
        AssertRejected(WithClaims(Valid(), (9, all, registered)), "stream claims are invalid");
    }

    [TestMethod]
    public void Claims_RepeatedAnchor_IsRejected()
    {
        AssertRejected(WithClaims(Valid(), (9, 1, 1), (9, 2, 0)), "stream claims are invalid");
    }

    [TestMethod]
    public void Claims_MoreAnnouncedThanFollow_AreRejectedBeforeAllocating()
    {
        byte[] payload = [.. Layout.Payload(Valid()), .. new Layout().U8(0).U32(0).U32(uint.MaxValue).U64(9).I64(1).I64(1).ToArray()];
        var error = Assert.ThrowsExactly<FormatException>(() => RngSnapshot.FromBytes(Seal(payload, version: 3)));
        StringAssert.Contains(error.Message, $"announces {uint.MaxValue} records", "rejected by the count, before any record is read");
    }

    private static void AssertState(StateModel expected, RngState actual, string where)
    {
        CollectionAssert.AreEqual(expected.Cpu, actual.Cpu, $"{where}: CPU state");
        Assert.AreEqual(expected.Managed, actual.Managed, $"{where}: managed state");
        CollectionAssert.AreEqual(expected.Cuda.Select(d => new CudaGeneratorState(d.Seed, d.Offset)).ToArray(), actual.Cuda, $"{where}: CUDA");
    }

    private static void AssertFrame(FrameModel expected, FrameData actual, string where)
    {
        Assert.AreEqual(expected.BlockSeed, actual.BlockSeed, $"{where}: block seed");
        Assert.AreEqual(expected.Ordinal, actual.Ordinal, $"{where}: ordinal");
        Assert.AreEqual(expected.Restore == 1, actual.RestoreOnExit, $"{where}: restore");
        if (expected.Saved is null)
            Assert.IsNull(actual.Saved, $"{where}: saved state");
        else
            AssertState(expected.Saved, actual.Saved!, $"{where}: saved");
        CollectionAssert.AreEqual(expected.Counts.ToArray(), actual.InstanceCounts.Select(p => (p.Key, p.Value)).ToArray(), $"{where}: counters");
        Assert.AreEqual(expected.Exits, actual.ExitCount, $"{where}: exits");
    }

    private static SnapshotData ToData(SnapshotModel model)
    {
        return new SnapshotData
        {
            RootSeed = model.RootSeed,
            Derivation = (BlockDerivation)model.Derivation,
            Reference = ToState(model.Reference),
            Current = ToState(model.Current),
            Root = ToFrame(model.Root),
            Frames = [.. model.Frames.Select(ToFrame)],
        };

        static RngState ToState(StateModel state)
        {
            var result = new RngState(state.Cpu.Length, state.Cuda.Count) { Managed = state.Managed };
            state.Cpu.CopyTo(result.Cpu, 0);
            for (int i = 0; i < state.Cuda.Count; i++)
                result.Cuda[i] = new CudaGeneratorState(state.Cuda[i].Seed, state.Cuda[i].Offset);
            return result;
        }

        static FrameData ToFrame(FrameModel frame)
        {
            var counts = new Dictionary<long, long>();
            foreach ((long seed, long count) in frame.Counts)
                counts.Add(seed, count);
            return new FrameData(frame.BlockSeed, frame.Ordinal, frame.Restore == 1, frame.Saved is null ? null : ToState(frame.Saved), counts, frame.Exits);
        }
    }

    [TestMethod]
    public void MinimalSnapshot_WithoutCudaFramesOrCounters_ReadsBack()
    {
        var model = new SnapshotModel { Reference = State(4), Current = State(5) };
        SnapshotData data = SnapshotFormat.Read(Seal(model));
        Assert.IsEmpty(data.Frames);
        Assert.IsEmpty(data.Current.Cuda);
        Assert.IsEmpty(data.Root.InstanceCounts);
    }

    // ---- Header ----

    [TestMethod]
    [DataRow((ushort)0)]
    [DataRow((ushort)4)]
    [DataRow(ushort.MaxValue)]
    public void WrongVersion_SaysWhichVersion(ushort version)
    {
        AssertRejected(Seal(Layout.Payload(Valid()), version: version), $"format version {version}", "reads versions 1 to 3");
    }

    [TestMethod]
    [DataRow(-1L)]
    [DataRow(1L)]
    [DataRow(long.MinValue)] // announced length 0
    [DataRow(long.MaxValue)] // announced length uint.MaxValue
    public void HeaderLength_DisagreeingWithTheSize_IsATruncationOrExtension(long delta)
    {
        byte[] payload = Layout.Payload(Valid());
        uint announced = delta switch
        {
            long.MinValue => 0,
            long.MaxValue => uint.MaxValue,
            _ => (uint)(payload.Length + delta),
        };
        byte[] bytes = Seal(payload, announcedLength: announced);
        AssertRejected(bytes, $"is {bytes.Length} bytes", $"announces {HeaderSize + (ulong)announced + 8}", "truncated or extended");
    }

    [TestMethod]
    public void WrongMagic_IsNotASnapshot()
    {
        AssertRejected(Seal(Layout.Payload(Valid()), magic: "RBLKSNAQ"u8), "not a ReproducibleBlock snapshot");
    }

    [TestMethod]
    public void FlippedByteWhereAnyValueIsValid_IsCaughtByTheChecksum()
    {
        byte[] bytes = Seal(Valid());
        // The reference state's managed word follows root seed, derivation and the CPU state: any value there is valid.
        bytes[HeaderSize + 8 + 1 + 4 + CpuGeneratorState.Size] ^= 1;
        AssertRejected(bytes, "checksum does not match");
    }

    // ---- Payload fields ----

    [TestMethod]
    [DataRow((byte)2)]
    [DataRow((byte)255)]
    public void DerivationByte_OutOfRange_IsUnknown(byte derivation)
    {
        SnapshotModel model = Valid();
        model.Derivation = derivation;
        AssertRejected(model, $"unknown derivation ({derivation})");
    }

    [TestMethod]
    public void RootFrame_MarkedAsRestoring_IsRejected()
    {
        SnapshotModel model = Valid();
        model.Root.Restore = 1;
        model.Root.Saved = State(6, (13, 0), (13, 4)); // a well-formed saved state, so only the flag is wrong
        AssertRejected(model, "root level is marked as restoring on exit");
    }

    [TestMethod]
    [DataRow(-1, (byte)2)] // the root frame
    [DataRow(0, (byte)2)]
    [DataRow(1, (byte)255)]
    public void RestoreFlag_NeitherZeroNorOne_IsRejected(int frame, byte flag)
    {
        SnapshotModel model = Valid();
        FrameModel target = frame < 0 ? model.Root : model.Frames[frame];
        target.Restore = flag;
        target.Saved ??= State(6, (13, 0), (13, 4)); // followed by a state, as if the flag meant 1
        AssertRejected(model, "restore-on-exit flag is neither 0 nor 1");
    }

    [TestMethod]
    [DataRow("reference", 1UL)]
    [DataRow("current", 6UL)]
    [DataRow("saved", 2UL)]
    [DataRow("current", ulong.MaxValue)]
    public void CudaOffset_NotAMultipleOfFour_IsRejected(string where, ulong offset)
    {
        SnapshotModel model = Valid();
        StateModel state = Pick(model, where);
        state.Cuda[1] = (state.Cuda[1].Seed, offset);
        AssertRejected(model, $"CUDA offset for device 1 ({offset}) is not a multiple of 4");
    }

    private static StateModel Pick(SnapshotModel model, string where) => where switch
    {
        "reference" => model.Reference,
        "current" => model.Current,
        "saved" => model.Frames[0].Saved!,
        _ => throw new ArgumentOutOfRangeException(nameof(where)),
    };

    private static List<(ulong, ulong)> Devices(int count) => [.. Enumerable.Range(0, count).Select(i => (ulong.MaxValue - (ulong)i, 4UL * (ulong)i))];

    [TestMethod]
    public void CudaDevices_AboveTheCap_AreRejectedEvenWhenTheBytesAreThere()
    {
        // 1025 well-formed devices in every state: the count fits the remaining bytes, so the cap is what rejects it.
        var model = new SnapshotModel
        {
            Reference = new StateModel { Cpu = ValidCpu(1), Cuda = Devices(MaxCudaDevices + 1) },
            Current = new StateModel { Cpu = ValidCpu(2), Cuda = Devices(MaxCudaDevices + 1) },
        };
        AssertRejected(model, $"claims {MaxCudaDevices + 1} CUDA devices");
    }

    [TestMethod]
    public void CudaDevices_AtTheCap_AreRead()
    {
        var model = new SnapshotModel
        {
            Reference = new StateModel { Cpu = ValidCpu(1), Cuda = Devices(MaxCudaDevices) },
            Current = new StateModel { Cpu = ValidCpu(2), Cuda = Devices(MaxCudaDevices) },
        };
        Assert.HasCount(MaxCudaDevices, SnapshotFormat.Read(Seal(model)).Current.Cuda);
    }

    [TestMethod]
    public void InstanceCounters_RepeatedSeed_AreRejected()
    {
        SnapshotModel model = Valid();
        model.Frames[0].Counts = [(8, 1), (9, 4), (8, 1)];
        AssertRejected(model, "instance counters are invalid", "repeated");
    }

    [TestMethod]
    [DataRow(-1, -1L)]
    [DataRow(0, long.MinValue)]
    public void InstanceCounters_Negative_AreRejected(int frame, long count)
    {
        SnapshotModel model = Valid();
        (frame < 0 ? model.Root : model.Frames[frame]).Counts.Add((77, count));
        AssertRejected(model, "instance counters are invalid", "negative");
    }

    [TestMethod]
    [DataRow(-1)]
    [DataRow(0)]
    public void InstanceCounter_AtItsMaximum_IsRejected_BeforeTheNextInstanceCouldOverflow(int frame)
    {
        SnapshotModel model = Valid();
        (frame < 0 ? model.Root : model.Frames[frame]).Counts.Add((77, long.MaxValue));
        AssertRejected(model, "instance counters are invalid", "at their maximum");
        (frame < 0 ? model.Root : model.Frames[frame]).Counts[^1] = (77, long.MaxValue - 1);
        Assert.IsNotNull(SnapshotFormat.Read(Seal(model)), "one below the maximum is a valid count");
    }

    [TestMethod]
    [DataRow(1L, 0L)]
    [DataRow(0L, 1L)]
    [DataRow(long.MinValue, 0L)]
    public void RootLevel_WithABlockSeedOrOrdinal_IsRejected(long blockSeed, long ordinal)
    {
        SnapshotModel model = Valid();
        model.Root.BlockSeed = blockSeed;
        model.Root.Ordinal = ordinal;
        AssertRejected(model, $"root level records block seed {blockSeed} and ordinal {ordinal}");
    }

    [TestMethod]
    public void BlockSeedAboveTheResetAndAdvanceMaximum_IsRejectedThere_AndReadUnderKeyed()
    {
        SnapshotModel resetAndAdvance = Valid((byte)BlockDerivation.ResetAndAdvance);
        resetAndAdvance.Frames[0].BlockSeed = uint.MaxValue;
        Assert.AreEqual((long)uint.MaxValue, SnapshotFormat.Read(Seal(resetAndAdvance)).Frames[0].BlockSeed, "2^32 - 1 is the largest allowed");
        resetAndAdvance.Frames[0].BlockSeed = (long)uint.MaxValue + 1;
        AssertRejected(resetAndAdvance, $"block seed {(long)uint.MaxValue + 1}, which ResetAndAdvance does not allow");

        SnapshotModel keyed = Valid((byte)BlockDerivation.Keyed);
        keyed.Frames[0].BlockSeed = (long)uint.MaxValue + 1;
        Assert.AreEqual((long)uint.MaxValue + 1, SnapshotFormat.Read(Seal(keyed)).Frames[0].BlockSeed);
    }

    [TestMethod]
    [DataRow(-1, -1L)]
    [DataRow(1, -1L)]
    [DataRow(0, long.MinValue)]
    public void NegativeOrdinal_IsRejected(int frame, long ordinal)
    {
        SnapshotModel model = Valid();
        (frame < 0 ? model.Root : model.Frames[frame]).Ordinal = ordinal;
        AssertRejected(model, $"negative instance ordinal ({ordinal})");
    }

    [TestMethod]
    [DataRow(-1L)]
    [DataRow(long.MinValue)]
    public void NegativeBlockSeed_IsRejectedUnderResetAndAdvance_AndReadUnderKeyed(long blockSeed)
    {
        SnapshotModel resetAndAdvance = Valid((byte)BlockDerivation.ResetAndAdvance);
        resetAndAdvance.Frames[1].BlockSeed = blockSeed;
        AssertRejected(resetAndAdvance, $"block seed {blockSeed}, which ResetAndAdvance does not allow");

        SnapshotModel keyed = Valid((byte)BlockDerivation.Keyed);
        keyed.Frames[1].BlockSeed = blockSeed;
        Assert.AreEqual(blockSeed, SnapshotFormat.Read(Seal(keyed)).Frames[1].BlockSeed);
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(8)]
    [DataRow(29)] // as long as a whole minimal frame
    public void TrailingBytes_AfterTheLastRecord_AreRejected(int extra)
    {
        byte[] payload = [.. Layout.Payload(Valid()), .. new byte[extra]];
        AssertRejected(Seal(payload), $"{extra} unexpected bytes after its last record");
    }

    // ---- Generator state shapes and sizes ----

    [TestMethod]
    [DataRow("current", 1, 0)]
    [DataRow("current", -1, 0)]
    [DataRow("current", 0, 1)]
    [DataRow("current", 0, -2)]
    [DataRow("saved", 8, 0)]
    [DataRow("saved", 0, 1)]
    [DataRow("saved", 0, -1)]
    public void GeneratorStates_OfDifferentShapes_AreRejected(string where, int cpuDelta, int deviceDelta)
    {
        SnapshotModel model = Valid();
        StateModel state = Pick(model, where);
        // A CPU state of another length is not a libtorch 5056-byte layout, so its contents are not checked: only its size differs.
        if (cpuDelta != 0)
            state.Cpu = [.. state.Cpu.Take(Math.Min(state.Cpu.Length, state.Cpu.Length + cpuDelta)), .. new byte[Math.Max(0, cpuDelta)]];
        if (deviceDelta > 0)
            state.Cuda.AddRange(Devices(deviceDelta));
        else if (deviceDelta < 0)
            state.Cuda.RemoveRange(0, -deviceDelta);
        AssertRejected(model, "generator states differ in size");
    }

    [TestMethod]
    public void ReferenceState_OfAnotherShapeThanAllOthers_IsRejected()
    {
        SnapshotModel model = Valid();
        model.Reference.Cuda.RemoveAt(1);
        AssertRejected(model, "generator states differ in size");
    }

    [TestMethod]
    [DataRow(0u)]
    [DataRow((uint)MaxCpuStateSize + 1)]
    public void CpuStateLength_ZeroOrAboveOneMebibyte_IsRejected(uint length)
    {
        // Every state has that length and the bytes are all there, so nothing but the length check can object.
        var model = new SnapshotModel
        {
            Reference = new StateModel { Cpu = new byte[length] },
            Current = new StateModel { Cpu = new byte[length] },
        };
        AssertRejected(model, $"CPU generator state is {length} bytes");
    }

    [TestMethod]
    public void CpuStateLength_AsLargeAsAUInt32_IsRejectedBeforeAnyAllocation()
    {
        var layout = new Layout();
        layout.I64(1).U8(0).U32(uint.MaxValue).Bytes(new byte[64]);
        AssertRejected(Seal(layout.ToArray()), $"CPU generator state is {uint.MaxValue} bytes");
    }

    [TestMethod]
    public void CpuStateLength_OfOneMebibyte_IsRead()
    {
        var model = new SnapshotModel
        {
            Reference = new StateModel { Cpu = new byte[MaxCpuStateSize] },
            Current = new StateModel { Cpu = new byte[MaxCpuStateSize] },
        };
        Assert.HasCount(MaxCpuStateSize, SnapshotFormat.Read(Seal(model)).Current.Cpu);
    }

    public static IEnumerable<object[]> InvalidCpuStates()
    {
        foreach (string where in new[] { "reference", "current", "saved" })
        {
            yield return [where, "seeded=0", "not marked as seeded"];
            yield return [where, "seeded=2", "not marked as seeded"];
            yield return [where, "left=0", "'left' count is 0"];
            yield return [where, "left=-1", "'left' count is -1"];
            yield return [where, "left=625", "'left' count is 625"];
            yield return [where, "next=625", "'next' index is 625"];
            yield return [where, "next=max", $"'next' index is {ulong.MaxValue}"];
            // libtorch's own check accepts these; the next draws would read past the last word (or index from 0 without a twist).
            yield return [where, "left=624,next=624", "'left' count (624) and 'next' index (624) do not add up to 625"];
            yield return [where, "left=2,next=0", "'left' count (2) and 'next' index (0) do not add up to 625"];
            yield return [where, "left=624,next=0", "'left' count (624) and 'next' index (0) do not add up to 625"];
            yield return [where, "zeros", "words are all zero"];
            yield return [where, "word0=2^32", "word 0 of the CPU generator state is wider than 32 bits"];
            yield return [where, "word623=2^63", "word 623 of the CPU generator state is wider than 32 bits"];
            yield return [where, "normal=2", "cached-normal flag is neither 0 nor 1"];
            yield return [where, "floatNormal=2", "cached-float-normal flag is neither 0 nor 1"];
        }
    }

    private static void Corrupt(byte[] cpu, string defect)
    {
        Span<byte> s = cpu;
        switch (defect)
        {
            case "seeded=0": BinaryPrimitives.WriteInt32LittleEndian(s[12..], 0); break;
            case "seeded=2": BinaryPrimitives.WriteInt32LittleEndian(s[12..], 2); break;
            case "left=0": BinaryPrimitives.WriteInt32LittleEndian(s[8..], 0); break;
            case "left=-1": BinaryPrimitives.WriteInt32LittleEndian(s[8..], -1); break;
            case "left=625": BinaryPrimitives.WriteInt32LittleEndian(s[8..], 625); break;
            case "next=625": BinaryPrimitives.WriteUInt64LittleEndian(s[16..], 625); break;
            case "next=max": BinaryPrimitives.WriteUInt64LittleEndian(s[16..], ulong.MaxValue); break;
            case "left=624,next=624":
                BinaryPrimitives.WriteInt32LittleEndian(s[8..], 624);
                BinaryPrimitives.WriteUInt64LittleEndian(s[16..], 624);
                break;
            case "left=2,next=0": BinaryPrimitives.WriteInt32LittleEndian(s[8..], 2); break;
            case "left=624,next=0": BinaryPrimitives.WriteInt32LittleEndian(s[8..], 624); break;
            case "zeros":
                s.Slice(24, 8 * 624).Clear();
                BinaryPrimitives.WriteUInt64LittleEndian(s[24..], 0x7FFFFFFF); // word 0's low bits are never used
                break;
            case "word0=2^32": BinaryPrimitives.WriteUInt64LittleEndian(s[24..], 1UL << 32); break;
            case "word623=2^63": BinaryPrimitives.WriteUInt64LittleEndian(s[(24 + 8 * 623)..], 1UL << 63); break;
            case "normal=2": BinaryPrimitives.WriteInt32LittleEndian(s[5040..], 2); break;
            case "floatNormal=2": s[5052] = 2; break;
            default: throw new ArgumentOutOfRangeException(nameof(defect));
        }
    }

    [TestMethod]
    [DynamicData(nameof(InvalidCpuStates))]
    public void InvalidCpuGeneratorState_IsRejected(string where, string defect, string reason)
    {
        SnapshotModel model = Valid();
        Corrupt(Pick(model, where).Cpu, defect);
        AssertRejected(model, "CPU generator state is invalid", reason);
    }

    [TestMethod]
    [DataRow(1, 0ul, DisplayName = "a fresh seed: the next draw twists")]
    [DataRow(1, 624ul, DisplayName = "the last word read: the next draw twists")]
    [DataRow(624, 1ul, DisplayName = "just twisted, word 0 read")]
    [DataRow(2, 623ul, DisplayName = "one word before the twist")]
    public void CpuGeneratorState_AtEveryBound_IsRead(int left, ulong next)
    {
        SnapshotModel model = Valid();
        Span<byte> s = model.Current.Cpu;
        BinaryPrimitives.WriteInt32LittleEndian(s[8..], left);
        BinaryPrimitives.WriteUInt64LittleEndian(s[16..], next);
        BinaryPrimitives.WriteUInt64LittleEndian(s[24..], uint.MaxValue); // word 0
        BinaryPrimitives.WriteInt32LittleEndian(s[5040..], 1);      // normal_is_valid
        s[5052] = 1;                                                // is_next_float_normal_sample_valid
        CollectionAssert.AreEqual(model.Current.Cpu, SnapshotFormat.Read(Seal(model)).Current.Cpu);
    }

    // ---- Counts that the remaining bytes cannot hold ----

    [TestMethod]
    [DataRow(1u, 0)]
    [DataRow(2u, 1)]
    [DataRow(uint.MaxValue, 0)]
    public void FrameCount_LargerThanTheRemainingBytesHold_IsRejected(uint announced, int written)
    {
        var model = new SnapshotModel { Reference = State(1), Current = State(2), FrameCountOverride = announced };
        for (int i = 0; i < written; i++)
            model.Frames.Add(new FrameModel { BlockSeed = i });
        AssertRejected(model, $"announces {announced} records, more than its remaining {29 * written} bytes");
    }

    [TestMethod]
    public void MinimalFrames_FillingTheRemainingBytesExactly_AreRead()
    {
        // Frames are the last records, so 29-byte frames fill the rest exactly: the count check must allow that.
        var model = new SnapshotModel { Reference = State(1), Current = State(2) };
        for (int i = 0; i < 3; i++)
            model.Frames.Add(new FrameModel { BlockSeed = i });
        Assert.HasCount(3, SnapshotFormat.Read(Seal(model)).Frames);
    }

    [TestMethod]
    [DataRow(1u)]
    [DataRow(uint.MaxValue)]
    public void InstanceCounterCount_LargerThanTheRemainingBytesHold_IsRejected(uint announced)
    {
        SnapshotModel model = Valid();
        FrameModel last = model.Frames[^1];
        last.Counts = [];
        last.CountOverride = announced;
        AssertRejected(model, $"announces {announced} records, more than its remaining 8 bytes"); // only the exit count follows
    }

    [TestMethod]
    public void InstanceCounterCount_OneMoreThanWritten_IsRejected()
    {
        SnapshotModel model = Valid();
        FrameModel last = model.Frames[^1];
        last.Counts = [(1, 1), (2, 2)];
        last.CountOverride = 3;
        AssertRejected(model, "announces 3 records, more than its remaining 40 bytes");
    }

    [TestMethod]
    [DataRow(1000u)]
    [DataRow(uint.MaxValue)]
    public void CudaDeviceCount_LargerThanTheRemainingBytesHold_IsRejected(uint announced)
    {
        SnapshotModel model = Valid();
        StateModel saved = model.Frames[0].Saved!;
        saved.DeviceCountOverride = announced;
        // After the saved state's two devices: its frame's counters and exit count, then the last frame.
        int remaining = 2 * 16 + (4 + 2 * 16 + 8) + (8 + 8 + 1 + 4 + 8);
        AssertRejected(model, $"announces {announced} records, more than its remaining {remaining} bytes");
    }
}
