using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace ReproducibleBlock.Tests;

[TestClass]
public sealed class InstanceBlockTests : RuntimeTest
{
    private static float[] Build(long seed)
    {
        using (Reproducible.InstanceBlock(seed))
            return Draws.LinearWeights(8, 4);
    }

    [TestMethod]
    public void TwoInstances_UnderOneParent_Differ_AndRepeatAfterSetSeed()
    {
        Reproducible.SetSeed(42);
        float[] first = Build(10), second = Build(10);
        CollectionAssert.AreNotEqual(first, second);

        Reproducible.SetSeed(42);
        CollectionAssert.AreEqual(first, Build(10), "the counters restart at SetSeed");
        CollectionAssert.AreEqual(second, Build(10));
    }

    [TestMethod]
    public void FirstInstance_EqualsAPlainBlock()
    {
        Reproducible.SetSeed(42);
        float[] plain;
        using (Reproducible.Block(10))
            plain = Draws.LinearWeights(8, 4);
        CollectionAssert.AreEqual(plain, Build(10));
    }

    [TestMethod]
    public void Counters_ArePerParentEntry()
    {
        Reproducible.SetSeed(42);
        float[] a1, a2, b1;
        using (Reproducible.Block(1))
        {
            a1 = Build(10);
            a2 = Build(10);
        }
        using (Reproducible.Block(1))
            b1 = Build(10); // a new entry of the parent counts from zero again
        CollectionAssert.AreEqual(a1, b1);
        CollectionAssert.AreNotEqual(a1, a2);
    }

    [TestMethod]
    public void Counters_ArePerSeed()
    {
        Reproducible.SetSeed(42);
        float[] ten = Build(10);
        Build(11);
        Build(11);
        Reproducible.SetSeed(42);
        CollectionAssert.AreEqual(ten, Build(10));
    }
}
