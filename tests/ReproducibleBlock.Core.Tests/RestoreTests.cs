using System;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace ReproducibleBlock.Tests;

[TestClass]
public sealed class RestoreTests : RuntimeTest
{
    [TestMethod]
    public void RestoreUnderAnotherRootSeed_NamesBothSides()
    {
        Reproducible.SetSeed(1);
        RngSnapshot snapshot;
        using (Reproducible.Block(5))
            snapshot = Reproducible.Capture();
        Reproducible.SetSeed(2, BlockDerivation.ResetAndAdvance);
        using (Reproducible.Block(5))
        {
            var refused = Assert.ThrowsExactly<InvalidOperationException>(() => Reproducible.Restore(snapshot));
            StringAssert.Contains(refused.Message, "root seed 1, Keyed");
            StringAssert.Contains(refused.Message, "root seed 2, ResetAndAdvance");
        }
    }
}
