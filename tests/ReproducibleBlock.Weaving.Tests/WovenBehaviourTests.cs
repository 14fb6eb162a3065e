using System;
using System.Diagnostics;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.Tests.Shared;
using TorchSharp;
using WeavingFixture;

[assembly: DoNotParallelize] // the torch default generator is process-global

namespace ReproducibleBlock.Weaving.Tests;

/// <summary>The woven fixture, run on real TorchSharp (CPU). Expected values come from manual blocks written here.</summary>
[TestClass]
public sealed class WovenBehaviourTests
{
    private static long[] Draws(int count)
    {
        using torch.Tensor drawn = torch.randint(0, 1L << 31, new long[] { count });
        return drawn.data<long>().ToArray();
    }

    [TestMethod]
    public void ToyModel_AddingAConvLayer_LeavesTheClassifierBitIdentical()
    {
        float[] Classifier(int convLayers)
        {
            Reproducible.SetSeed(42);
            using var model = new ToyModel(convLayers);
            return model.Classifier.Weights();
        }
        float[] two = Classifier(2);
        CollectionAssert.AreEqual(two, Classifier(3));
        CollectionAssert.AreEqual(two, Classifier(1));
    }

    [TestMethod]
    public void ToyModel_IsIdenticalAcrossTwoConstructionsAfterSetSeed()
    {
        float[] Everything()
        {
            Reproducible.SetSeed(7);
            using var model = new ToyModel(2);
            return model.parameters().SelectMany(p => p.data<float>().ToArray()).ToArray();
        }
        CollectionAssert.AreEqual(Everything(), Everything());
    }

    [TestMethod]
    public void TwoInstancesOfOneModule_GetDifferentWeights()
    {
        Reproducible.SetSeed(42);
        using var first = new Classifier();
        using var second = new Classifier();
        CollectionAssert.AreNotEqual(first.Weights(), second.Weights());
    }

    /// <summary>
    /// Each field initialiser's value is a member site, and the Linear call inside it a call site in the member's block:
    /// the same numbers as the runtime's entry points called by hand in that order.
    /// </summary>
    [TestMethod]
    public void WovenConstructor_EqualsAManualInstanceBlock_WithItsSites()
    {
        Reproducible.SetSeed(42);
        using var woven = new Classifier();
        Reproducible.SetSeed(42);
        float[] manual;
        using (Reproducible.InstanceBlock(DecompiledShapeTests.NameSeed("ctor:WeavingFixture.Classifier")))
        {
            using var hidden = Sites.Member("_hidden", () => Sites.Call("Linear", () => torch.nn.Linear(64, 128)));
            using var output = Sites.Member("_output", () => Sites.Call("Linear", () => torch.nn.Linear(128, 10)));
            manual = [.. hidden.weight!.data<float>(), .. hidden.bias!.data<float>(), .. output.weight!.data<float>(), .. output.bias!.data<float>()];
        }
        CollectionAssert.AreEqual(manual, woven.Weights());
    }

    [TestMethod]
    public void DecoratedTrain_SeesTheSameStateOnEveryCall()
    {
        Reproducible.SetSeed(42);
        long[] first = Training.Train(8);
        Draws(50);
        CollectionAssert.AreEqual(first, Training.Train(8));
        long[] expected;
        using (Reproducible.Block(128))
            expected = Draws(8);
        CollectionAssert.AreEqual(expected, first);
    }

    private static long Expected(long seed)
    {
        using (Reproducible.Block(seed))
            return Draws(1)[0];
    }

    [TestMethod]
    public void Methods_OfEveryShape_RunInTheirBlock()
    {
        Reproducible.SetSeed(42);
        var methods = new Methods();
        methods.Void();
        Assert.AreEqual(Expected(1), methods.Last);
        Assert.AreEqual(Expected(2), methods.ManyReturns(0));
        Assert.AreEqual(-Expected(2), methods.ManyReturns(1));
        Assert.AreEqual(2 * Expected(2), methods.ManyReturns(2));
        Assert.AreEqual(3 * Expected(2), methods.ManyReturns(3));
        ref long field = ref methods.RefReturn();
        Assert.AreEqual(Expected(3), field);
        Assert.AreEqual(Expected(4).ToString(), Methods.Generic(v => v.ToString()));
        Assert.AreEqual((Expected(8), "x"), (new GenericType<string>().Pair("x").Drawn, "x"));
        var point = new Point { X = 1 };
        Assert.AreEqual(1 + Expected(9), point.Move());
        Assert.AreEqual(1 + Expected(9), point.X, "a struct member changes the struct itself");
        Assert.AreEqual(Expected(DecompiledShapeTests.NameSeed("method:WeavingFixture.Methods::NamedSeed()")), Methods.NamedSeed());
        Assert.AreEqual(Methods.SharedA(), Methods.SharedB(), "sharing a seed deliberately shares the stream");
    }

    [TestMethod]
    public void ExceptionPath_InsideTheTry_StillLeavesTheBlock()
    {
        Reproducible.SetSeed(42);
        Assert.ThrowsExactly<InvalidOperationException>(() => new Methods().ManyReturns(4));
        Reproducible.SetSeed(42); // refused if the block had stayed open
    }

    [TestMethod]
    public void RestoringMethod_LeavesTheOuterStreamUntouched()
    {
        Reproducible.SetSeed(42);
        long[] expected = Draws(5);
        long inside;
        using (Reproducible.Block(5, restoreOnExit: true))
            inside = Draws(1)[0];
        Reproducible.SetSeed(42);
        Assert.AreEqual(inside, Methods.Restoring());
        CollectionAssert.AreEqual(expected, Draws(5));
    }

    [TestMethod]
    public void Exception_PropagatesUnchanged_WithItsOriginalLineNumber()
    {
        Reproducible.SetSeed(42);
        var error = Assert.ThrowsExactly<ArithmeticException>(() => Methods.Throws(true));
        Assert.AreEqual("thrown on purpose", error.Message);
        StackFrame frame = new StackTrace(error, fNeedFileInfo: true).GetFrames().First(f => f.GetMethod()?.Name == nameof(Methods.Throws));
        Assert.AreEqual("Shapes.cs", System.IO.Path.GetFileName(frame.GetFileName()));
        string source = System.IO.Path.Combine(Repository.Root, "tests", "ReproducibleBlock.Weaving.Fixture", "Shapes.cs");
        int throwLine = System.IO.File.ReadAllLines(source).ToList().FindIndex(l => l.Contains("thrown on purpose")) + 1;
        Assert.AreEqual(throwLine, frame.GetFileLineNumber(), "the line of the throw statement in Shapes.cs");
        Reproducible.SetSeed(42);
        Assert.AreEqual(Expected(6), Methods.Throws(false));
    }

    /// <summary>
    /// <c>Chained() : this(Draw.Next())</c> and <c>Chained(long first) =&gt; Values = [first, Draw.Next()]</c>: one block, in
    /// which the chaining constructor's call and the chained-to constructor's member are sites.
    /// </summary>
    [TestMethod]
    public void ChainedConstructors_EnterOneBlock()
    {
        Reproducible.SetSeed(42);
        long[] expected;
        using (Reproducible.InstanceBlock(10))
            expected = [Sites.Next(), Sites.Member("Values", Sites.Next)];
        Reproducible.SetSeed(42);
        CollectionAssert.AreEqual(expected, new Chained().Values);
        Reproducible.SetSeed(42);
        long direct;
        using (Reproducible.InstanceBlock(10))
            direct = Sites.Member("Values", Sites.Next);
        Reproducible.SetSeed(42);
        Assert.AreEqual(direct, new Chained(5).Values[1], "called directly, the chained-to constructor enters the block itself");
    }

    /// <summary>
    /// A field initialiser (a member site), the base constructor (not a site: it draws in the constructor's block, from
    /// where the last site left the generator) and the body's member, all inside the one block.
    /// </summary>
    [TestMethod]
    public void FieldInitialiserAndBaseConstructor_RunInsideTheBlock()
    {
        Reproducible.SetSeed(42);
        long[] expected;
        using (Reproducible.InstanceBlock(11))
            expected = [Sites.Member("_fromInitializer", Sites.Next), Sites.DrawOne(), Sites.Member("FromBody", Sites.Next)];
        Reproducible.SetSeed(42);
        var derived = new Derived();
        CollectionAssert.AreEqual(expected, new[] { derived.FromInitializer, derived.FromBase, derived.FromBody });
    }
}
