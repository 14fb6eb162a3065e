using System;
using System.Buffers.Binary;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.IO.Hashing;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace ReproducibleBlock.Training;

/// <summary>
/// What the run drew, which the contract tests compare between runs: every dropout mask of the classifier, every epoch's
/// sample order and every draw of the end-of-epoch step, as bytes, from the start of the run. It is part of every
/// checkpoint (<see cref="Save"/>, <see cref="Load"/>, tracked by the <see cref="TrainingRun"/>), so a resumed run's
/// lines cover the whole run too.
/// </summary>
/// <remarks>
/// <para>
/// The bytes, which the <c>classifier-masks:</c>, <c>data-order:</c> and <c>epoch-end:</c> lines hash with XXH64 (seed 0):
/// </para>
/// <list type="bullet">
/// <item>A mask: one byte per element, 1 where the element was kept and 0 where it was dropped, in row-major order
/// (a batch of 32 gives 32 × 144 = 4,608 bytes). The masks follow each other in the order they were drawn.</item>
/// <item>The data order: each sample index as the sampler handed it to the DataLoader, an int64 little-endian, epoch
/// after epoch.</item>
/// <item>The end-of-epoch draws: each epoch's permutation of the sample indices (an int64 little-endian each).</item>
/// </list>
/// <para>
/// XxHash64 has no state that can be saved, so a checkpoint carries the bytes themselves: about 100 KB for a whole
/// run of 3 epochs here. A long run would hash one hash per epoch instead, and keep only those.
/// </para>
/// </remarks>
/// <param name="run">The run, whose position names each line of the mask log.</param>
/// <param name="maskLog">Where <c>--mask-log</c> writes a line per mask (<c>EPOCH:BATCH</c>, a space, the mask's XXH64), or null.</param>
/// <param name="sampleLog">Where <c>--sample-log</c> writes a line per sample trained on (see <see cref="LogSamples"/>), or null.</param>
internal sealed class RunRecord(TrainingRun run, TextWriter? maskLog, TextWriter? sampleLog = null)
{
    private MemoryStream _masks = new(), _order = new(), _epochEnds = new();
    private int _epochsEnded;

    /// <summary>Where the checkpoint this run resumed from was taken; 1:0 for a run from the start.</summary>
    public TrainingPoint Resumed { get; private set; } = new(1, 0);

    public ulong MasksHash => Hash(_masks);

    public ulong OrderHash => Hash(_order);

    public ulong EpochEndHash => Hash(_epochEnds);

    private static ulong Hash(MemoryStream bytes) => XxHash64.HashToUInt64(bytes.GetBuffer().AsSpan(0, (int)bytes.Length));

    /// <summary>Records a mask drawn by the classifier's <see cref="RecordedDropout"/> (1 kept, 0 dropped), and logs its hash.</summary>
    public void AddMask(Tensor mask)
    {
        using Tensor bytes = mask.to_type(ScalarType.Byte).cpu().contiguous();
        ReadOnlySpan<byte> span = bytes.bytes;
        _masks.Write(span);
        maskLog?.Write($"{run.Epoch + 1}:{run.BatchInEpoch + 1} {XxHash64.HashToUInt64(span):x16}\n");
    }

    /// <summary>
    /// Logs a line per sample of <paramref name="batch"/> (<c>--sample-log</c>): <c>STEP INDEX HASH</c>, where STEP is the
    /// global step (<see cref="TrainingRun.Step"/>: the global batches the whole run trained before this one, the same on
    /// every rank and on any world size), INDEX the sample's index in the dataset, and HASH the XXH64 (seed 0), in 16
    /// lowercase hex digits, of the augmented image as the batch holds it: its 3×12×12 float32 values in row-major order,
    /// each written as 4 bytes little-endian (whatever the machine's byte order).
    /// </summary>
    public void LogSamples(Dictionary<string, Tensor> batch)
    {
        if (sampleLog is null)
            return;
        using (NewDisposeScope())
        {
            long[] indices = batch["index"].cpu().data<long>().ToArray();
            float[] values = batch["image"].cpu().contiguous().data<float>().ToArray();
            int size = values.Length / indices.Length;
            byte[] bytes = new byte[size * sizeof(float)];
            for (int sample = 0; sample < indices.Length; sample++)
            {
                for (int k = 0; k < size; k++)
                    BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(k * sizeof(float)), values[sample * size + k]);
                sampleLog.Write($"{run.Step} {indices[sample]} {XxHash64.HashToUInt64(bytes):x16}\n");
            }
        }
    }

    /// <summary>Records what the end-of-epoch step drew: a permutation of the sample indices.</summary>
    public void AddEpochEnd(Tensor permutation)
    {
        foreach (long index in permutation.data<long>())
            Append(_epochEnds, index);
        _epochsEnded++;
    }

    private static void Append(MemoryStream stream, long value)
    {
        Span<byte> bytes = stackalloc byte[sizeof(long)];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        stream.Write(bytes);
    }

    /// <summary>The sampler as the DataLoader's shuffler, recording each index it hands out.</summary>
    public IEnumerable<long> Recording(ReproducibleSampler sampler) => new RecordedOrder(sampler, this);

    /// <summary>The point of the run now, as a checkpoint taken now records it.</summary>
    private TrainingPoint Now()
    {
        int epoch = (int)run.Epoch + 1;
        return _epochsEnded == epoch ? TrainingPoint.EndOf(epoch) : new TrainingPoint(epoch, (int)run.BatchInEpoch);
    }

    /// <summary>The record's bytes, for a checkpoint: the point it is taken at, then the three records.</summary>
    public byte[] Save()
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream))
        {
            TrainingPoint now = Now();
            writer.Write(now.Epoch);
            writer.Write(now.Batch);
            writer.Write(now.EpochEnded);
            writer.Write(_epochsEnded);
            foreach (MemoryStream bytes in new[] { _masks, _order, _epochEnds })
            {
                writer.Write(bytes.Length);
                writer.Write(bytes.GetBuffer(), 0, (int)bytes.Length);
            }
        }
        return stream.ToArray();
    }

    /// <summary>Puts back what <see cref="Save"/> wrote (the checkpoint is checksummed as a whole by the run).</summary>
    /// <exception cref="FormatException">The bytes are not a record this example writes.</exception>
    public void Load(byte[] saved)
    {
        try
        {
            using var reader = new BinaryReader(new MemoryStream(saved));
            Resumed = new TrainingPoint(reader.ReadInt32(), reader.ReadInt32(), reader.ReadBoolean());
            _epochsEnded = reader.ReadInt32();
            (_masks, _order, _epochEnds) = (Read(reader), Read(reader), Read(reader));
            if (reader.BaseStream.Position != saved.Length)
                throw new FormatException("the run's record has bytes after its end.");
        }
        catch (EndOfStreamException)
        {
            throw new FormatException("the run's record in the checkpoint ends too soon.");
        }

        static MemoryStream Read(BinaryReader reader)
        {
            long length = reader.ReadInt64();
            if (length < 0 || length > reader.BaseStream.Length - reader.BaseStream.Position)
                throw new FormatException("the run's record in the checkpoint announces more bytes than it holds.");
            var stream = new MemoryStream();
            stream.Write(reader.ReadBytes((int)length));
            return stream;
        }
    }

    /// <summary>
    /// Hands out the sampler's indices and records each. It forwards every call to the sampler's enumerator, Dispose
    /// included, and nothing else: an iterator (<c>yield return</c> inside <c>using</c>) would end the sampler's epoch when
    /// its last index is taken, before the DataLoader has loaded the last batch, and the sampler would refuse that batch.
    /// </summary>
    private sealed class RecordedOrder(ReproducibleSampler sampler, RunRecord record) : IEnumerable<long>
    {
        public IEnumerator<long> GetEnumerator() => new Enumerator(sampler.GetEnumerator(), record);

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        private sealed class Enumerator(IEnumerator<long> order, RunRecord record) : IEnumerator<long>
        {
            public long Current => order.Current;

            object IEnumerator.Current => Current;

            public bool MoveNext()
            {
                if (!order.MoveNext())
                    return false;
                Append(record._order, order.Current);
                return true;
            }

            public void Reset() => order.Reset();

            public void Dispose() => order.Dispose();
        }
    }
}
