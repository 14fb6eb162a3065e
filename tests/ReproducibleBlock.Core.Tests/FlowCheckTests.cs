using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace ReproducibleBlock.Tests;

/// <summary>
/// Only the flow that entered a block may leave it or capture while it is open; refusals say why and what to do.
/// </summary>
[TestClass]
public sealed class FlowCheckTests : RuntimeTest
{
    /// <summary>Runs <paramref name="action"/> on a new thread that does not inherit this flow's execution context.</summary>
    private static Exception? OnUnrelatedThread(Action action)
    {
        Exception? seen = null;
        var thread = new Thread(() =>
        {
            try
            {
                action();
            }
            catch (Exception e)
            {
                seen = e;
            }
        });
        using (ExecutionContext.SuppressFlow())
            thread.Start();
        thread.Join();
        return seen;
    }

    private static long[] InNested(long outer, long inner)
    {
        using (Reproducible.Block(outer))
        using (Reproducible.Block(inner))
            return Draws.Torch(4);
    }

    [TestMethod]
    public void DisposeFromAnotherFlow_IsRefused_AndTheBlockStaysOpenForItsOwner()
    {
        Reproducible.SetSeed(1);
        long[] expected = InNested(11, 2);

        BlockScope scope = Reproducible.Block(11);
        Exception? seen = OnUnrelatedThread(scope.Dispose);
        Assert.IsInstanceOfType<InvalidOperationException>(seen);
        StringAssert.Contains(seen.Message, "Block 11 cannot be left from this thread or task");
        StringAssert.Contains(seen.Message, "Dispose a block in the flow that entered it");
        long[] nested;
        using (Reproducible.Block(2))
            nested = Draws.Torch(4);
        CollectionAssert.AreEqual(expected, nested, "block 11 is still the enclosing block");
        scope.Dispose(); // its owner can still leave it
        Assert.AreEqual(0, Reproducible.Capture().Data.Frames.Count);
    }

    [TestMethod]
    public async Task ATaskThatLeavesAnInheritedBlock_LeavesItsParentAbleToGoOn()
    {
        // A task started inside block 2 shares it; when the task leaves it, the parent sees block 1 as its innermost
        // again (the block 2 was entered under), so it can enter, capture and leave as usual.
        Reproducible.SetSeed(1);
        BlockScope outer = Reproducible.Block(1);
        BlockScope inner = Reproducible.Block(2);
        await Task.Run(inner.Dispose);
        using (Reproducible.Block(3)) { }
        Assert.AreEqual(1, Reproducible.Capture().Data.Frames.Count);
        outer.Dispose();
        Assert.AreEqual(0, Reproducible.Capture().Data.Frames.Count);
    }

    [TestMethod]
    public void CaptureFromAnotherFlow_WhileABlockIsOpen_IsRefused()
    {
        Reproducible.SetSeed(1);
        using (Reproducible.Block(11))
        {
            using (Reproducible.Block(12))
            {
                Exception? seen = OnUnrelatedThread(() => Reproducible.Capture());
                Assert.IsInstanceOfType<InvalidOperationException>(seen);
                StringAssert.Contains(seen.Message, "Capture cannot run on this thread or task: block 12 (open blocks: 11 > 12)");
                StringAssert.Contains(seen.Message, "process-global and not thread-safe");
                StringAssert.Contains(seen.Message, "await the other work first");
            }
        }
        Assert.IsNull(OnUnrelatedThread(() => Reproducible.Capture()), "with no block open, any flow may capture");
    }

    [TestMethod]
    public void RestoreFromAnotherFlow_WhileABlockIsOpen_IsRefused()
    {
        Reproducible.SetSeed(1);
        using (Reproducible.Block(11))
        {
            RngSnapshot snapshot = Reproducible.Capture();
            Exception? seen = OnUnrelatedThread(() => Reproducible.Restore(snapshot));
            Assert.IsInstanceOfType<InvalidOperationException>(seen);
            StringAssert.Contains(seen.Message, "Restore cannot run on this thread or task");
        }
    }

    private static async IAsyncEnumerable<int> AugmentInsideABlock()
    {
        using (Reproducible.Block(7))
        {
            await Task.Yield();
            yield return 1; // the consumer's loop body runs here, outside this iterator's flow
        }
    }

    [TestMethod]
    public async Task AsyncIteratorYieldingInsideABlock_RefusalsExplainTheCauseAndTheFix()
    {
        Reproducible.SetSeed(1);
        var leaving = await Assert.ThrowsExactlyAsync<InvalidOperationException>(async () =>
        {
            await foreach (int item in AugmentInsideABlock())
            {
                // The consumer's own blocks are refused: the iterator's block is open, in another flow.
                var refused = Assert.ThrowsExactly<InvalidOperationException>(() => Reproducible.Block(8));
                StringAssert.Contains(refused.Message, "async iterator (IAsyncEnumerable) that yields while its block is open");
                StringAssert.Contains(refused.Message, "the loop consuming it runs outside the iterator's flow");
                StringAssert.Contains(refused.Message, "leave the block before each yield return");
            }
        });
        // And after the yield the iterator itself runs in the consumer's flow, so it cannot leave its block either.
        StringAssert.Contains(leaving.Message, "Block 7");
        StringAssert.Contains(leaving.Message, "after a yield return the iterator's code runs in its consumer's flow");
        StringAssert.Contains(leaving.Message, "leave the block before each yield return");
    }
}
