using System;
using System.Collections.Generic;
using ReproducibleBlock;

namespace WeavingFixture;

/// <summary>
/// C# 14 extension members: the compiler copies each one's attributes onto a skeleton that only throws and onto the
/// static method that implements it, which alone is woven.
/// </summary>
public static class Extensions
{
    extension(long[] values)
    {
        [ReproducibleBlock(21)]
        public long DrawInto()
        {
            values[0] = Draw.Next();
            return values[0];
        }

        public long Drawn
        {
            [ReproducibleBlock(22)]
            get => Draw.Next() + values.Length;
        }
    }

    extension<T>(List<T> items)
    {
        [ReproducibleBlock]
        public long DrawNamed() => Draw.Next() + items.Count;

        [ReproducibleBlock(23)]
        public static long DrawStatic() => Draw.Next();
    }
}

/// <summary>A partial constructor and a partial event (C# 14), the attribute on either part.</summary>
public partial class PartialShapes
{
    [ReproducibleBlock(24)]
    public partial PartialShapes(int offset);

    public partial event Action Changed;
}

public partial class PartialShapes
{
    public partial PartialShapes(int offset) => Drawn = Draw.Next() + offset;

    public partial event Action Changed
    {
        [ReproducibleBlock(25)]
        add => Added = Draw.Next();
        remove { }
    }

    public long Drawn { get; }

    public long Added { get; private set; }
}

/// <summary>Two constructors sharing the type's name-derived seed: one block (issue 20).</summary>
public sealed class UnpinnedConstructors
{
    [ReproducibleBlock]
    public UnpinnedConstructors() => Drawn = Draw.Next();

    [ReproducibleBlock(RestoreOnExit = false)]
    public UnpinnedConstructors(int offset) => Drawn = Draw.Next() + offset;

    public long Drawn { get; }
}

/// <summary>
/// The same constructors after "Pin the seed": the type's derived seed (that of ctor:WeavingFixture.PinnedConstructors)
/// written on each. Still one block, drawing what they drew unpinned.
/// </summary>
public sealed class PinnedConstructors
{
    [ReproducibleBlock(7742564927471785390)]
    public PinnedConstructors() => Drawn = Draw.Next();

    [ReproducibleBlock(7742564927471785390, RestoreOnExit = false)]
    public PinnedConstructors(int offset) => Drawn = Draw.Next() + offset;

    public long Drawn { get; }
}

/// <summary>
/// A lambda with an explicit seed in a field initializer of a class with two constructors: the compiler emits it once
/// per constructor, and the copies are one block.
/// </summary>
public sealed class InitializerLambda
{
    private readonly Func<long> _draw = [ReproducibleBlock(26)] () => Draw.Next();

    public InitializerLambda()
    {
    }

    public InitializerLambda(int unused) => Unused = unused;

    public int Unused { get; }

    public long DrawNow() => _draw();
}
