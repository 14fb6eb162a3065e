using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.State;
using TorchSharp;

namespace ReproducibleBlock.Tests;

/// <summary>
/// A continuing block entered again on its own owner while it is open (a <c>forward</c> calling <c>base.forward</c>,
/// an overload calling another, a recursion, a child calling back into its parent) continues the live stream: it
/// neither replays the state of the previous exit nor is overwritten by the outer exit.
/// </summary>
[TestClass]
public sealed class NestedStreamTests : RuntimeTest
{
    /// <summary>A module whose forward draws, then calls a "base.forward" that enters the same continuing block.</summary>
    private class Layer
    {
        public virtual long[] Forward(int n)
        {
            using (Reproducible.ContinuingBlock(this))
                return Draws.Torch(n);
        }
    }

    private sealed class Derived : Layer
    {
        public override long[] Forward(int n)
        {
            using (Reproducible.ContinuingBlock(this))
            {
                long[] own = Draws.Torch(n);
                return [.. own, .. base.Forward(n)];
            }
        }
    }

    private sealed class Recursive
    {
        public List<long[]> Forward(int depth)
        {
            using (Reproducible.ContinuingBlock(this))
            {
                var rows = new List<long[]> { Draws.Torch(4) };
                if (depth > 1)
                    rows.AddRange(Forward(depth - 1));
                return rows;
            }
        }
    }

    [TestMethod]
    public void BaseForward_ContinuesTheLiveStream()
    {
        Reproducible.SetSeed(5);
        var derived = new Derived();
        long[] first = derived.Forward(6), second = derived.Forward(6);
        CollectionAssert.AreNotEqual(first[..6], first[6..], "0.2 drew the same numbers before and inside base.forward");
        Assert.AreEqual(0, first.Intersect(second).Count(), "the next call goes on, neither replaying nor overwritten");

        // The same stream drawn flat: what the two calls drew is its first 24 numbers, in order.
        Reproducible.SetSeed(5);
        var flat = new Layer();
        CollectionAssert.AreEqual(first.Concat(second).ToArray(), flat.Forward(24));
    }

    [TestMethod]
    public void ARecursiveForward_DrawsFreshRowsAtEveryDepth_AndItsNextCallGoesOn()
    {
        Reproducible.SetSeed(5);
        var recursive = new Recursive();
        List<long[]> call1 = recursive.Forward(4), call2 = recursive.Forward(4);
        long[][] rows = [.. call1, .. call2];
        for (int i = 0; i < rows.Length; i++)
        {
            for (int j = i + 1; j < rows.Length; j++)
                CollectionAssert.AreNotEqual(rows[i], rows[j], $"rows {i} and {j}");
        }
        Reproducible.SetSeed(5);
        var flat = new Layer();
        CollectionAssert.AreEqual(rows.SelectMany(r => r).ToArray(), flat.Forward(32));
    }

    [TestMethod]
    public void ANestedEntryUnderARestoringBlock_CarriesTheLiveStreamInAndOut()
    {
        // The owner's block, then a block that restores on exit, then the owner again (a child calling back into its
        // parent): the owner's live state waits in that block's saved state, and the nested entry continues it there.
        long[] Block9(bool callBack, out long[] before, out long[] inside, out long[] after)
        {
            Reproducible.SetSeed(5);
            var owner = new Layer();
            long[] inBlock;
            inside = [];
            using (Reproducible.ContinuingBlock(owner))
            {
                before = Draws.Torch(3);
                using (Reproducible.Block(9, restoreOnExit: true))
                {
                    long[] first = Draws.Torch(3);
                    if (callBack)
                        inside = owner.Forward(3);
                    inBlock = [.. first, .. Draws.Torch(3)];
                }
                after = Draws.Torch(3);
            }
            return inBlock;
        }

        long[] withCallBack = Block9(callBack: true, out long[] before, out long[] inside, out long[] after);
        long[] without = Block9(callBack: false, out long[] beforeAlone, out _, out long[] afterAlone);
        CollectionAssert.AreEqual(without, withCallBack, "block 9's own stream is not touched by the nested entry");
        CollectionAssert.AreEqual(before.Concat(inside).Concat(after).ToArray(), Flat(9), "the owner's stream goes on through the nested entry");
        CollectionAssert.AreEqual(beforeAlone.Concat(afterAlone).ToArray(), Flat(6), "control: without the call back, after follows before");
    }

    private static long[] Flat(int n)
    {
        Reproducible.SetSeed(5);
        return new Layer().Forward(n);
    }

    [TestMethod]
    public void AnotherOwnerNested_DrawsFromItsOwnStream()
    {
        // Control: the rule is for the same owner; a different one nested inside has a stream of its own.
        Reproducible.SetSeed(5);
        var outer = new Layer();
        var inner = new Layer();
        long[] fromInner;
        using (Reproducible.ContinuingBlock(outer))
            fromInner = inner.Forward(4);
        Reproducible.SetSeed(5);
        var outerAgain = new Layer();
        long[] outerAlone = outerAgain.Forward(4);
        Assert.AreEqual(0, fromInner.Intersect(outerAlone).Count());
    }

    [TestMethod]
    public void Dropout_InAResidualForward_DrawsAFreshMaskEachCall()
    {
        Reproducible.SetSeed(5);
        var residual = new Residual();
        using torch.Tensor x = torch.ones(64);
        var masks = Enumerable.Range(0, 4).Select(_ => residual.Forward(x)).ToList();
        for (int i = 0; i < masks.Count; i++)
        {
            for (int j = i + 1; j < masks.Count; j++)
                CollectionAssert.AreNotEqual(masks[i], masks[j], $"calls {i} and {j}");
        }
    }

    private sealed class Residual
    {
        // forward(x) => x + Block(x), where Block is the same module's other overload: both enter its stream.
        public float[] Forward(torch.Tensor x)
        {
            using (Reproducible.ContinuingBlock(this))
            {
                using torch.Tensor y = Branch(x);
                return (x + y).data<float>().ToArray();
            }
        }

        private torch.Tensor Branch(torch.Tensor x)
        {
            using (Reproducible.ContinuingBlock(this))
                return torch.nn.functional.dropout(x, 0.5, training: true);
        }
    }

    [TestMethod]
    public void CaptureInsideANestedEntry_IsRefused()
    {
        Reproducible.SetSeed(5);
        var owner = new Layer();
        using (Reproducible.ContinuingBlock(owner))
        using (Reproducible.ContinuingBlock(owner))
        {
            var refused = Assert.ThrowsExactly<InvalidOperationException>(() => Reproducible.Capture());
            StringAssert.Contains(refused.Message, "cannot run inside a continuing block");
        }
        Assert.IsNull(BlockRuntime.Shared.FindStreamForTests(owner)!.OpenFrame, "both entries were left");
    }
}
