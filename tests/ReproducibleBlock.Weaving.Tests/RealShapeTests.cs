extern alias unisolated;

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;
using Isolated = WeavingFixture.RealShapes;
using Unisolated = unisolated::WeavingFixture.RealShapes;

namespace ReproducibleBlock.Weaving.Tests;

/// <summary>
/// Issue 19's two real cases, in models of the same shapes (the fixture's RealShapes folder: an AlexNet whose parts are
/// two Sequentials built in one constructor, a ResNet whose blocks are built in loops by MakeLayer through a delegate,
/// a ModuleList, register_module, Dropouts called directly), woven by the one-line rule and run on real TorchSharp
/// (CPU). Every property both ways: the change leaves the other parts bit-identical in the fixture, and the same change
/// in the control (the same source files woven with <c>IsolateParts = false</c>, 0.2's streams) moves them.
/// </summary>
[TestClass]
public sealed class RealShapeTests
{
    private const int Classes = 10;

    private static Dictionary<string, float[]> Parameters(Func<nn.Module> build)
    {
        Reproducible.SetSeed(42);
        using nn.Module model = build();
        return model.named_parameters().ToDictionary(p => p.name, p => p.parameter.data<float>().ToArray());
    }

    /// <summary>The parameters whose names start with <paramref name="prefix"/>: in both, with the same keys.</summary>
    private static List<(string Name, float[] A, float[] B)> Part(Dictionary<string, float[]> a, Dictionary<string, float[]> b, string prefix)
    {
        string[] names = [.. a.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal)];
        CollectionAssert.AreEqual(names, b.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToArray(), $"{prefix}: the same parameters");
        Assert.IsNotEmpty(names, prefix);
        return [.. names.Select(n => (n, a[n], b[n]))];
    }

    private static void AssertBitIdentical(Dictionary<string, float[]> a, Dictionary<string, float[]> b, string prefix)
    {
        foreach ((string name, float[] x, float[] y) in Part(a, b, prefix))
            CollectionAssert.AreEqual(x, y, $"{name} is bit-identical");
    }

    private static void AssertMoved(Dictionary<string, float[]> a, Dictionary<string, float[]> b, string prefix) =>
        Assert.IsTrue(Part(a, b, prefix).Any(p => !p.A.SequenceEqual(p.B)), $"{prefix} moved");

    // (a) AlexNet: a conv added inside features leaves every classifier weight, and vice versa.

    [TestMethod]
    public void AlexNet_AConvAddedInsideFeatures_LeavesEveryClassifierWeight_AndWithoutIsolatedPartsMovesThem()
    {
        AssertBitIdentical(
            Parameters(() => new Isolated.TinyAlexNet(Classes)),
            Parameters(() => new Isolated.TinyAlexNet(Classes, Isolated.Features.ExtraConv)), "classifier.");
        AssertMoved(
            Parameters(() => new Unisolated.TinyAlexNet(Classes)),
            Parameters(() => new Unisolated.TinyAlexNet(Classes, Unisolated.Features.ExtraConv)), "classifier.");
    }

    /// <summary>
    /// The other way. The control cannot move the features here (they are built before the classifier, and 0.2's
    /// block already gave them the same draws): what this shows is that the sites added nothing that depends on what
    /// comes after.
    /// </summary>
    [TestMethod]
    public void AlexNet_ALinearAddedInsideTheClassifier_LeavesEveryFeatureWeight()
    {
        AssertBitIdentical(
            Parameters(() => new Isolated.TinyAlexNet(Classes)),
            Parameters(() => new Isolated.TinyAlexNet(Classes, extraLinear: true)), "features.");
        AssertBitIdentical(
            Parameters(() => new Isolated.TinyAlexNet(Classes, Isolated.Features.ExtraConv)),
            Parameters(() => new Isolated.TinyAlexNet(Classes, Isolated.Features.ExtraConv, extraLinear: true)), "features.");
    }

    [TestMethod]
    public void AlexNet_SameModelBuiltTwice_IsBitIdentical_AndItsPartsDiffer()
    {
        Dictionary<string, float[]> first = Parameters(() => new Isolated.TinyAlexNet(Classes));
        Dictionary<string, float[]> again = Parameters(() => new Isolated.TinyAlexNet(Classes));
        foreach ((string name, float[] a, float[] b) in Part(first, again, ""))
            CollectionAssert.AreEqual(a, b, name);
        // Two Linear(64, 64)-sized draws in one part are two calls of one callee: their own ordinals, their own weights.
        CollectionAssert.AreNotEqual(first["classifier.l1.bias"][..8], first["classifier.l2.bias"][..8]);
    }

    // (b) ResNet: one more block in the first MakeLayer leaves the blocks of the other three and the final Linear.

    private static readonly int[] Shorter = [2, 2, 2, 2], Longer = [3, 2, 2, 2];

    [TestMethod]
    public void ResNet_OneMoreBlockInTheFirstLayer_LeavesTheOtherLayersBlocksAndTheFinalLinear_AndWithoutIsolatedPartsMovesTheBlocks()
    {
        Dictionary<string, float[]> shorter = Parameters(() => Isolated.TinyResNet.ResNet18(Classes, Shorter));
        Dictionary<string, float[]> longer = Parameters(() => Isolated.TinyResNet.ResNet18(Classes, Longer));
        foreach (string part in new[] { "layers.conv2d-first.", "layers.blck-16-0.", "layers.blck-16-1.", "layers.blck-32-", "layers.blck-64-", "layers.blck-128-", "layers.linear." })
            AssertBitIdentical(shorter, longer, part);

        Dictionary<string, float[]> controlShorter = Parameters(() => Unisolated.TinyResNet.ResNet18(Classes, Shorter));
        Dictionary<string, float[]> controlLonger = Parameters(() => Unisolated.TinyResNet.ResNet18(Classes, Longer));
        foreach (string part in new[] { "layers.blck-32-", "layers.blck-64-", "layers.blck-128-" })
            AssertMoved(controlShorter, controlLonger, part);
        // In 0.2 the final Linear already stayed: the blocks' constructors restore the ResNet's stream when they end.
        AssertBitIdentical(controlShorter, controlLonger, "layers.linear.");
    }

    [TestMethod]
    public void ResNet_ShorterLaterLayers_LeaveTheEarlierLayersAndTheLinear()
    {
        AssertBitIdentical(
            Parameters(() => Isolated.TinyResNet.ResNet18(Classes, [2, 2, 2, 2])),
            Parameters(() => Isolated.TinyResNet.ResNet18(Classes, [2, 1, 2, 1])), "layers.blck-64-");
        Dictionary<string, float[]> a = Parameters(() => Isolated.TinyResNet.ResNet18(Classes, [2, 2, 2, 2]));
        Dictionary<string, float[]> b = Parameters(() => Isolated.TinyResNet.ResNet18(Classes, [2, 2, 2, 1]));
        foreach (string part in new[] { "layers.blck-16-", "layers.blck-32-", "layers.blck-64-", "layers.blck-128-0.", "layers.linear." })
            AssertBitIdentical(a, b, part);
    }

    // (c) A Dropout added inside features leaves every classifier dropout mask, over several training steps.

    /// <summary>
    /// Trains <paramref name="steps"/> SGD steps on the same inputs and records, for every Dropout of the classifier on
    /// every step, which units it dropped and which it could be seen to drop (a zero input hides the mask).
    /// </summary>
    private static List<(bool[] Dropped, bool[] Visible)> ClassifierMasks(Func<nn.Module<Tensor, Tensor>> build, int steps = 4)
    {
        Reproducible.SetSeed(42);
        Tensor[] inputs = [.. Enumerable.Range(0, steps).Select(_ => rand(8, 3, 16, 16))];
        Tensor labels = randint(0, Classes, [8]);
        using nn.Module<Tensor, Tensor> model = build();
        var masks = new List<(bool[], bool[])>();
        foreach ((string name, nn.Module module) in model.named_modules().Where(m => m.name.StartsWith("classifier.", StringComparison.Ordinal)))
        {
            if (module is TorchSharp.Modules.Dropout dropout)
            {
                dropout.register_forward_hook((_, input, output) =>
                {
                    masks.Add(([.. output.eq(0).data<bool>()], [.. input.ne(0).data<bool>()]));
                    return null!;
                });
            }
        }
        model.train();
        using var optimizer = optim.SGD(model.parameters(), 0.05);
        foreach (Tensor input in inputs)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            nn.functional.cross_entropy(model.forward(input), labels).backward();
            optimizer.step();
        }
        Assert.HasCount(3 * steps, masks, "three dropouts, every step");
        return masks;
    }

    /// <summary>Whether the masks agree wherever both runs could see them; throws when too little of them is visible to tell.</summary>
    private static bool SameMasks(List<(bool[] Dropped, bool[] Visible)> a, List<(bool[] Dropped, bool[] Visible)> b)
    {
        Assert.HasCount(a.Count, b);
        int seen = 0, total = 0;
        bool same = true;
        for (int i = 0; i < a.Count; i++)
        {
            for (int unit = 0; unit < a[i].Dropped.Length; unit++)
            {
                total++;
                if (!a[i].Visible[unit] || !b[i].Visible[unit])
                    continue;
                seen++;
                same &= a[i].Dropped[unit] == b[i].Dropped[unit];
            }
        }
        Assert.IsGreaterThan(total / 3, seen, "enough of the masks is visible in both runs to compare them");
        return same;
    }

    [TestMethod]
    public void AlexNet_ADropoutAddedInsideFeatures_LeavesEveryClassifierMask_AndWithoutIsolatedPartsMovesThem()
    {
        List<(bool[], bool[])> plain = ClassifierMasks(() => new Isolated.TinyAlexNet(Classes));
        List<(bool[], bool[])> withDropout = ClassifierMasks(() => new Isolated.TinyAlexNet(Classes, Isolated.Features.ExtraDropout));
        Assert.IsTrue(SameMasks(plain, withDropout), "every classifier mask of every step is the same");
        Assert.IsFalse(SameMasks(plain[..3], plain[3..6]), "control: each step draws fresh masks");

        Assert.IsFalse(SameMasks(
            ClassifierMasks(() => new Unisolated.TinyAlexNet(Classes)),
            ClassifierMasks(() => new Unisolated.TinyAlexNet(Classes, Unisolated.Features.ExtraDropout))), "without isolated parts, the features' dropout moves the classifier's masks");
    }

    // ModuleList and register_module.

    [TestMethod]
    public void ModuleList_OneMoreHiddenLayer_LeavesTheHead_AndWithoutIsolatedPartsMovesIt()
    {
        static float[] Head(Func<Isolated.StackedMlp> build)
        {
            Reproducible.SetSeed(42);
            using Isolated.StackedMlp model = build();
            return model.HeadWeights();
        }
        static float[] ControlHead(Func<Unisolated.StackedMlp> build)
        {
            Reproducible.SetSeed(42);
            using Unisolated.StackedMlp model = build();
            return model.HeadWeights();
        }
        CollectionAssert.AreEqual(Head(() => new Isolated.StackedMlp(2)), Head(() => new Isolated.StackedMlp(3)));
        CollectionAssert.AreNotEqual(ControlHead(() => new Unisolated.StackedMlp(2)), ControlHead(() => new Unisolated.StackedMlp(3)));
    }

    [TestMethod]
    public void RegisterModule_AWiderEncoder_LeavesTheDecoder_AndWithoutIsolatedPartsMovesIt()
    {
        Dictionary<string, float[]> narrow = Parameters(() => new Isolated.Registered(8));
        Dictionary<string, float[]> wide = Parameters(() => new Isolated.Registered(16));
        AssertBitIdentical(narrow, wide, "decoder.");
        AssertMoved(Parameters(() => new Unisolated.Registered(8)), Parameters(() => new Unisolated.Registered(16)), "decoder.");
    }

    // A Dropout's forward called directly from a woven forward.

    private static float[][] SecondMasks(Func<nn.Module<Tensor, Tensor>> build)
    {
        Reproducible.SetSeed(42);
        using nn.Module<Tensor, Tensor> model = build();
        model.train();
        return [.. Enumerable.Range(0, 3).Select(_ =>
        {
            using Tensor output = model.forward(ones(32));
            return output.data<float>().ToArray()[32..];
        })];
    }

    [TestMethod]
    public void ADropoutsForwardCalledDirectly_DrawsFromItsPathStream_AsThroughCall_AndWithoutIsolatedPartsFromTheModules()
    {
        float[][] direct = SecondMasks(() => new Isolated.DirectDropout(noiseFirst: false, viaCall: false));
        float[][] afterNoise = SecondMasks(() => new Isolated.DirectDropout(noiseFirst: true, viaCall: false));
        float[][] throughCall = SecondMasks(() => new Isolated.DirectDropout(noiseFirst: false, viaCall: true));
        for (int call = 0; call < direct.Length; call++)
        {
            CollectionAssert.AreEqual(direct[call], afterNoise[call], $"call {call}: a draw in the module's own stream before it changes nothing");
            CollectionAssert.AreEqual(direct[call], throughCall[call], $"call {call}: forward() woven and call() hooked enter the same stream");
        }
        CollectionAssert.AreNotEqual(direct[0], direct[1], "each call a fresh mask");

        float[][] control = SecondMasks(() => new Unisolated.DirectDropout(noiseFirst: false, viaCall: false));
        float[][] controlAfterNoise = SecondMasks(() => new Unisolated.DirectDropout(noiseFirst: true, viaCall: false));
        Assert.IsTrue(Enumerable.Range(0, 3).Any(call => !control[call].SequenceEqual(controlAfterNoise[call])), "in the module's own stream, the draw before it moves its masks");
    }

    // Inference from several threads.

    [TestMethod]
    public void Inference_FromManyThreads_OnAWovenModelInEval_EqualsSequentialInference()
    {
        Reproducible.SetSeed(42);
        using var model = new Isolated.TinyAlexNet(Classes, Isolated.Features.ExtraDropout);
        Tensor[] inputs = [.. Enumerable.Range(0, 32).Select(_ => rand(2, 3, 16, 16))];
        using (no_grad())
        {
            model.eval();
            float[][] sequential = [.. inputs.Select(i => model.forward(i).data<float>().ToArray())];
            var parallel = new float[inputs.Length][];
            Parallel.For(0, inputs.Length, i => parallel[i] = model.forward(inputs[i]).data<float>().ToArray());
            for (int i = 0; i < inputs.Length; i++)
                CollectionAssert.AreEqual(sequential[i], parallel[i], $"input {i}");
        }
    }
}
