using System;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.StreamProbe;

namespace ReproducibleBlock.Tests;

/// <summary>
/// The second, independent path to the pinned streams: block keys, generator states and raw draws computed here from
/// the formulas documented in the README and in KeyDerivation's remarks (XXH64, SplitMix64, MT19937, libtorch's
/// documented transformations), with none of the library's code, then compared with what the scenarios draw through
/// libtorch.
/// </summary>
[TestClass]
public sealed class StreamModelTests : RuntimeTest
{
    private const ulong Gamma = 0x9E3779B97F4A7C15;

    internal static ulong RootKey(long rootSeed)
    {
        byte[] input = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(input, rootSeed);
        return XxHash64.HashToUInt64(input, seed: 0x00746F6F722E4252); // "RB.root\0"
    }

    internal static ulong ChildKey(ulong parent, long blockSeed, long ordinal = 0)
    {
        byte[] input = new byte[24];
        BinaryPrimitives.WriteUInt64LittleEndian(input, parent);
        BinaryPrimitives.WriteInt64LittleEndian(input.AsSpan(8), blockSeed);
        BinaryPrimitives.WriteInt64LittleEndian(input.AsSpan(16), ordinal);
        return XxHash64.HashToUInt64(input, seed: 0x6B636F6C622E4252); // "RB.block"
    }

    internal static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }

    /// <summary>The Mersenne Twister a Keyed block starts from: 624 words of SplitMix64(key), word 0 = 0x80000000.</summary>
    private static MersenneTwister Twister(ulong key)
    {
        var words = new uint[624];
        ulong stream = key;
        for (int i = 0; i < 624; i += 2)
        {
            stream += Gamma;
            ulong output = Mix(stream);
            words[i] = (uint)output;
            words[i + 1] = (uint)(output >> 32);
        }
        words[0] = 0x80000000;
        return new MersenneTwister(words);
    }

    /// <summary>
    /// The raw part of <see cref="Scenarios.TorchDraws"/> as libtorch computes it: randint below 2^31 takes random64
    /// (ranges from 2^28 up) modulo the range; random_ below 2^40 likewise; rand takes one 32-bit output's low 24 bits
    /// times 2^-24.
    /// </summary>
    private static string RawTorchDraws(MersenneTwister twister)
    {
        long[] randint = Enumerable.Range(0, 6).Select(_ => (long)(twister.NextUInt64() % (1UL << 31))).ToArray();
        long[] random = Enumerable.Range(0, 3).Select(_ => (long)(twister.NextUInt64() % (1UL << 40))).ToArray();
        string[] rand = Enumerable.Range(0, 4)
            .Select(_ => BitConverter.SingleToInt32Bits((twister.Next() & 0xFFFFFF) * (1.0f / (1 << 24))).ToString("x8"))
            .ToArray();
        return $"randint {string.Join(" ", randint)} | random_ {string.Join(" ", random)} | rand {string.Join(" ", rand)}";
    }

    private static string RawPart(string scenario) => string.Join(" | ", Scenarios.Named(scenario).Run().Split(" | ").Take(3));

    [TestMethod]
    [DataRow("keyed/block64/torch", new long[] { 64 }, new long[] { 0 }, 42L)]
    [DataRow("keyed/restore-inside/torch", new long[] { 64 }, new long[] { 0 }, 42L)]
    [DataRow("keyed/nested-1-9/torch", new long[] { 1, 9 }, new long[] { 0, 0 }, 42L)]
    [DataRow("keyed/instance300-first/torch", new long[] { 300 }, new long[] { 0 }, 42L)]
    [DataRow("keyed/instance300-second/torch", new long[] { 300 }, new long[] { 1 }, 42L)]
    [DataRow("keyed/nested-1-instance300-second/torch", new long[] { 1, 300 }, new long[] { 0, 1 }, 42L)]
    [DataRow("keyed/block-min/torch", new long[] { long.MinValue }, new long[] { 0 }, 42L)]
    [DataRow("keyed/block-max/torch", new long[] { long.MaxValue }, new long[] { 0 }, 42L)]
    [DataRow("keyed/block-minus1/torch", new long[] { -1 }, new long[] { 0 }, 42L)]
    [DataRow("keyed/root7-block64/torch", new long[] { 64 }, new long[] { 0 }, 7L)]
    public void KeyedBlock_DrawsTheTwisterDerivedFromItsKeyPath(string scenario, long[] path, long[] ordinals, long rootSeed)
    {
        ulong key = RootKey(rootSeed);
        for (int i = 0; i < path.Length; i++)
            key = ChildKey(key, path[i], ordinals[i]);
        Assert.AreEqual(RawTorchDraws(Twister(key)), RawPart(scenario));
    }

    [TestMethod]
    public void KeyedRoot_DrawsWhatManualSeedDraws() =>
        Assert.AreEqual(RawTorchDraws(new MersenneTwister(42)), RawPart("keyed/root/torch"));

    [TestMethod]
    public void AfterARestoringBlock_TheOuterStreamContinuesAsIfNothingWasDrawn()
    {
        var expected = new MersenneTwister(42);
        for (int i = 0; i < 3; i++)
            expected.Next(); // the scenario's randint(0, 10, [3]) before the block: one 32-bit output each
        Assert.AreEqual(RawTorchDraws(expected), RawPart("keyed/after-restoring-block64/torch"));
    }

    [TestMethod]
    public void AfterAKeyedBlock_DrawsContinueFromTheBlocksOwnStream()
    {
        MersenneTwister twister = Twister(ChildKey(RootKey(42), 64));
        for (int i = 0; i < 3; i++)
            twister.Next(); // randint(0, 10, [3]) inside the block
        Assert.AreEqual(RawTorchDraws(twister), RawPart("keyed/after-block64/torch"));
    }

    [TestMethod]
    [DataRow("raa/block0/torch", 0)]
    [DataRow("raa/block64/torch", 64)]
    [DataRow("raa/nested-3-5/torch", 5)]
    [DataRow("raa/instance300-second/torch", 300)]
    public void ResetAndAdvanceBlock_DrawsManualSeedsStreamSkippedByItsSeed(string scenario, int skip)
    {
        // The seed package: reset to the state after manual_seed(root), then blockSeed calls of randint(1, 10, [1]),
        // one 32-bit output each; nested and instance blocks are absolute.
        var twister = new MersenneTwister(42);
        for (int i = 0; i < skip; i++)
            twister.Next();
        Assert.AreEqual(RawTorchDraws(twister), RawPart(scenario));
    }

    /// <summary>Lemire's unbiased bounded draw over SplitMix64 outputs, as documented for Reproducible.Random.</summary>
    internal sealed class ManagedModel(ulong state)
    {
        private ulong _state = state;

        private ulong Next64()
        {
            _state += Gamma;
            return Mix(_state);
        }

        public ulong Below(ulong bound)
        {
            ulong high = Math.BigMul(Next64(), bound, out ulong low);
            if (low < bound)
            {
                ulong threshold = (0 - bound) % bound;
                while (low < threshold)
                    high = Math.BigMul(Next64(), bound, out low);
            }
            return high;
        }

        public string Draws()
        {
            long[] ints =
            [
                (long)Below(int.MaxValue), 10 + (long)Below(10), (long)Below(1000), (long)Below(long.MaxValue),
                (long)Below(1000), -5 + (long)Below(10), unchecked(long.MinValue + (long)Below(ulong.MaxValue)),
            ];
            double nextDouble = (Next64() >> 11) * (1.0 / (1UL << 53));
            float nextSingle = (Next64() >> 40) * (1.0f / (1U << 24));
            byte[] bytes = new byte[16];
            BinaryPrimitives.WriteUInt64LittleEndian(bytes, Next64());
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(8), Next64());
            return $"ints {string.Join(" ", ints)} | double {BitConverter.DoubleToInt64Bits(nextDouble):x16} | single {BitConverter.SingleToInt32Bits(nextSingle):x8} | bytes {Convert.ToHexStringLower(bytes.AsSpan(0, 13))}";
        }
    }

    private const ulong ManagedDomain = 0x00646567616E616D; // "managed\0"

    [TestMethod]
    [DataRow("keyed/block64/managed", 64L, 0L)]
    [DataRow("keyed/instance300-second/managed", 300L, 1L)]
    [DataRow("keyed/block-min/managed", long.MinValue, 0L)]
    public void KeyedBlock_ManagedDrawsFollowItsKey(string scenario, long blockSeed, long ordinal)
    {
        ulong key = ChildKey(RootKey(42), blockSeed, ordinal);
        Assert.AreEqual(new ManagedModel(Mix(key ^ ManagedDomain)).Draws(), Scenarios.Named(scenario).Run());
    }

    [TestMethod]
    public void Root_ManagedDrawsFollowTheRootKey() =>
        Assert.AreEqual(new ManagedModel(Mix(RootKey(42) ^ ManagedDomain)).Draws(), Scenarios.Named("keyed/root/managed").Run());

    [TestMethod]
    [DataRow("raa/block0/managed", 0UL)]
    [DataRow("raa/block64/managed", 64UL)]
    public void ResetAndAdvanceBlock_ManagedStateIsTheRootsAdvancedBySeedSteps(string scenario, ulong blockSeed)
    {
        ulong state = Mix(RootKey(42) ^ ManagedDomain) + blockSeed * Gamma;
        Assert.AreEqual(new ManagedModel(state).Draws(), Scenarios.Named(scenario).Run());
    }

    [TestMethod]
    public void Shuffler_IsFisherYatesOverTheBlocksManagedStream()
    {
        var model = new ManagedModel(Mix(ChildKey(RootKey(42), 5) ^ ManagedDomain));
        string Order()
        {
            long[] order = Enumerable.Range(0, 12).Select(i => (long)i).ToArray();
            for (int i = order.Length - 1; i > 0; i--)
            {
                int j = (int)model.Below((ulong)i + 1);
                (order[i], order[j]) = (order[j], order[i]);
            }
            return string.Join(" ", order);
        }
        Assert.AreEqual($"{Order()} | {Order()}", Scenarios.Named("keyed/block5/shuffler").Run());
    }

    [TestMethod]
    public void DropoutMask_OnTheGenericPath_KeepsWhereA53BitUniformIsBelowOneMinusP()
    {
        if (PinnedStreamTests.IsIntelCpu())
            Assert.Inconclusive("On Intel CPUs libtorch draws this mask through MKL, which this model does not describe.");
        // bernoulli_(1 - p) per element: random64's low 53 bits times 2^-53, kept when below 1 - p = 0.5.
        MersenneTwister twister = Twister(ChildKey(RootKey(42), 64));
        string expected = string.Concat(Enumerable.Range(0, 48).Select(_ => (twister.NextUInt64() & ((1UL << 53) - 1)) * Math.Pow(2, -53) < 0.5 ? '1' : '0'));
        Assert.AreEqual(expected, Scenarios.Named("keyed/block64/dropout").Run());
    }
}
