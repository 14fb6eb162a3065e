using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO.Hashing;

namespace ReproducibleBlock.State;

/// <summary>
/// The byte format of <see cref="RngSnapshot"/>, version 3 (versions 1 and 2, written by 0.1 and 0.2, are still
/// read). All integers little-endian.
/// </summary>
/// <remarks>
/// <code>
/// header   : "RBLKSNAP" (8 bytes) | u16 version (1 to 3) | u32 payload length
/// payload  : i64 root seed | u8 derivation | state reference | state current | frame root | u32 n | frame × n
///            | environment | u32 s | (u64 stream key, state) × s   (from version 2)
///            | u32 c | (u64 anchor key, i64 claims, i64 of them registered) × c   (from version 3)
/// state    : u32 cpu length | cpu bytes | u64 managed | u32 devices | (u64 seed, u64 offset) × devices
/// frame    : i64 block seed | i64 ordinal | u8 restore | [state saved, when restore] | u32 m | (i64 seed, i64 count) × m | u64 exits
/// environment : u8 present | [u32 m | (u16 length, UTF-8 name, u16 length, UTF-8 value) × m, when present]
/// trailer  : u64 XXH64 (seed 0) of header and payload
/// </code>
/// Reading checks everything a later restore would rely on, so that no byte from outside reaches libtorch
/// unchecked: a bad CPU state tensor aborts the process rather than throwing.
/// </remarks>
internal static partial class SnapshotFormat
{
    private static ReadOnlySpan<byte> Magic => "RBLKSNAP"u8;
    public const ushort Version = 3;
    private const ushort FirstVersion = 1;
    private const int MaxEnvironmentEntries = 256;
    private const int HeaderSize = 14;
    private const int TrailerSize = 8;
    private const int MaxCpuStateSize = 1 << 20;
    private const int MaxCudaDevices = 1024;

    public static byte[] Write(SnapshotData data)
    {
        var payload = new ArrayBufferWriter<byte>();
        var writer = new Writer(payload);
        writer.I64(data.RootSeed);
        writer.U8((byte)data.Derivation);
        writer.State(data.Reference);
        writer.State(data.Current);
        writer.Frame(data.Root);
        writer.U32((uint)data.Frames.Count);
        foreach (FrameData frame in data.Frames)
            writer.Frame(frame);
        writer.Environment(data.Environment);
        writer.U32((uint)data.Streams.Count);
        foreach ((ulong key, RngState state) in data.Streams)
        {
            writer.U64(key);
            writer.State(state);
        }
        writer.U32((uint)data.Claims.Count);
        foreach ((ulong anchor, ClaimCount claims) in data.Claims)
        {
            writer.U64(anchor);
            writer.I64(claims.All);
            writer.I64(claims.Registered);
        }

        byte[] bytes = new byte[HeaderSize + payload.WrittenCount + TrailerSize];
        Magic.CopyTo(bytes);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), Version);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(10), (uint)payload.WrittenCount);
        payload.WrittenSpan.CopyTo(bytes.AsSpan(HeaderSize));
        int end = bytes.Length - TrailerSize;
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(end), XxHash64.HashToUInt64(bytes.AsSpan(0, end)));
        return bytes;
    }

    /// <exception cref="FormatException">The bytes are not a whole, intact snapshot of a known version.</exception>
    public static SnapshotData Read(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < HeaderSize + TrailerSize || !bytes[..8].SequenceEqual(Magic))
            throw new FormatException("These bytes are not a ReproducibleBlock snapshot (they do not start with its 'RBLKSNAP' header).");
        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(bytes[8..]);
        if (version is < FirstVersion or > Version)
            throw new FormatException($"This snapshot has format version {version}; this version of ReproducibleBlock reads versions {FirstVersion} to {Version}. Use the version that wrote it.");
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(bytes[10..]);
        if ((ulong)bytes.Length != HeaderSize + (ulong)length + TrailerSize)
            throw new FormatException($"The snapshot is {bytes.Length} bytes but its header announces {HeaderSize + (ulong)length + TrailerSize}: it was truncated or extended.");
        int end = bytes.Length - TrailerSize;
        if (XxHash64.HashToUInt64(bytes[..end]) != BinaryPrimitives.ReadUInt64LittleEndian(bytes[end..]))
            throw new FormatException("The snapshot's checksum does not match its contents: the bytes were corrupted.");

        var reader = new Reader(bytes[HeaderSize..end]);
        long rootSeed = reader.I64();
        byte derivationByte = reader.U8();
        if (derivationByte > (byte)BlockDerivation.ResetAndAdvance)
            throw new FormatException($"The snapshot names an unknown derivation ({derivationByte}).");
        var derivation = (BlockDerivation)derivationByte;
        RngState reference = reader.State();
        RngState current = reader.State();
        FrameData root = reader.Frame(derivation);
        if (root.RestoreOnExit)
            throw new FormatException("The snapshot's root level is marked as restoring on exit, which no snapshot records.");
        if (root.BlockSeed != 0 || root.Ordinal != 0)
            throw new FormatException($"The snapshot's root level records block seed {root.BlockSeed} and ordinal {root.Ordinal}; the level outside every block has neither.");
        uint frameCount = reader.Count(minimumBytesEach: 8 + 8 + 1 + 4 + 8);
        var frames = new List<FrameData>((int)frameCount);
        for (uint i = 0; i < frameCount; i++)
            frames.Add(reader.Frame(derivation));
        ReproducibleEnvironment? environment = version >= 2 ? reader.Environment() : null;
        var streams = new List<(ulong Key, RngState State)>();
        if (version >= 2)
        {
            uint streamCount = reader.Count(minimumBytesEach: 8 + 4 + 8 + 4);
            var keys = new HashSet<ulong>();
            for (uint i = 0; i < streamCount; i++)
            {
                ulong key = reader.U64();
                if (!keys.Add(key))
                    throw new FormatException($"The snapshot records stream {key} twice.");
                streams.Add((key, reader.State()));
            }
        }
        var claims = new List<(ulong Anchor, ClaimCount Claims)>();
        if (version >= 3)
        {
            uint claimCount = reader.Count(minimumBytesEach: 24);
            var anchors = new HashSet<ulong>();
            for (uint i = 0; i < claimCount; i++)
            {
                ulong anchor = reader.U64();
                long all = reader.I64(), registered = reader.I64();
                if (!anchors.Add(anchor) || all < 1 || registered < 0 || registered > all)
                    throw new FormatException("The snapshot's stream claims are invalid (repeated, empty, or more registered than claimed).");
                claims.Add((anchor, new ClaimCount(all, registered)));
            }
        }
        reader.End();

        foreach (RngState state in AllStates())
        {
            if (!state.SameShape(reference))
                throw new FormatException("The snapshot's generator states differ in size from each other.");
        }
        return new SnapshotData { RootSeed = rootSeed, Derivation = derivation, Reference = reference, Current = current, Root = root, Frames = frames, Environment = environment, Streams = streams, Claims = claims };

        IEnumerable<RngState> AllStates()
        {
            yield return current;
            foreach (FrameData frame in frames)
            {
                if (frame.Saved is not null)
                    yield return frame.Saved;
            }
            foreach ((_, RngState state) in streams)
                yield return state;
        }
    }

    private ref struct Reader(ReadOnlySpan<byte> payload)
    {
        private ReadOnlySpan<byte> _rest = payload;

        private ReadOnlySpan<byte> Take(int count)
        {
            if (count > _rest.Length)
                throw new FormatException("The snapshot ends in the middle of a record.");
            ReadOnlySpan<byte> taken = _rest[..count];
            _rest = _rest[count..];
            return taken;
        }

        public byte U8() => Take(1)[0];
        public uint U32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));
        public ulong U64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));
        public long I64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

        /// <summary>A count of records that must fit in what is left, so no count can make us allocate beyond the input.</summary>
        public uint Count(int minimumBytesEach)
        {
            uint count = U32();
            if ((ulong)count * (ulong)minimumBytesEach > (ulong)_rest.Length)
                throw new FormatException($"The snapshot announces {count} records, more than its remaining {_rest.Length} bytes can hold.");
            return count;
        }

        public void End()
        {
            if (!_rest.IsEmpty)
                throw new FormatException($"The snapshot has {_rest.Length} unexpected bytes after its last record.");
        }

        public RngState State()
        {
            uint cpuLength = U32();
            if (cpuLength == 0 || cpuLength > MaxCpuStateSize)
                throw new FormatException($"The snapshot's CPU generator state is {cpuLength} bytes, which no libtorch uses.");
            ReadOnlySpan<byte> cpu = Take((int)cpuLength);
            if (cpuLength == CpuGeneratorState.Size && CpuGeneratorState.Validate(cpu) is { } reason)
                throw new FormatException($"The snapshot's CPU generator state is invalid: {reason}.");
            ulong managed = U64();
            uint devices = Count(minimumBytesEach: 16);
            if (devices > MaxCudaDevices)
                throw new FormatException($"The snapshot claims {devices} CUDA devices.");
            var state = new RngState((int)cpuLength, (int)devices) { Managed = managed };
            cpu.CopyTo(state.Cpu);
            for (int device = 0; device < devices; device++)
            {
                var cuda = new CudaGeneratorState(U64(), U64());
                if (cuda.Offset % 4 != 0)
                    throw new FormatException($"The snapshot's CUDA offset for device {device} ({cuda.Offset}) is not a multiple of 4, so no CUDA generator produced it.");
                state.Cuda[device] = cuda;
            }
            return state;
        }

        public ReproducibleEnvironment? Environment()
        {
            byte present = U8();
            if (present > 1)
                throw new FormatException("The snapshot's environment flag is neither 0 nor 1.");
            if (present == 0)
                return null;
            uint count = Count(minimumBytesEach: 4);
            if (count > MaxEnvironmentEntries)
                throw new FormatException($"The snapshot's environment record claims {count} entries.");
            var pairs = new Dictionary<string, string>((int)count);
            for (uint i = 0; i < count; i++)
            {
                string name = Text(), value = Text();
                if (!pairs.TryAdd(name, value))
                    throw new FormatException($"The snapshot's environment record names '{name}' twice.");
            }
            return ReproducibleEnvironment.FromPairs(pairs);
        }

        private string Text()
        {
            int length = BinaryPrimitives.ReadUInt16LittleEndian(Take(2));
            try
            {
                return new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(Take(length));
            }
            catch (ArgumentException e)
            {
                throw new FormatException("The snapshot's environment record is not valid UTF-8.", e);
            }
        }

        public FrameData Frame(BlockDerivation derivation)
        {
            long blockSeed = I64();
            long ordinal = I64();
            byte restore = U8();
            if (restore > 1)
                throw new FormatException("The snapshot's restore-on-exit flag is neither 0 nor 1.");
            if (ordinal < 0)
                throw new FormatException($"The snapshot records a negative instance ordinal ({ordinal}).");
            if (derivation == BlockDerivation.ResetAndAdvance && blockSeed is < 0 or > ResetAndAdvanceDerivation.MaxBlockSeed)
                throw new FormatException($"The snapshot records block seed {blockSeed}, which ResetAndAdvance does not allow.");
            RngState? saved = restore == 1 ? State() : null;
            uint count = Count(minimumBytesEach: 16);
            var counts = new Dictionary<long, long>((int)count);
            for (uint i = 0; i < count; i++)
            {
                long seed = I64();
                long instances = I64();
                // long.MaxValue cannot be counted further: the next instance block would overflow its ordinal.
                if (instances is < 0 or long.MaxValue || !counts.TryAdd(seed, instances))
                    throw new FormatException("The snapshot's instance counters are invalid (negative, at their maximum, or repeated).");
            }
            return new FrameData(blockSeed, ordinal, restore == 1, saved, counts, U64());
        }
    }
}
