using System;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using WeavingFixture;

namespace ReproducibleBlock.Weaving.Tests;

/// <summary>
/// The IL shapes a woven constructor's sites must handle (the fixture's SiteShapes.cs), run on real TorchSharp (CPU).
/// Expected values come from the runtime's entry points called by hand in the order the sites are entered
/// (<see cref="Sites"/>).
/// </summary>
[TestClass]
public sealed class SiteShapeTests
{
    private static T InBlock<T>(long seed, Func<T> body)
    {
        using (Reproducible.InstanceBlock(seed, restoreOnExit: true))
            return body();
    }

    [TestMethod]
    [DataRow(true)]
    [DataRow(false)]
    public void EveryPart_IsKeyedByItsMemberOrCallee_OnBothPathsOfAConditionalArgument(bool small)
    {
        static long Make(long x) => Sites.DrawOne() + x;
        Reproducible.SetSeed(42);
        long[] expected = InBlock(30, () => new[]
        {
            Sites.Member("Made", () => Sites.Call("make", () => Make(3))),
            Sites.Member("Sized", () => Sites.Call("Between", () =>
            {
                using torch.Tensor drawn = torch.randint(0, small ? 10 : 1000, new long[] { 1 });
                return drawn.item<long>();
            })),
            Sites.Member("Settable", Sites.Next),
            Sites.Member("First", Sites.Next),
            Sites.Next(),
            Sites.Member("Name", Sites.Next),
        });

        Reproducible.SetSeed(42);
        var parts = new Parts(Make, small);
        CollectionAssert.AreEqual(expected, new[] { parts.Made, parts.Sized, parts.Settable, parts.First, parts.Later(), long.Parse(parts.Name["parts-".Length..], System.Globalization.CultureInfo.InvariantCulture) });
        Assert.AreEqual(parts.First, parts.Second, "a = b = value: one value, one site");
    }

    [TestMethod]
    public void AConstrainedCall_GetsItsSiteBeforeItsPrefix()
    {
        Reproducible.SetSeed(42);
        long expected = InBlock(31, () => Sites.Member("Label", Sites.Next));
        Reproducible.SetSeed(42);
        Assert.AreEqual("7" + expected.ToString(System.Globalization.CultureInfo.InvariantCulture), new Labelled<int>(7).Label);
        StringAssert.Contains(Decompiled.Type("WeavingFixture.Labelled`1"), "WovenCode.EnterSite(\"ToString\");");
    }

    [TestMethod]
    public void APartThatThrows_AndIsCaught_IsClosedByTheNextSite_AndOneThatEscapes_ByTheConstructorsExit()
    {
        Reproducible.SetSeed(42);
        long expected = InBlock(32, () => Sites.Member("After", Sites.Next));
        Reproducible.SetSeed(42);
        var recovered = new Recovering(rethrow: false);
        Assert.AreEqual(-1, recovered.Failed);
        Assert.AreEqual(expected, recovered.After, "the failed part's draws do not reach the next part");

        Reproducible.SetSeed(42);
        Assert.ThrowsExactly<InvalidOperationException>(() => new Recovering(rethrow: true));
        Reproducible.SetSeed(42); // refused if a site or the constructor's block had stayed open
        Assert.AreEqual(expected, new Recovering(rethrow: false).After);
    }

    [TestMethod]
    public void IsolatePartsFalse_OnTheAttribute_KeepsTheWholeConstructorInItsOneBlock()
    {
        Reproducible.SetSeed(42);
        long[] expected = InBlock(33, () => new[] { Sites.DrawOne(), Sites.DrawOne() });
        Reproducible.SetSeed(42);
        CollectionAssert.AreEqual(expected, new Unparted().Values);
        string woven = Decompiled.Type("WeavingFixture.Unparted");
        Assert.IsFalse(woven.Contains("Site(", StringComparison.Ordinal), woven);
        StringAssert.Contains(woven, "WovenCode.RegisterStreamWithoutPaths(this);");
    }

    [TestMethod]
    public void StructConstructorsAndMethodBlocks_GetNoSites()
    {
        foreach (string type in new[] { "Nested", "Methods", "Point", "InitOnly" })
            Assert.IsFalse(Decompiled.Type("WeavingFixture." + type).Contains("Site(", StringComparison.Ordinal), type);
    }
}
