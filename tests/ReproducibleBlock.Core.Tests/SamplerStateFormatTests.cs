using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO.Hashing;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace ReproducibleBlock.Tests;

/// <summary>
/// The sampler state's byte layout, written here independently ("RBLKSAMP" | u16 version | i64 count | u8 shuffle |
/// i64 stream seed | [u8 sharded | (i32 global batch size | u8 drop last | i32 rank | i32 world size) when sharded,
/// from version 3] | i64 epochs started | u8 has epoch | [i64 number | u64 key | i64 next (the global position) |
/// i64 × count order | u8 ended (from version 2)] | u64 XXH64 of everything before), and a correctly checksummed
/// payload for each check the reader makes. Version 1 (0.2) had no ended flag: an epoch whose indices were all taken
/// was over.
/// </summary>
[TestClass]
public sealed class SamplerStateFormatTests : RuntimeTest
{
    private sealed record Layout(long Count = 4, byte Shuffle = 1, long StreamSeed = 0, long Started = 2, byte HasEpoch = 1,
        long Number = 1, ulong Key = 0xABCDEF, long Next = 2, long[]? Order = null, ushort Version = 3, byte Ended = 0, byte[]? Extra = null,
        byte Sharded = 0, int GlobalBatch = 2, byte DropLast = 0, int Rank = 0, int WorldSize = 2)
    {
        public byte[] Bytes(bool seal = true)
        {
            var bytes = new List<byte>("RBLKSAMP"u8.ToArray());
            bytes.AddRange(BitConverter.GetBytes(Version));
            void I64(long v) => bytes.AddRange(BitConverter.GetBytes(v));
            I64(Count);
            bytes.Add(Shuffle);
            I64(StreamSeed);
            if (Version >= 3)
            {
                bytes.Add(Sharded);
                if (Sharded != 0)
                {
                    bytes.AddRange(BitConverter.GetBytes(GlobalBatch));
                    bytes.Add(DropLast);
                    bytes.AddRange(BitConverter.GetBytes(Rank));
                    bytes.AddRange(BitConverter.GetBytes(WorldSize));
                }
            }
            I64(Started);
            bytes.Add(HasEpoch);
            if (HasEpoch != 0)
            {
                I64(Number);
                I64(unchecked((long)Key));
                I64(Next);
                foreach (long index in Order ?? [2, 0, 3, 1])
                    I64(index);
                if (Version >= 2)
                    bytes.Add(Ended);
            }
            bytes.AddRange(Extra ?? []);
            byte[] body = [.. bytes];
            return seal ? [.. body, .. BitConverter.GetBytes(XxHash64.HashToUInt64(body))] : body;
        }
    }

    private static void Rejected(Layout layout, string message)
    {
        var sampler = new ReproducibleSampler(4);
        var error = Assert.ThrowsExactly<FormatException>(() => sampler.LoadState(layout.Bytes()));
        StringAssert.Contains(error.Message, message);
        Assert.AreEqual(0L, sampler.EpochsStarted, "a refused state changes nothing");
    }

    [TestMethod]
    public void IndependentLayout_IsWhatSaveStateWrites_AndLoads()
    {
        Reproducible.SetSeed(3);
        var sampler = new ReproducibleSampler(4, shuffle: true, streamSeed: 9);
        _ = sampler.ToArray();
        using IEnumerator<long> epoch = sampler.GetEnumerator();
        epoch.MoveNext();
        epoch.MoveNext();
        byte[] saved = sampler.SaveState();
        long[] order = Enumerable.Range(0, 4).Select(i => BinaryPrimitives.ReadInt64LittleEndian(saved.AsSpan(8 + 2 + 8 + 1 + 8 + 1 + 8 + 1 + 24 + 8 * i))).ToArray();
        ulong key = BinaryPrimitives.ReadUInt64LittleEndian(saved.AsSpan(8 + 2 + 8 + 1 + 8 + 1 + 8 + 1 + 8));
        CollectionAssert.AreEqual(new Layout(StreamSeed: 9, Started: 2, Number: 1, Key: key, Next: 2, Order: order).Bytes(), saved);

        var loaded = new ReproducibleSampler(4, shuffle: true, streamSeed: 9);
        loaded.LoadState(new Layout(StreamSeed: 9, Key: key, Order: order).Bytes());
        Assert.AreEqual(2L, loaded.PositionInEpoch);
        Assert.AreEqual(1L, loaded.NextEpoch);
        CollectionAssert.AreEqual(order[2..], loaded.ToArray());
    }

    [TestMethod]
    public void AFreshSampler_SavesNoEpoch_AndLoadsIntoOne()
    {
        byte[] saved = new ReproducibleSampler(4).SaveState();
        CollectionAssert.AreEqual(new Layout(Started: 0, HasEpoch: 0).Bytes(), saved);
        var loaded = new ReproducibleSampler(4);
        loaded.LoadState(saved);
        Assert.AreEqual(0L, loaded.NextEpoch);
        Assert.AreEqual(0L, loaded.PositionInEpoch);
    }

    [TestMethod]
    public void NotAState_ShortOrForeign_IsRefused()
    {
        Assert.ThrowsExactly<FormatException>(() => new ReproducibleSampler(4).LoadState(new byte[45]));
        byte[] valid = new Layout(Started: 0, HasEpoch: 0).Bytes();
        Assert.AreEqual(45, valid.Length);
        new ReproducibleSampler(4).LoadState(valid); // the shortest state is read
        var shortest = Assert.ThrowsExactly<FormatException>(() => new ReproducibleSampler(4).LoadState(valid.AsSpan(0, 43)));
        StringAssert.Contains(shortest.Message, "not a ReproducibleSampler state");
        Assert.ThrowsExactly<FormatException>(() => new ReproducibleSampler(4).LoadState(new Layout(Started: 0, HasEpoch: 0, Version: 2).Bytes().AsSpan(0, 43)));
        byte[] flipped = (byte[])valid.Clone();
        flipped[20] ^= 1;
        StringAssert.Contains(Assert.ThrowsExactly<FormatException>(() => new ReproducibleSampler(4).LoadState(flipped)).Message, "checksum");
        var foreign = Assert.ThrowsExactly<FormatException>(() => new ReproducibleSampler(4).LoadState("RBLKSNAP"u8.ToArray().Concat(valid[8..]).ToArray()));
        StringAssert.Contains(foreign.Message, "not a ReproducibleSampler state");
    }

    [TestMethod]
    public void EachCheck_RefusesACraftedState()
    {
        Rejected(new Layout(Version: 4), "format version 4");
        Rejected(new Layout(Ended: 2), "end-of-epoch flag is neither 0 nor 1");
        Rejected(new Layout(Count: 5, Order: [0, 1, 2, 3, 4]), "a sampler of 5 samples");
        Rejected(new Layout(Shuffle: 0), "shuffle: False");
        Rejected(new Layout(StreamSeed: 1), "stream seed 1");
        Rejected(new Layout(HasEpoch: 2), "epoch record is inconsistent");
        Rejected(new Layout(Started: -1, HasEpoch: 0), "epoch record is inconsistent");
        Rejected(new Layout(Started: 0), "epoch record is inconsistent");
        Rejected(new Layout(Started: 3, HasEpoch: 0), "epoch record is inconsistent");
        Rejected(new Layout(Number: 0), "current epoch is inconsistent");
        Rejected(new Layout(Next: -1), "current epoch is inconsistent");
        Rejected(new Layout(Next: 5), "current epoch is inconsistent");
        Rejected(new Layout(Order: [0, 1, 2]), "current epoch is inconsistent");
        Rejected(new Layout(Order: [0, 1, 2, 2]), "not a permutation");
        Rejected(new Layout(Order: [0, 1, 2, 4]), "not a permutation");
        Rejected(new Layout(Order: [0, 1, -1, 3]), "not a permutation");
        // An epoch announced, then only 4 of the 8 bytes of its number.
        byte[] body = new Layout(Started: 0, HasEpoch: 0).Bytes(seal: false);
        BinaryPrimitives.WriteInt64LittleEndian(body.AsSpan(28), 1);
        body[36] = 1;
        byte[] cut = [.. body, 0, 0, 0, 0];
        byte[] sealedCut = [.. cut, .. BitConverter.GetBytes(XxHash64.HashToUInt64(cut))];
        StringAssert.Contains(Assert.ThrowsExactly<FormatException>(() => new ReproducibleSampler(4).LoadState(sealedCut)).Message, "ends in the middle of a record");
        Rejected(new Layout(HasEpoch: 0, Started: 0, Extra: [1, 2, 3, 4, 5, 6, 7, 8]), "unexpected bytes");
    }

    [TestMethod]
    public void AStateOfAnEpochWhoseLoopIsOver_StartsTheNextOne()
    {
        Reproducible.SetSeed(3);
        var loaded = new ReproducibleSampler(4);
        loaded.LoadState(new Layout(Next: 4, Ended: 1).Bytes());
        Assert.AreEqual(2L, loaded.NextEpoch);
        Assert.AreEqual(4L, loaded.PositionInEpoch);
        Assert.AreEqual(4, loaded.ToArray().Length);
        Assert.AreEqual(3L, loaded.EpochsStarted);
    }

    [TestMethod]
    public void AStateTakenInTheLastBatch_ContinuesItsEpoch_WhichGivesNoMore()
    {
        // All indices taken, the loop not over: the epoch's end-of-epoch code has not run, and runs when resumed.
        Reproducible.SetSeed(3);
        var loaded = new ReproducibleSampler(4);
        loaded.LoadState(new Layout(Next: 4, Ended: 0).Bytes());
        Assert.AreEqual(1L, loaded.NextEpoch);
        Assert.AreEqual(0, loaded.ToArray().Length);
        Assert.AreEqual(2L, loaded.EpochsStarted);
        Assert.AreEqual(2L, loaded.NextEpoch, "that enumeration ended the epoch");
    }

    [TestMethod]
    [DataRow(2L, 1L, DisplayName = "mid-epoch: continues it")]
    [DataRow(4L, 2L, DisplayName = "all taken: the next epoch")]
    public void AVersionOneState_IsRead_AsZeroPointTwoMeantIt(long next, long nextEpoch)
    {
        Reproducible.SetSeed(3);
        var loaded = new ReproducibleSampler(4);
        loaded.LoadState(new Layout(Version: 1, Next: next).Bytes());
        Assert.AreEqual(nextEpoch, loaded.NextEpoch);
    }

    [TestMethod]
    public void AShardedState_RecordsTheGlobalPosition_AndWhereItWasSaved()
    {
        Reproducible.SetSeed(3);
        var sampler = ReproducibleSampler.ForRank(4, globalBatchSize: 2, new DataParallel(1, 2), streamSeed: 9);
        _ = sampler.ToArray();
        using IEnumerator<long> epoch = sampler.GetEnumerator();
        Assert.IsTrue(epoch.MoveNext()); // rank 1's shard of global batch 0: position 1
        Assert.AreEqual(1L, sampler.PositionInEpoch, "this rank's count");
        byte[] saved = sampler.SaveState();
        const int epochRecord = 8 + 2 + 8 + 1 + 8 + 1 + 13 + 8 + 1;
        ulong key = BinaryPrimitives.ReadUInt64LittleEndian(saved.AsSpan(epochRecord + 8));
        long[] order = Enumerable.Range(0, 4).Select(i => BinaryPrimitives.ReadInt64LittleEndian(saved.AsSpan(epochRecord + 24 + 8 * i))).ToArray();
        var expected = new Layout(StreamSeed: 9, Key: key, Order: order, Next: 2, Sharded: 1, GlobalBatch: 2, Rank: 1, WorldSize: 2);
        CollectionAssert.AreEqual(expected.Bytes(), saved, "the next global position is 2: global batch 0 is done");

        // Rank 0 of 1 loads it and continues with global batch 1, positions 2 and 3.
        var alone = ReproducibleSampler.ForRank(4, globalBatchSize: 2, DataParallel.Single, streamSeed: 9);
        alone.LoadState(saved);
        Assert.AreEqual(2L, alone.PositionInEpoch);
        CollectionAssert.AreEqual(order[2..], alone.ToArray());
    }

    private static void RejectedBy(ReproducibleSampler sampler, Layout layout, string message)
    {
        var error = Assert.ThrowsExactly<FormatException>(() => sampler.LoadState(layout.Bytes()));
        StringAssert.Contains(error.Message, message);
        Assert.AreEqual(0L, sampler.EpochsStarted, "a refused state changes nothing");
    }

    [TestMethod]
    public void EachShardingCheck_RefusesACraftedState()
    {
        ReproducibleSampler Sharded(int size = 2, bool dropLast = false) => ReproducibleSampler.ForRank(4, size, new DataParallel(0, 2), dropLast);
        RejectedBy(Sharded(), new Layout(), "was not sharded; this one shards global batches of 2 (drop last: False) over 2 rank(s)");
        RejectedBy(new ReproducibleSampler(4), new Layout(Sharded: 1), "saved by rank 0 of 2 with global batches of 2 (drop last: False); this sampler is not sharded");
        RejectedBy(Sharded(size: 4), new Layout(Sharded: 1), "global batches of 2");
        RejectedBy(Sharded(dropLast: true), new Layout(Sharded: 1), "drop last: False");
        RejectedBy(Sharded(), new Layout(Sharded: 2), "sharding record is malformed");
        RejectedBy(Sharded(), new Layout(Sharded: 1, DropLast: 2), "sharding record is malformed");
        RejectedBy(Sharded(), new Layout(Sharded: 1, GlobalBatch: 0), "sharding record is malformed");
        RejectedBy(Sharded(), new Layout(Sharded: 1, WorldSize: 0), "sharding record is malformed");
        RejectedBy(Sharded(), new Layout(Sharded: 1, Rank: 2), "sharding record is malformed");
        RejectedBy(Sharded(), new Layout(Sharded: 1, Rank: -1), "sharding record is malformed");
        RejectedBy(Sharded(), new Layout(Sharded: 1, Next: 1), "current epoch is inconsistent"); // inside global batch 0
        // Another world size is not a difference: a state resumes on any that divides the global batch.
        Sharded().LoadState(new Layout(Sharded: 1, Rank: 0, WorldSize: 1).Bytes());
    }

    [TestMethod]
    public void ASamplerTooLargeForOneArray_IsRefused() =>
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new ReproducibleSampler((long)Array.MaxLength + 1));
}
