using System;
using TorchSharp;

namespace ReproducibleBlock.Weaving.Tests;

/// <summary>
/// The sites a woven constructor enters (ConstructorSites in the weaver), written by hand with the runtime's entry
/// points, so that tests can state what a woven constructor draws without the weaver.
/// </summary>
internal static class Sites
{
    /// <summary>A value stored in the member <paramref name="name"/>: <c>WovenCode.EnterMemberSite(name)</c> ... <c>ExitSite()</c>.</summary>
    public static T Member<T>(string name, Func<T> value)
    {
        WovenCode.EnterMemberSite(name);
        try
        {
            return value();
        }
        finally
        {
            WovenCode.ExitSite();
        }
    }

    /// <summary>A call of <paramref name="name"/>: <c>WovenCode.EnterSite(name)</c> ... <c>ExitSite()</c>.</summary>
    public static T Call<T>(string name, Func<T> call)
    {
        WovenCode.EnterSite(name);
        try
        {
            return call();
        }
        finally
        {
            WovenCode.ExitSite();
        }
    }

    /// <summary>The fixture's <c>Draw.Next()</c> called from a woven constructor: a call site named "Next".</summary>
    public static long Next() => Call("Next", DrawOne);

    /// <summary>What <c>Draw.Next()</c> draws, outside any site.</summary>
    public static long DrawOne()
    {
        using torch.Tensor drawn = torch.randint(0, 1L << 31, new long[] { 1 });
        return drawn.item<long>();
    }
}
