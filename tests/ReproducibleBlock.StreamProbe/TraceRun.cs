using System;
using ReproducibleBlock;

namespace ReproducibleBlock.StreamProbe;

/// <summary>
/// A small woven program for the tracing tests (<c>--trace-run ROOTSEED INSIDE OUTSIDE</c>): three woven methods, each
/// its own block, drawing from Reproducible.Random. <c>INSIDE</c> extra draws happen inside <see cref="Second"/>, so two
/// runs that differ in it differ inside that block only; <c>OUTSIDE</c> extra draws happen between the blocks, outside
/// every block, which the blocks do not see.
/// </summary>
public static class TraceRun
{
    public static void Run(long rootSeed, int inside, int outside)
    {
        Reproducible.SetSeed(rootSeed);
        First();
        for (int i = 0; i < outside; i++)
            Reproducible.Random.NextInt64();
        Second(inside);
        Third();
    }

    [ReproducibleBlock(1)]
    public static long First() => Reproducible.Random.NextInt64();

    [ReproducibleBlock(2)]
    public static long Second(int extraDraws)
    {
        long last = 0;
        for (int i = 0; i <= extraDraws; i++)
            last = Reproducible.Random.NextInt64();
        return last;
    }

    [ReproducibleBlock(3)]
    public static long Third() => Reproducible.Random.NextInt64();
}
