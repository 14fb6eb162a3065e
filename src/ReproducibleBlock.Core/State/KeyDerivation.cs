using System;
using System.Buffers.Binary;
using System.IO.Hashing;

namespace ReproducibleBlock.State;

/// <summary>
/// The stable, documented derivation of block keys (the <see cref="BlockDerivation.Keyed"/> derivation).
/// </summary>
/// <remarks>
/// <para>
/// Every function here is fixed forever: changing one changes every number a user has ever drawn.
/// XXH64 is specified (github.com/Cyan4973/xxHash, doc/xxhash_spec.md) and implemented by
/// System.IO.Hashing, so it is the same on every platform and in every process, unlike string.GetHashCode.
/// </para>
/// <list type="bullet">
/// <item>root key = XXH64(little-endian int64 root seed, seed: <see cref="RootDomain"/>)</item>
/// <item>block key = XXH64(little-endian uint64 parent key ‖ int64 block seed ‖ int64 ordinal, seed: <see cref="BlockDomain"/>),
/// where the parent key is the enclosing block's key or the root key, and the ordinal is 0 for
/// <see cref="Reproducible.Block"/> and the instance number for <see cref="Reproducible.InstanceBlock"/>.</item>
/// <item>managed generator state = SplitMix64 finalizer(key XOR <see cref="ManagedDomain"/>);
/// CUDA seed = SplitMix64 finalizer(key XOR <see cref="CudaDomain"/>); CPU state: see <see cref="CpuGeneratorState.Derive"/>.</item>
/// <item>continuation seed (CUDA without state exports) = XXH64(parent key ‖ exit counter, seed: <see cref="ContinuationDomain"/>).</item>
/// <item>epoch key (an epoch of a <see cref="ReproducibleSampler"/>) = XXH64(key of the block open when the epoch starts ‖ int64 stream
/// seed ‖ int64 epoch, seed: <see cref="EpochDomain"/>); sample key = XXH64(epoch key ‖ int64 position in the epoch, seed:
/// <see cref="SampleDomain"/>). A sample's CPU and managed states derive from its key as a block's do.</item>
/// </list>
/// <para>
/// Neighbouring block seeds therefore get unrelated keys (no shifted copies), any <see cref="long"/> is a
/// valid block seed, and the cost does not depend on the seed's value.
/// </para>
/// </remarks>
internal static class KeyDerivation
{
    /// <summary>Domain separation: "RB.root\0" as a little-endian integer.</summary>
    internal const long RootDomain = 0x00746F6F722E4252;
    /// <summary>Domain separation: "RB.block" as a little-endian integer.</summary>
    internal const long BlockDomain = 0x6B636F6C622E4252;
    /// <summary>Domain separation: "RB.cont\0" as a little-endian integer.</summary>
    internal const long ContinuationDomain = 0x00746E6F632E4252;
    /// <summary>Domain separation: "RB.epoch" as a little-endian integer.</summary>
    internal const long EpochDomain = 0x68636F70652E4252;
    /// <summary>Domain separation: "RB.sampl" as a little-endian integer.</summary>
    internal const long SampleDomain = 0x6C706D61732E4252;
    /// <summary>Domain separation: "managed\0" as a little-endian integer.</summary>
    internal const ulong ManagedDomain = 0x00646567616E616D;
    /// <summary>Domain separation: "cuda\0\0\0\0" as a little-endian integer.</summary>
    internal const ulong CudaDomain = 0x0000000061647563;

    /// <summary>The key of the root, from which top-level blocks derive.</summary>
    public static ulong Root(long rootSeed)
    {
        Span<byte> input = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(input, rootSeed);
        return XxHash64.HashToUInt64(input, RootDomain);
    }

    /// <summary>The key of a block entered under <paramref name="parentKey"/>.</summary>
    public static ulong Child(ulong parentKey, long blockSeed, long ordinal)
    {
        Span<byte> input = stackalloc byte[24];
        BinaryPrimitives.WriteUInt64LittleEndian(input, parentKey);
        BinaryPrimitives.WriteInt64LittleEndian(input[8..], blockSeed);
        BinaryPrimitives.WriteInt64LittleEndian(input[16..], ordinal);
        return XxHash64.HashToUInt64(input, BlockDomain);
    }

    /// <summary>A fresh CUDA seed for the n-th restoring exit under a parent, where CUDA state cannot be read back.</summary>
    public static ulong Continuation(ulong parentKey, ulong exitCount)
    {
        Span<byte> input = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(input, parentKey);
        BinaryPrimitives.WriteUInt64LittleEndian(input[8..], exitCount);
        return XxHash64.HashToUInt64(input, ContinuationDomain);
    }

    /// <summary>The key of one epoch of a sampler whose order was drawn in the block with <paramref name="blockKey"/>.</summary>
    public static ulong Epoch(ulong blockKey, long streamSeed, long epoch)
    {
        Span<byte> input = stackalloc byte[24];
        BinaryPrimitives.WriteUInt64LittleEndian(input, blockKey);
        BinaryPrimitives.WriteInt64LittleEndian(input[8..], streamSeed);
        BinaryPrimitives.WriteInt64LittleEndian(input[16..], epoch);
        return XxHash64.HashToUInt64(input, EpochDomain);
    }

    /// <summary>The key of the sample at <paramref name="position"/> of an epoch.</summary>
    public static ulong Sample(ulong epochKey, long position)
    {
        Span<byte> input = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(input, epochKey);
        BinaryPrimitives.WriteInt64LittleEndian(input[8..], position);
        return XxHash64.HashToUInt64(input, SampleDomain);
    }

    /// <summary>The managed generator's state for a block key.</summary>
    public static ulong ManagedState(ulong key) => SplitMix64.Mix(key ^ ManagedDomain);

    /// <summary>The CUDA Philox seed (the same on every device, as torch.cuda.manual_seed_all does) for a block key.</summary>
    public static ulong CudaSeed(ulong key) => SplitMix64.Mix(key ^ CudaDomain);
}
