using System;
using System.Collections;
using System.Collections.Generic;

namespace ReproducibleBlock;

/// <summary>
/// A fresh random order of <c>0 .. count-1</c> each time it is enumerated, drawn from <see cref="Reproducible.Random"/>
/// (or a generator you give) at that moment: pass it to TorchSharp's <c>DataLoader(dataset, batchSize, shuffler, ...)</c>.
/// </summary>
/// <remarks>
/// TorchSharp's own <c>shuffle: true</c> uses <c>new System.Random(seed)</c>, which repeats the same order every epoch
/// for a given seed and is unreproducible without one. This shuffler draws the order from the generator of the block
/// that is open when an epoch starts, so data order is reproducible, changes from epoch to epoch, and is untouched by
/// draws made outside that block.
/// </remarks>
public sealed class BlockShuffler : IEnumerable<long>
{
    private readonly long _count;
    private readonly Random? _random;

    /// <param name="count">How many samples to order (the dataset's <c>Count</c>).</param>
    /// <param name="random">The generator to draw from; null (the default) for <see cref="Reproducible.Random"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative or too large for one array.</exception>
    public BlockShuffler(long count, Random? random = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, (long)Array.MaxLength);
        _count = count;
        _random = random;
    }

    /// <summary>Draws a new order (Fisher-Yates) and enumerates it.</summary>
    public IEnumerator<long> GetEnumerator()
    {
        // Drawn here, not lazily, so the order depends on the generator's state when enumeration starts.
        return ((IEnumerable<long>)Order(_count, _random ?? Reproducible.Random)).GetEnumerator();
    }

    /// <summary>0 .. count-1 shuffled by Fisher-Yates from <paramref name="random"/> (null: in order); ReproducibleSampler's orders too.</summary>
    internal static long[] Order(long count, Random? random)
    {
        var order = new long[count];
        for (long i = 0; i < order.LongLength; i++)
            order[i] = i;
        if (random is null)
            return order;
        // Stryker disable once Equality : at i = 0, Next(1) is 0 and draws nothing, so a last step would change nothing
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
