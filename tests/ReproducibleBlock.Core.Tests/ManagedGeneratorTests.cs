using System;
using System.Buffers.Binary;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.State;

namespace ReproducibleBlock.Tests;

/// <summary>
/// <see cref="Reproducible.Random"/> against the documented algorithm (SplitMix64 outputs, Lemire's unbiased bounded
/// draw), where the two can part: bounds that force rejection, bounds that need no draw, argument checks.
/// </summary>
[TestClass]
public sealed class ManagedGeneratorTests
{
    private const ulong State = 0x0123_4567_89AB_CDEF;

    [TestMethod]
    [DataRow(-(1L << 62), (1L << 62) + 1)]        // a range of 2^63 + 1: about half of all outputs are rejected
    [DataRow(long.MinValue, 1L << 62)]            // a range of 3 * 2^62: a quarter rejected
    [DataRow(long.MinValue, long.MaxValue)]       // a range of 2^64 - 1: almost none rejected
    [DataRow(0L, 3L)]
    public void BoundedDraws_FollowLemiresAlgorithm_RejectionsIncluded(long min, long max)
    {
        var random = new BlockRandom(State);
        var model = new StreamModelTests.ManagedModel(State);
        ulong range = unchecked((ulong)max - (ulong)min);
        for (int i = 0; i < 500; i++)
            Assert.AreEqual(unchecked(min + (long)model.Below(range)), random.NextInt64(min, max), $"draw {i}");
    }

    [TestMethod]
    public void RangesOfZeroOrOneValue_GiveThatValue_WithoutDrawing()
    {
        var random = new BlockRandom(State);
        Assert.AreEqual(0, random.Next(0));
        Assert.AreEqual(0, random.Next(1));
        Assert.AreEqual(0L, random.NextInt64(0));
        Assert.AreEqual(0L, random.NextInt64(1));
        Assert.AreEqual(5, random.Next(5, 5));
        Assert.AreEqual(5, random.Next(5, 6));
        Assert.AreEqual(-7L, random.NextInt64(-7, -6));
        Assert.AreEqual(State, random.State, "no draw was made");
        Assert.AreEqual(new StreamModelTests.ManagedModel(State).Below(10), (ulong)random.NextInt64(10), "and the stream goes on from where it was");
    }

    [TestMethod]
    public void NegativeOrInvertedBounds_Throw()
    {
        var random = new BlockRandom(State);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => random.NextInt64(-1));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => random.Next(-1));
        var inverted = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => random.NextInt64(5, 4));
        StringAssert.Contains(inverted.Message, "minValue (5) must not exceed maxValue (4)");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => random.Next(5, 4));
        Assert.AreEqual(State, random.State);
    }

    [TestMethod]
    public void NextBytes_NullBuffer_Throws() =>
        Assert.ThrowsExactly<ArgumentNullException>(() => new BlockRandom(State).NextBytes((byte[])null!));

    [TestMethod]
    public void NextBytes_OfAnyLength_AreTheLittleEndianOutputs_WithTheLastOneCut()
    {
        for (int length = 0; length <= 17; length++)
        {
            ulong counter = State;
            byte[] expected = new byte[(length + 7) / 8 * 8];
            for (int i = 0; i < expected.Length; i += 8)
            {
                counter += 0x9E3779B97F4A7C15; // SplitMix64: the counter steps by the golden gamma, the output is its mix
                BinaryPrimitives.WriteUInt64LittleEndian(expected.AsSpan(i), StreamModelTests.Mix(counter));
            }
            byte[] drawn = new byte[length];
            new BlockRandom(State).NextBytes(drawn);
            CollectionAssert.AreEqual(expected[..length], drawn, $"{length} bytes");
        }
    }
}
