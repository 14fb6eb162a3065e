using System;
using System.Runtime.InteropServices;
using ReproducibleBlock;
using TorchSharp;

namespace WeavingFixture;

/// <summary>The shapes of method the weaver must handle. Each draws, so tests can see which block it ran in.</summary>
public static class Draw
{
    public static long Next() => torch.randint(0, 1L << 31, new long[] { 1 }).item<long>();

    public static long Between(long low, long high) => torch.randint(low, high, new long[] { 1 }).item<long>();

    /// <summary>Draws, then throws.</summary>
    public static long Failing() => Next() < 0 ? 0 : throw new InvalidOperationException("failing on purpose");
}

public sealed class Methods
{
    private long _field = 7;

    [ReproducibleBlock(1)]
    public void Void() => Last = Draw.Next();

    public long Last { get; private set; }

    [ReproducibleBlock(2)]
    public long ManyReturns(int path)
    {
        long drawn = Draw.Next();
        if (path == 0)
            return drawn;
        if (path == 1)
            return -drawn;
        try
        {
            if (path == 2)
                return drawn * 2;
            throw new InvalidOperationException("path " + path);
        }
        catch (InvalidOperationException) when (path == 3)
        {
            return drawn * 3;
        }
    }

    [ReproducibleBlock(3)]
    public ref long RefReturn()
    {
        _field = Draw.Next();
        return ref _field;
    }

    [ReproducibleBlock(4)]
    public static T Generic<T>(Func<long, T> convert) => convert(Draw.Next());

    [ReproducibleBlock(5, RestoreOnExit = true)]
    public static long Restoring() => Draw.Next();

    [ReproducibleBlock(6)]
    public static long Throws(bool shouldThrow)
    {
        long drawn = Draw.Next();
        if (shouldThrow)
            throw new ArithmeticException("thrown on purpose");
        return drawn;
    }

    [ReproducibleBlock]
    public static long NamedSeed() => Draw.Next();

    [ReproducibleBlock(7, AllowSharedSeed = true)]
    public static long SharedA() => Draw.Next();

    [ReproducibleBlock(7, AllowSharedSeed = true)]
    public static long SharedB() => Draw.Next();
}

public sealed class GenericType<T>
{
    [ReproducibleBlock(8)]
    public (T Value, long Drawn) Pair(T value) => (value, Draw.Next());
}

public struct Point
{
    public long X;

    [ReproducibleBlock(9)]
    public long Move() => X += Draw.Next();
}

/// <summary>Chaining constructors, all woven (class attribute): one block per object, not two.</summary>
[ReproducibleBlock(10)]
public sealed class Chained
{
    public Chained() : this(Draw.Next()) { }

    public Chained(long first) => Values = [first, Draw.Next()];

    public long[] Values { get; }
}

/// <summary>A field initialiser and the base call are inside the block.</summary>
public class Base
{
    protected Base() => FromBase = Draw.Next();
    public long FromBase { get; }
}

public sealed class Derived : Base
{
    private readonly long _fromInitializer = Draw.Next();

    [ReproducibleBlock(11)]
    public Derived() => FromBody = Draw.Next();

    public long FromInitializer => _fromInitializer;
    public long FromBody { get; }
}
