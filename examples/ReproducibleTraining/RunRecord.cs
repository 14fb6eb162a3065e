using System;
using System.Buffers.Binary;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.IO.Hashing;
using TorchSharp;
using static TorchSharp.torch;

namespace ReproducibleBlock.Training;

/// <summary>
/// What the run drew that the contract tests compare between runs: every dropout mask of the classifier and every
/// epoch's sample order, as bytes, from the first batch of the run (a resumed run starts from the checkpoint's bytes).
/// </summary>
/// <remarks>
/// <para>
/// The bytes, which the <c>classifier-masks:</c> and <c>data-order:</c> lines hash with XXH64 (seed 0):
/// </para>
/// <list type="bullet">
/// <item>A mask: one byte per element, 1 where the element was kept and 0 where it was dropped, in row-major order
/// (a batch of 32 gives 32 × 144 = 4,608 bytes). The masks follow each other in the order they were drawn.</item>
/// <item>The data order: each sample index as the sampler handed it to the DataLoader, an int64 little-endian, epoch
/// after epoch (192 indices, 1,536 bytes, per epoch).</item>
/// </list>
/// <para>
/// XxHash64 has no state that can be saved, so a checkpoint carries the bytes themselves (<see cref="Write"/>,
/// <see cref="Read"/>): about 88 KB for a whole run of 3 epochs here (83 KB of masks). A long run would hash one
/// hash per epoch instead, and keep only those.
/// </para>
/// </remarks>
internal sealed class RunRecord
{
    /// <summary>Mask bytes per sample trained: the classifier's dropout sees <see cref="Classifier.InputFeatures"/> values per sample.</summary>
    public const int MaskBytesPerSample = Classifier.InputFeatures;

    private const string MasksFile = "classifier-masks.bin", OrderFile = "data-order.bin";

    private readonly MemoryStream _masks = new();
    private readonly MemoryStream _order = new();

    /// <summary>An empty record, for a run from the start.</summary>
    public RunRecord()
    {
    }

    private RunRecord(byte[] masks, byte[] order)
    {
        _masks.Write(masks);
        _order.Write(order);
    }

    /// <summary>Where <c>--mask-log</c> writes a line per mask (<c>EPOCH:BATCH</c>, a space, the mask's XXH64), or null.</summary>
    public TextWriter? MaskLog { get; set; }

    /// <summary>The batch being trained, for the mask log's lines; the trainer sets it before each step.</summary>
    public TrainingPoint Step { get; set; }

    /// <summary>XXH64 (seed 0) of every mask's bytes so far.</summary>
    public ulong MasksHash => XxHash64.HashToUInt64(_masks.GetBuffer().AsSpan(0, (int)_masks.Length));

    /// <summary>XXH64 (seed 0) of every index the sampler handed out so far, as int64 little-endian.</summary>
    public ulong OrderHash => XxHash64.HashToUInt64(_order.GetBuffer().AsSpan(0, (int)_order.Length));

    /// <summary>Records a mask drawn by the classifier's <see cref="RecordedDropout"/> (1 kept, 0 dropped), and logs its hash.</summary>
    public void AddMask(Tensor mask)
    {
        using Tensor bytes = mask.to_type(ScalarType.Byte).cpu().contiguous();
        ReadOnlySpan<byte> span = bytes.bytes;
        _masks.Write(span);
        MaskLog?.Write($"{Step} {XxHash64.HashToUInt64(span):x16}\n");
    }

    /// <summary>Records one index handed to the DataLoader.</summary>
    public void AddIndex(long index)
    {
        Span<byte> bytes = stackalloc byte[sizeof(long)];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, index);
        _order.Write(bytes);
    }

    /// <summary>The sampler as the DataLoader's shuffler, recording each index it hands out.</summary>
    public IEnumerable<long> Recording(ReproducibleSampler sampler) => new RecordedOrder(sampler, this);

    /// <summary>Writes the bytes so far into a checkpoint directory, each file followed by its XXH64 as a checksum.</summary>
    public void Write(string directory)
    {
        WriteChecked(Path.Combine(directory, MasksFile), _masks);
        WriteChecked(Path.Combine(directory, OrderFile), _order);

        static void WriteChecked(string path, MemoryStream content)
        {
            ReadOnlySpan<byte> bytes = content.GetBuffer().AsSpan(0, (int)content.Length);
            Span<byte> checksum = stackalloc byte[sizeof(ulong)];
            BinaryPrimitives.WriteUInt64LittleEndian(checksum, XxHash64.HashToUInt64(bytes));
            using FileStream file = File.Create(path);
            file.Write(bytes);
            file.Write(checksum);
        }
    }

    /// <summary>
    /// Reads what <see cref="Write"/> wrote, for a run that had trained <paramref name="samplesTrained"/> samples, and
    /// checks it: the checksums, the lengths, mask bytes of 0 or 1, and every epoch's order a permutation of the indices
    /// (the last, unfinished one, distinct indices).
    /// </summary>
    /// <exception cref="IOException">A file is missing or unreadable.</exception>
    /// <exception cref="FormatException">A file is damaged or does not fit the point reached.</exception>
    public static RunRecord Read(string directory, long samplesTrained)
    {
        byte[] masks = ReadChecked(directory, MasksFile, samplesTrained * MaskBytesPerSample);
        foreach (byte value in masks)
        {
            if (value > 1)
                throw new FormatException($"{MasksFile} in {directory} holds a mask byte of {value}; mask bytes are 0 or 1.");
        }

        byte[] order = ReadChecked(directory, OrderFile, samplesTrained * sizeof(long));
        var seen = new bool[Trainer.Samples];
        for (int i = 0; i < samplesTrained; i++)
        {
            if (i % Trainer.Samples == 0)
                Array.Clear(seen);
            long index = BinaryPrimitives.ReadInt64LittleEndian(order.AsSpan(i * sizeof(long)));
            if (index < 0 || index >= Trainer.Samples || seen[index])
                throw new FormatException($"{OrderFile} in {directory}: epoch {(i / Trainer.Samples) + 1} is not an order of the {Trainer.Samples} sample indices.");
            seen[index] = true;
        }
        return new RunRecord(masks, order);

        static byte[] ReadChecked(string directory, string name, long expectedLength)
        {
            byte[] file = File.ReadAllBytes(Path.Combine(directory, name));
            if (file.LongLength != expectedLength + sizeof(ulong))
                throw new FormatException($"{name} in {directory} has {file.Length} bytes; the point reached needs {expectedLength} and an 8-byte checksum.");
            byte[] content = file[..^sizeof(ulong)];
            if (XxHash64.HashToUInt64(content) != BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(file.Length - sizeof(ulong))))
                throw new FormatException($"{name} in {directory} does not match its checksum: the file was damaged.");
            return content;
        }
    }

    /// <summary>
    /// Hands out the sampler's indices and records each. <see cref="GetEnumerator"/> enumerates the sampler at once
    /// (which starts its epoch) so that the epoch starts exactly where it would without this wrapper.
    /// </summary>
    private sealed class RecordedOrder(ReproducibleSampler sampler, RunRecord record) : IEnumerable<long>
    {
        public IEnumerator<long> GetEnumerator() => Record(sampler.GetEnumerator());

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        private IEnumerator<long> Record(IEnumerator<long> order)
        {
            using (order)
            {
                while (order.MoveNext())
                {
                    record.AddIndex(order.Current);
                    yield return order.Current;
                }
            }
        }
    }
}
