using System;
using ReproducibleBlock;

namespace WeavingFixture;

/// <summary>
/// The shapes a constructor's sites must handle (issue 19): a delegate called from a parameter, a conditional argument
/// (a branch straight to the call), a settable property, a nested store, a closure, a constrained call in a generic
/// type, and a part that throws and is caught.
/// </summary>
[ReproducibleBlock(30)]
public sealed class Parts
{
    public Parts(Func<long, long> make, bool small)
    {
        Made = make(3);                                   // a member site around a call site named by the parameter: "make"
        Sized = Draw.Between(0, small ? 10 : 1000);       // the conditional's branches both reach the call through its site
        Settable = Draw.Next();                           // set_Settable on this: the member "Settable"
        First = Second = Draw.Next();                     // one member site (First); the store to Second is inside it
        long captured = Draw.Next();
        Later = () => captured;                           // the closure's constructor is not a site
        Name = string.Concat("parts-", Draw.Next().ToString(System.Globalization.CultureInfo.InvariantCulture)); // Concat is not a site, ToString is
    }

    public long Made { get; }
    public long Sized { get; }
    public long Settable { get; set; }
    public long First { get; }
    public long Second { get; }
    public Func<long> Later { get; }
    public string Name { get; }
}

/// <summary>A generic type whose constructor makes a constrained call (<c>constrained. !T callvirt ToString</c>): the site goes before the prefix.</summary>
[ReproducibleBlock(31)]
public sealed class Labelled<T>
    where T : notnull
{
    public Labelled(T value)
    {
        Label = value.ToString() + Draw.Next().ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    public string Label { get; }
}

/// <summary>
/// A part that throws inside its site: caught in the constructor, the next site closes the sites it left open;
/// rethrown, the constructor's block exit closes them.
/// </summary>
[ReproducibleBlock(32)]
public sealed class Recovering
{
    public Recovering(bool rethrow)
    {
        try
        {
            Failed = Draw.Failing();
        }
        catch (InvalidOperationException) when (!rethrow)
        {
            Failed = -1;
        }
        After = Draw.Next();
    }

    public long Failed { get; }
    public long After { get; }
}

/// <summary>The switch that keeps 0.2's streams on one type: no sites, and its TorchSharp dropouts in its own stream.</summary>
[ReproducibleBlock(33, IsolateParts = false)]
public sealed class Unparted
{
    public Unparted() => Values = [Draw.Next(), Draw.Next()];

    public long[] Values { get; }
}
