using System;
using System.Runtime.CompilerServices;
using ReproducibleBlock;

namespace WeavingFixture;

/// <summary>An init accessor: it returns <c>void modreq(IsExternalInit)</c>, still void.</summary>
public sealed class InitOnly
{
    private long _value;

    public long Value
    {
        get => _value;
        [ReproducibleBlock(12)]
        init => _value = value + Draw.Next();
    }
}

/// <summary>
/// this(...) whose argument is a conditional: one branch jumps straight to the call, and must still pass the marker
/// that tells the chained-to constructor its block is entered.
/// </summary>
[ReproducibleBlock(13)]
public sealed class ChainedConditional
{
    public ChainedConditional(bool positive) : this(positive ? Draw.Next() : -Draw.Next()) { }

    public ChainedConditional(long first) => Values = [first, Draw.Next()];

    public long[] Values { get; }
}

/// <summary>A record: its constructors are blocks, its compiler-made copy constructor (used by `with`) is not woven.</summary>
[ReproducibleBlock(14)]
public sealed record Recorded
{
    public long Drawn { get; init; } = Draw.Next();
}

/// <summary>
/// A struct constructor building a local of its own type (<c>ldloca; call .ctor</c>): that is a new object, with its
/// own block, not this(...) chaining.
/// </summary>
[ReproducibleBlock(15)]
public struct Nested
{
    public long Inner;
    public long Outer;

    public Nested(long inner)
    {
        Inner = inner;
        Outer = Draw.Next();
    }

    public Nested(int depth)
    {
        var inner = new Nested((long)depth);
        Inner = inner.Outer;
        Outer = Draw.Next();
    }
}

/// <summary>[SkipLocalsInit] stays honoured after weaving.</summary>
public static class NoInit
{
    [SkipLocalsInit]
    [ReproducibleBlock(16)]
    public static long Buffered()
    {
        Span<long> buffer = stackalloc long[4];
        buffer[0] = Draw.Next();
        return buffer[0];
    }
}

/// <summary>Two conversion operators differing only by return type: their name seeds include it.</summary>
public readonly struct Ticket(long value)
{
    public long Value { get; } = value;

    [ReproducibleBlock]
    public static explicit operator long(Ticket ticket) => ticket.Value + Draw.Next();

    [ReproducibleBlock]
    public static explicit operator int(Ticket ticket) => (int)(Draw.Next() % 1000) + (int)ticket.Value;
}

/// <summary>A lambda and a local function with explicit seeds (a name-derived seed is refused for them).</summary>
public static class Lambdas
{
    public static Func<long> Lambda() => [ReproducibleBlock(17)] () => Draw.Next();

    public static long LocalFunction()
    {
        return Local();

        [ReproducibleBlock(18)]
        static long Local() => Draw.Next();
    }
}

/// <summary>A constructor block that continues the enclosing stream, as before 0.2: RestoreOnExit = false written.</summary>
[ReproducibleBlock(19, RestoreOnExit = false)]
public sealed class LeavesItsState
{
    public long Drawn { get; } = Draw.Next();
}
