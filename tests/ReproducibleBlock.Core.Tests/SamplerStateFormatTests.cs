using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO.Hashing;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace ReproducibleBlock.Tests;

/// <summary>
/// The sampler state's byte layout, written here independently ("RBLKSAMP" | u16 version | i64 count | u8 shuffle |
/// i64 stream seed | i64 epochs started | u8 has epoch | [i64 number | u64 key | i64 next | i64 × count order |
/// u8 ended (version 2 only)] | u64 XXH64 of everything before), and a correctly checksummed payload for each check
/// the reader makes. Version 1 (0.2) had no ended flag: an epoch whose indices were all taken was over.
/// </summary>
/// </summary>
[TestClass]
public sealed class SamplerStateFormatTests : RuntimeTest
{
    private sealed record Layout(long Count = 4, byte Shuffle = 1, long StreamSeed = 0, long Started = 2, byte HasEpoch = 1,
        long Number = 1, ulong Key = 0xABCDEF, long Next = 2, long[]? Order = null, ushort Version = 2, byte Ended = 0, byte[]? Extra = null)
    {
        public byte[] Bytes(bool seal = true)
        {
            var bytes = new List<byte>("RBLKSAMP"u8.ToArray());
            bytes.AddRange(BitConverter.GetBytes(Version));
            void I64(long v) => bytes.AddRange(BitConverter.GetBytes(v));
            I64(Count);
            bytes.Add(Shuffle);
            I64(StreamSeed);
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
        long[] order = Enumerable.Range(0, 4).Select(i => BinaryPrimitives.ReadInt64LittleEndian(saved.AsSpan(8 + 2 + 8 + 1 + 8 + 8 + 1 + 24 + 8 * i))).ToArray();
        ulong key = BinaryPrimitives.ReadUInt64LittleEndian(saved.AsSpan(8 + 2 + 8 + 1 + 8 + 8 + 1 + 8));
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
        Assert.ThrowsExactly<FormatException>(() => new ReproducibleSampler(4).LoadState(new byte[44]));
        byte[] valid = new Layout(Started: 0, HasEpoch: 0).Bytes();
        Assert.AreEqual(44, valid.Length);
        new ReproducibleSampler(4).LoadState(valid); // the shortest state is read
        var shortest = Assert.ThrowsExactly<FormatException>(() => new ReproducibleSampler(4).LoadState(valid.AsSpan(0, 43)));
        StringAssert.Contains(shortest.Message, "not a ReproducibleSampler state");
        byte[] flipped = (byte[])valid.Clone();
        flipped[20] ^= 1;
        StringAssert.Contains(Assert.ThrowsExactly<FormatException>(() => new ReproducibleSampler(4).LoadState(flipped)).Message, "checksum");
        var foreign = Assert.ThrowsExactly<FormatException>(() => new ReproducibleSampler(4).LoadState("RBLKSNAP"u8.ToArray().Concat(valid[8..]).ToArray()));
        StringAssert.Contains(foreign.Message, "not a ReproducibleSampler state");
    }

    [TestMethod]
    public void EachCheck_RefusesACraftedState()
    {
        Rejected(new Layout(Version: 3), "format version 3");
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
        BinaryPrimitives.WriteInt64LittleEndian(body.AsSpan(27), 1);
        body[35] = 1;
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
    public void ASamplerTooLargeForOneArray_IsRefused() =>
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new ReproducibleSampler((long)Array.MaxLength + 1));
}
