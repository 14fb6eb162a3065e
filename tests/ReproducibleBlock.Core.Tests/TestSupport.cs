using System;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.State;
using TorchSharp;

[assembly: DoNotParallelize] // the torch default generator is process-global

namespace ReproducibleBlock.Tests;

/// <summary>Ways to look at what the generators produce, and to keep one failed test from breaking the next.</summary>
internal static class Draws
{
    /// <summary>
    /// n values of <c>torch.randint(0, 2^31, [n])</c>: on CPU each is one 32-bit Mersenne Twister output modulo 2^31,
    /// one output per element (PyTorch's uniform_int_from_to_distribution for ranges below 2^32).
    /// </summary>
    public static long[] Torch(int n)
    {
        using torch.Tensor drawn = torch.randint(0, 1L << 31, new long[] { n }, torch.ScalarType.Int64);
        return drawn.data<long>().ToArray();
    }

    /// <summary>n values from <see cref="Reproducible.Random"/>.</summary>
    public static long[] Managed(int n) => Enumerable.Range(0, n).Select(_ => Reproducible.Random.NextInt64()).ToArray();

    /// <summary>The torch CPU generator's state bytes.</summary>
    public static byte[] CpuState()
    {
        using torch.Tensor state = torch.get_rng_state();
        return state.bytes.ToArray();
    }

    /// <summary>A Linear layer's initial weights, flattened.</summary>
    public static float[] LinearWeights(int inputs, int outputs)
    {
        using var linear = torch.nn.Linear(inputs, outputs);
        return linear.weight!.data<float>().ToArray();
    }
}

/// <summary>Base for tests of the process-wide runtime: leaves no block open behind a failed test.</summary>
public abstract class RuntimeTest
{
    [TestCleanup]
    public void CloseAbandonedBlocks() => BlockRuntime.Shared.AbandonOpenBlocks();
}

/// <summary>MT19937 from Matsumoto and Nishimura's reference code (init_genrand, genrand_int32), as libtorch's mt19937 implements it.</summary>
internal sealed class MersenneTwister
{
    private readonly uint[] _state = new uint[624];
    private int _index;

    /// <summary>A generator whose 624 state words are given, about to twist (libtorch's left = 1, next = 0).</summary>
    public MersenneTwister(uint[] words)
    {
        if (words.Length != 624)
            throw new ArgumentException("MT19937 has 624 state words.", nameof(words));
        words.CopyTo(_state, 0);
        _index = 624;
    }

    public MersenneTwister(uint seed)
    {
        _state[0] = seed;
        for (uint i = 1; i < 624; i++)
            _state[i] = 1812433253u * (_state[i - 1] ^ (_state[i - 1] >> 30)) + i;
        _index = 624;
    }

    public uint Next()
    {
        if (_index >= 624)
        {
            for (int i = 0; i < 624; i++)
            {
                uint y = (_state[i] & 0x80000000u) | (_state[(i + 1) % 624] & 0x7fffffffu);
                _state[i] = _state[(i + 397) % 624] ^ (y >> 1) ^ ((y & 1) != 0 ? 0x9908b0dfu : 0u);
            }
            _index = 0;
        }
        uint x = _state[_index++];
        x ^= x >> 11;
        x ^= (x << 7) & 0x9d2c5680u;
        x ^= (x << 15) & 0xefc60000u;
        x ^= x >> 18;
        return x;
    }

    /// <summary>libtorch's random64(): two consecutive outputs, the first as the high half.</summary>
    public ulong NextUInt64() => ((ulong)Next() << 32) | Next();
}
