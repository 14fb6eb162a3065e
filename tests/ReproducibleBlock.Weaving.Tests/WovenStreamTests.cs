using System;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using WeavingFixture;

namespace ReproducibleBlock.Weaving.Tests;

/// <summary>
/// The rule's ContinuingForward and [ContinuingBlock], run on real TorchSharp (CPU). Expected values come from the
/// public API written by hand here: a manual instance block with the constructor's name seed, a registered owner and
/// Reproducible.ContinuingBlock.
/// </summary>
[TestClass]
public sealed class WovenStreamTests
{
    private static float[] Mask(Noisy module)
    {
        using torch.Tensor output = module.forward(torch.ones(64));
        return output.data<float>().ToArray();
    }

    private static long[] Draws(int count)
    {
        using torch.Tensor drawn = torch.randint(0, 1L << 31, new long[] { count });
        return drawn.data<long>().ToArray();
    }

    [TestMethod]
    public void WovenForward_EqualsTheManualContinuingBlockOfAManuallyRegisteredOwner()
    {
        Reproducible.SetSeed(42);
        using var woven = new Noisy();
        float[][] wovenMasks = [Mask(woven), Mask(woven), Mask(woven)];

        Reproducible.SetSeed(42);
        var owner = new object();
        using (Reproducible.InstanceBlock(DecompiledShapeTests.NameSeed("ctor:WeavingFixture.Noisy")))
            WovenCode.RegisterStream(owner);
        float[][] manual = new float[3][];
        for (int call = 0; call < 3; call++)
        {
            using (Reproducible.ContinuingBlock(owner))
            {
                using torch.Tensor output = torch.nn.functional.dropout(torch.ones(64), 0.5, training: true);
                manual[call] = output.data<float>().ToArray();
            }
        }
        for (int call = 0; call < 3; call++)
            CollectionAssert.AreEqual(manual[call], wovenMasks[call], $"call {call}");
    }

    [TestMethod]
    public void WovenForward_DrawsFreshMasksOnEveryCall_AndTheCallerSeesNone()
    {
        Reproducible.SetSeed(42);
        using var module = new Noisy();
        long[] before = Draws(4);
        float[] first = Mask(module), second = Mask(module);
        long[] after = Draws(4);
        CollectionAssert.AreNotEqual(first, second, "consecutive calls continue the stream: different masks");

        Reproducible.SetSeed(42);
        using var untouched = new Noisy();
        CollectionAssert.AreEqual(before, Draws(4));
        CollectionAssert.AreEqual(after, Draws(4), "the calls drew nothing from the caller's stream");
    }

    [TestMethod]
    public void AModulesMasks_DoNotDependOnOtherModulesCalls_OrOnTheCallersDraws()
    {
        float[][] Masks(bool disturb)
        {
            Reproducible.SetSeed(42);
            using var model = new TwoNoisy();
            var masks = new float[3][];
            for (int step = 0; step < 3; step++)
            {
                if (disturb)
                {
                    _ = Draws(5);
                    _ = Mask(model.First);
                }
                masks[step] = Mask(model.Second);
            }
            return masks;
        }
        float[][] quiet = Masks(disturb: false), disturbed = Masks(disturb: true);
        for (int step = 0; step < 3; step++)
            CollectionAssert.AreEqual(quiet[step], disturbed[step], $"step {step}");
    }

    [TestMethod]
    public void TwoInstancesDiffer_AndTheSameModelBuiltAgainHasTheSameStreams()
    {
        (float[] First, float[] Second) Build()
        {
            Reproducible.SetSeed(9);
            using var model = new TwoNoisy();
            return (Mask(model.First), Mask(model.Second));
        }
        (float[] first, float[] second) = Build();
        CollectionAssert.AreNotEqual(first, second, "siblings of one type have streams of their own");
        (float[] againFirst, float[] againSecond) = Build();
        CollectionAssert.AreEqual(first, againFirst);
        CollectionAssert.AreEqual(second, againSecond);
    }

    [TestMethod]
    public void ParentForward_DrawsInItsOwnStream_WhichItsChildrenDoNotShift()
    {
        // TwoNoisy.forward draws randn between its children's calls: that draw is in TwoNoisy's stream, so it must
        // equal the same draw made by an owner registered under the same construction path.
        Reproducible.SetSeed(3);
        using var model = new TwoNoisy();
        using torch.Tensor x = torch.ones(8);
        using torch.Tensor woven = model.forward(x);

        Reproducible.SetSeed(3);
        var parent = new object();
        var first = new object();
        var second = new object();
        long noisySeed = DecompiledShapeTests.NameSeed("ctor:WeavingFixture.Noisy");
        // TwoNoisy's constructor: First = new Noisy(); Second = new Noisy(); each a member site around a call site.
        object Build(object owner)
        {
            using (Reproducible.InstanceBlock(noisySeed))
                WovenCode.RegisterStream(owner);
            return owner;
        }
        using (Reproducible.InstanceBlock(DecompiledShapeTests.NameSeed("ctor:WeavingFixture.TwoNoisy")))
        {
            Sites.Member("First", () => Sites.Call("Noisy", () => Build(first)));
            Sites.Member("Second", () => Sites.Call("Noisy", () => Build(second)));
            WovenCode.RegisterStream(parent);
        }
        torch.Tensor manual;
        using (Reproducible.ContinuingBlock(parent))
        {
            torch.Tensor a;
            using (Reproducible.ContinuingBlock(first))
                a = torch.nn.functional.dropout(x, 0.5, training: true);
            torch.Tensor b = a + torch.randn(x.shape);
            using (Reproducible.ContinuingBlock(second))
                manual = torch.nn.functional.dropout(b, 0.5, training: true);
        }
        CollectionAssert.AreEqual(manual.data<float>().ToArray(), woven.data<float>().ToArray());
    }

    [TestMethod]
    public void ContinuingBlockAttribute_OnAPlainClass_ContinuesAndIsolates()
    {
        Reproducible.SetSeed(5);
        var counter = new Counter();
        long[] before = Draws(2);
        long[] woven = [counter.Next(), counter.Next(), counter.Next()];
        long[] after = Draws(2);
        Assert.AreEqual(3, woven.Distinct().Count(), "each call continues the stream");

        // Not built by a woven constructor: the key is that of the first new stream under the top level.
        Reproducible.SetSeed(5);
        var owner = new object();
        CollectionAssert.AreEqual(before, Draws(2));
        long[] manual = new long[3];
        for (int call = 0; call < 3; call++)
        {
            using (Reproducible.ContinuingBlock(owner))
                manual[call] = Draw.Next();
        }
        CollectionAssert.AreEqual(manual, woven);
        CollectionAssert.AreEqual(after, Draws(2));
    }

    [TestMethod]
    public void SnapshotTakenBetweenCalls_ContinuesTheWovenStreamsExactly()
    {
        Reproducible.SetSeed(11);
        using var model = new TwoNoisy();
        _ = Mask(model.Second);
        byte[] saved = Reproducible.Capture().ToBytes();
        float[] next = Mask(model.Second), afterThat = Mask(model.Second);

        // A new process would build the model again after the same SetSeed, then restore.
        Reproducible.SetSeed(11);
        using var rebuilt = new TwoNoisy();
        Reproducible.Restore(RngSnapshot.FromBytes(saved));
        CollectionAssert.AreEqual(next, Mask(rebuilt.Second));
        CollectionAssert.AreEqual(afterThat, Mask(rebuilt.Second));
    }

    [TestMethod]
    public void WovenBlocks_AreTracedUnderTheirMemberNames()
    {
        string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"rb-woven-trace-{Guid.NewGuid():N}.jsonl");
        Reproducible.SetSeed(1);
        BlockTrace.Start(path);
        try
        {
            new Methods().Void();
            using var noisy = new Noisy();
            _ = Mask(noisy);
        }
        finally
        {
            BlockTrace.Stop();
        }
        string[] enters = System.IO.File.ReadAllLines(path)
            .Select(line => System.Text.Json.JsonDocument.Parse(line).RootElement)
            .Where(e => e.GetProperty("ev").GetString() == "enter")
            .Select(e => $"{e.GetProperty("kind").GetString()} {e.GetProperty("name").GetString()}").ToArray();
        System.IO.File.Delete(path);
        // A module's continuing block is named by its path in the model (trace format 2): the root module by its type.
        CollectionAssert.AreEqual(new[] { "block WeavingFixture.Methods.Void", "instance WeavingFixture.Noisy..ctor", "continuing Noisy" }, enters, string.Join(" | ", enters));
    }

    [TestMethod]
    public void ForwardOfAnOptedOutType_IsNotWoven()
    {
        Reproducible.SetSeed(1);
        using var plain = new NotABlock();
        long[] expected = Draws(3);
        Reproducible.SetSeed(1);
        using var again = new NotABlock();
        using torch.Tensor output = again.forward(torch.ones(2));
        CollectionAssert.AreEqual(expected, Draws(3), "NotABlock.forward draws nothing and opens no block");
        Assert.IsFalse(Decompiled.Type("WeavingFixture.NotABlock").Contains("ContinuingBlock", StringComparison.Ordinal));
    }
}
