using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace ReproducibleBlock.Tests;

[TestClass]
public sealed class ConcurrencyTests : RuntimeTest
{
    [TestMethod]
    public void AnotherThread_EnteringWhileABlockIsOpen_IsRefusedNamingBothBlocks()
    {
        Reproducible.SetSeed(1);
        using var blockOpen = new ManualResetEventSlim();
        Exception? seen = null;
        var other = new Thread(() =>
        {
            blockOpen.Wait();
            try
            {
                using (Reproducible.Block(22)) { }
            }
            catch (Exception e)
            {
                seen = e;
            }
        });
        other.Start(); // started before the block, so it is not a continuation of it

        using (Reproducible.Block(11))
        {
            blockOpen.Set();
            other.Join();
        }

        Assert.IsInstanceOfType<InvalidOperationException>(seen);
        StringAssert.Contains(seen.Message, "Block 22");
        StringAssert.Contains(seen.Message, "block 11");
        using (Reproducible.Block(22)) { } // and the refused entry left nothing behind
    }

    [TestMethod]
    public async Task AsyncContinuation_OnAnotherThread_IsTheSameFlow()
    {
        Reproducible.SetSeed(1);
        long[] expected;
        using (Reproducible.Block(1))
        using (Reproducible.Block(2))
            expected = Draws.Torch(3);

        using (Reproducible.Block(1))
        {
            await Task.Yield();
            await Task.Delay(1).ConfigureAwait(false);
            using (Reproducible.Block(2))
                CollectionAssert.AreEqual(expected, Draws.Torch(3));
        }
    }

    [TestMethod]
    public async Task ConcurrentTasks_SecondToEnterIsRefused()
    {
        Reproducible.SetSeed(1);
        using var firstInside = new SemaphoreSlim(0);
        using var release = new SemaphoreSlim(0);
        Task first = Task.Run(async () =>
        {
            using (Reproducible.Block(1))
            {
                firstInside.Release();
                await release.WaitAsync();
            }
        });
        await firstInside.WaitAsync();
        Task second = Task.Run(() => { using (Reproducible.Block(2)) { } });
        await Assert.ThrowsExactlyAsync<InvalidOperationException>(() => second);
        release.Release();
        await first;
    }

    [TestMethod]
    public void ForkedTask_ThatDivergesFromItsParent_IsRefused()
    {
        // A task started inside a block inherits it (it cannot be told apart from awaited work), but once the
        // parent has entered a block of its own, the child no longer sees the innermost block as its own.
        Reproducible.SetSeed(1);
        using (Reproducible.Block(1))
        {
            using var go = new ManualResetEventSlim();
            Task child = Task.Run(() =>
            {
                go.Wait();
                using (Reproducible.Block(3)) { }
            });
            using (Reproducible.Block(2))
            {
                go.Set();
                var error = Assert.ThrowsExactly<AggregateException>(() => child.Wait());
                Assert.IsInstanceOfType<InvalidOperationException>(error.InnerException);
            }
        }
    }
}
