using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using WeavingFixture;

namespace ReproducibleBlock.Weaving.Tests;

/// <summary>
/// The shapes of issue 20 (C# 14 extension members, partial constructors and events), woven and run on real
/// TorchSharp (CPU). Expected values come from blocks written here by hand with the public API.
/// </summary>
[TestClass]
public sealed class ModernShapeTests
{
    private static long InBlock(long seed, bool instance = false, bool restoreOnExit = false)
    {
        using (instance ? Reproducible.InstanceBlock(seed, restoreOnExit) : Reproducible.Block(seed, restoreOnExit))
        {
            using torch.Tensor drawn = torch.randint(0, 1L << 31, new long[] { 1 });
            return drawn.item<long>();
        }
    }

    [TestMethod]
    public void ExtensionMembers_RunInTheirBlocks()
    {
        Reproducible.SetSeed(42);
        long method = InBlock(21), property = InBlock(22);
        long named = InBlock(DecompiledShapeTests.NameSeed("method:WeavingFixture.Extensions::DrawNamed`1(System.Collections.Generic.List`1<T>)"));
        long staticMember = InBlock(23);

        Reproducible.SetSeed(42);
        long[] values = new long[3];
        Assert.AreEqual(method, values.DrawInto());
        Assert.AreEqual(method, values[0]);
        Assert.AreEqual(property + 3, values.Drawn);
        Assert.AreEqual(named + 2, new List<string> { "a", "b" }.DrawNamed());
        Assert.AreEqual(staticMember, List<string>.DrawStatic());
    }

    [TestMethod]
    public void ExtensionMembers_AreWovenOnce_NotTheirSkeletons()
    {
        string woven = Decompiled.Type("WeavingFixture.Extensions");
        foreach (long seed in new long[] { 21, 22, 23 })
            Assert.AreEqual(1, woven.Split($"WovenCode.EnterBlock({seed}L").Length - 1, woven);
    }

    [TestMethod]
    public void PartialConstructorAndEvent_RunInTheirBlocks()
    {
        Reproducible.SetSeed(42);
        long constructor;
        using (Reproducible.InstanceBlock(24, restoreOnExit: true))
            constructor = Sites.Member("Drawn", Sites.Next); // Drawn = Draw.Next() + offset: a member site around a call site
        long added = InBlock(25);

        Reproducible.SetSeed(42);
        var shapes = new PartialShapes(5);
        Assert.AreEqual(constructor + 5, shapes.Drawn);
        shapes.Changed += () => { };
        Assert.AreEqual(added, shapes.Added);
    }

    /// <summary>
    /// Constructors sharing their type's derived seed, unpinned and pinned (the seed written on each, as Pin the seed
    /// writes it): both are one block, so both draw as instances 0, 1, 2 of their seed, whichever constructor runs.
    /// </summary>
    [TestMethod]
    public void PinnedConstructors_StayOneBlock_AsTheyWereUnpinned()
    {
        // Each constructor stores Drawn = Draw.Next() (+ offset): a member site around a call site.
        static long Constructed(long seed, bool restoreOnExit, long offset)
        {
            using (Reproducible.InstanceBlock(seed, restoreOnExit))
                return Sites.Member("Drawn", () => Sites.Next() + offset);
        }
        static long[] Expected(long seed)
        {
            Reproducible.SetSeed(42);
            return [Constructed(seed, restoreOnExit: true, 0), Constructed(seed, restoreOnExit: false, 5), Constructed(seed, restoreOnExit: true, 0)];
        }
        long unpinned = DecompiledShapeTests.NameSeed("ctor:WeavingFixture.UnpinnedConstructors");
        long pinned = DecompiledShapeTests.NameSeed("ctor:WeavingFixture.PinnedConstructors");
        Assert.AreEqual(7742564927471785390L, pinned, "the seed PinnedConstructors carries is its name-derived one");
        long[] expectedUnpinned = Expected(unpinned), expectedPinned = Expected(pinned);

        Reproducible.SetSeed(42);
        CollectionAssert.AreEqual(expectedUnpinned, new[] { new UnpinnedConstructors().Drawn, new UnpinnedConstructors(5).Drawn, new UnpinnedConstructors().Drawn });
        Reproducible.SetSeed(42);
        CollectionAssert.AreEqual(expectedPinned, new[] { new PinnedConstructors().Drawn, new PinnedConstructors(5).Drawn, new PinnedConstructors().Drawn });
    }

    [TestMethod]
    public void FieldInitializerLambda_OfTwoConstructors_IsOneBlock()
    {
        Reproducible.SetSeed(42);
        long expected = InBlock(26);
        Reproducible.SetSeed(42);
        Assert.AreEqual(expected, new InitializerLambda().DrawNow());
        Assert.AreEqual(expected, new InitializerLambda(1).DrawNow());
    }
}
