using System;
using System.Linq;
using System.Reflection;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using WeavingFixture;

namespace ReproducibleBlock.Weaving.Tests;

/// <summary>
/// The shapes of issue 12, woven and run on real TorchSharp (CPU). Expected values come from blocks written here by
/// hand with the public API.
/// </summary>
[TestClass]
public sealed class WovenShapeTests
{
    private static long[] Draws(int count)
    {
        using torch.Tensor drawn = torch.randint(0, 1L << 31, new long[] { count });
        return drawn.data<long>().ToArray();
    }

    private static long[] InBlock(long seed, int count, bool instance = false, bool restoreOnExit = false)
    {
        using (instance ? Reproducible.InstanceBlock(seed, restoreOnExit) : Reproducible.Block(seed, restoreOnExit))
            return Draws(count);
    }

    /// <summary>A constructor's block (instance, restoring) with <paramref name="body"/> inside, written by hand.</summary>
    private static T InBlock<T>(long seed, Func<T> body)
    {
        using (Reproducible.InstanceBlock(seed, restoreOnExit: true))
            return body();
    }

    /// <summary>
    /// What <c>Chained</c> and <c>ChainedConditional(true)</c> draw: the chaining constructor's <c>Draw.Next()</c> (a call
    /// site), then <c>Values = [first, Draw.Next()]</c> (a member site, the call inside it), in one restoring block.
    /// </summary>
    private static long[] ChainedValues(long seed) => InBlock(seed, () => new[] { Sites.Next(), Sites.Member("Values", Sites.Next) });

    // Part 1: constructor blocks restore what they found.

    [TestMethod]
    public void ParentsOwnLayers_AfterItsChildren_AreBitIdentical_WhenAChildsDepthChanges()
    {
        float[] Head(int convLayers)
        {
            Reproducible.SetSeed(42);
            using var tower = new Tower(convLayers);
            return tower.HeadWeights();
        }
        float[] two = Head(2);
        CollectionAssert.AreEqual(two, Head(1));
        CollectionAssert.AreEqual(two, Head(3));
    }

    [TestMethod]
    public void SiblingModulesOfOneType_StillDiffer()
    {
        Reproducible.SetSeed(42);
        using var tower = new Tower(2);
        float[] Weights(FeatureExtractor f) => f.parameters().SelectMany(p => p.data<float>().ToArray()).ToArray();
        CollectionAssert.AreNotEqual(Weights(tower.Left), Weights(tower.Right));
    }

    [TestMethod]
    public void BuildingAWovenModule_IsInvisibleToTheCodeAroundIt()
    {
        Reproducible.SetSeed(42);
        long[] expected = Draws(5);
        Reproducible.SetSeed(42);
        using (new Classifier())
            CollectionAssert.AreEqual(expected, Draws(5), "the stream after the constructor is the stream before it");
    }

    [TestMethod]
    public void ConstructorWithRestoreOnExitFalse_ContinuesFromTheBlocksState()
    {
        Reproducible.SetSeed(42);
        long[] expected;
        using (Reproducible.InstanceBlock(19))
            expected = [Sites.Member("Drawn", Sites.Next)];
        long[] after = Draws(3);

        Reproducible.SetSeed(42);
        var woven = new LeavesItsState();
        Assert.AreEqual(expected[0], woven.Drawn);
        CollectionAssert.AreEqual(after, Draws(3));
    }

    [TestMethod]
    public void ClassAttributeConstructor_RestoresByDefault()
    {
        Reproducible.SetSeed(42);
        long[] expected = ChainedValues(10);
        long[] after = Draws(3);
        Reproducible.SetSeed(42);
        CollectionAssert.AreEqual(expected, new Chained().Values);
        CollectionAssert.AreEqual(after, Draws(3));
    }

    // Part 2.

    [TestMethod]
    public void InitAccessor_RunsInItsBlock()
    {
        Reproducible.SetSeed(42);
        long expected = 5 + InBlock(12, 1)[0];
        Reproducible.SetSeed(42);
        Assert.AreEqual(expected, new InitOnly { Value = 5 }.Value);
    }

    [TestMethod]
    public void ChainingThroughAConditional_EntersOneBlock_OnBothPaths()
    {
        Reproducible.SetSeed(42);
        long[] expected = ChainedValues(13);
        Reproducible.SetSeed(42);
        CollectionAssert.AreEqual(expected, new ChainedConditional(true).Values);
        Reproducible.SetSeed(42);
        CollectionAssert.AreEqual(new[] { -expected[0], expected[1] }, new ChainedConditional(false).Values);
    }

    [TestMethod]
    public void RecordWith_ConsumesNoBlock_AndMovesNoStream()
    {
        Reproducible.SetSeed(42);
        long first = InBlock(14, () => Sites.Member("Drawn", Sites.Next));
        long second = InBlock(14, () => Sites.Member("Drawn", Sites.Next));
        long[] after = Draws(3);

        Reproducible.SetSeed(42);
        var record = new Recorded();
        Recorded copy = record with { };
        var next = new Recorded();
        Assert.AreEqual(first, record.Drawn);
        Assert.AreEqual(first, copy.Drawn);
        Assert.AreEqual(second, next.Drawn, "the copy took no instance ordinal");
        CollectionAssert.AreEqual(after, Draws(3));
    }

    [TestMethod]
    public void StructConstructorBuildingALocalOfItsType_EntersANestedBlock()
    {
        Reproducible.SetSeed(42);
        long inner, outer;
        using (Reproducible.InstanceBlock(15, restoreOnExit: true))
        {
            inner = InBlock(15, 1, instance: true, restoreOnExit: true)[0];
            outer = Draws(1)[0];
        }
        Reproducible.SetSeed(42);
        var woven = new Nested(depth: 3);
        Assert.AreEqual(inner, woven.Inner);
        Assert.AreEqual(outer, woven.Outer);
    }

    [TestMethod]
    public void SkipLocalsInit_StaysHonoured()
    {
        MethodBody body = typeof(NoInit).GetMethod(nameof(NoInit.Buffered))!.GetMethodBody()!;
        Assert.IsFalse(body.InitLocals);
        Reproducible.SetSeed(42);
        long expected = InBlock(16, 1)[0];
        Assert.AreEqual(expected, NoInit.Buffered());
    }

    [TestMethod]
    public void ConversionOperators_GetSeedsThatIncludeTheReturnType()
    {
        long toLong = DecompiledShapeTests.NameSeed("method:WeavingFixture.Ticket::op_Explicit(WeavingFixture.Ticket):System.Int64");
        long toInt = DecompiledShapeTests.NameSeed("method:WeavingFixture.Ticket::op_Explicit(WeavingFixture.Ticket):System.Int32");
        Reproducible.SetSeed(42);
        long expectedLong = 7 + InBlock(toLong, 1)[0];
        int expectedInt = (int)(InBlock(toInt, 1)[0] % 1000) + 7;
        var ticket = new Ticket(7);
        Assert.AreEqual(expectedLong, (long)ticket);
        Assert.AreEqual(expectedInt, (int)ticket);
    }

    [TestMethod]
    public void LambdaAndLocalFunction_WithExplicitSeeds_RunInTheirBlocks()
    {
        Reproducible.SetSeed(42);
        long lambda = InBlock(17, 1)[0], local = InBlock(18, 1)[0];
        Assert.AreEqual(lambda, Lambdas.Lambda()());
        Assert.AreEqual(local, Lambdas.LocalFunction());
    }

    [TestMethod]
    public void WovenAssembly_CarriesTheMark_AndSetSeedWarnsAboutAnUnwovenOne()
    {
        Assembly fixture = typeof(Tower).Assembly;
        Assert.IsTrue(fixture.IsDefined(typeof(WovenAssemblyAttribute), inherit: false));

        // This test assembly uses the attributes (typeof below) and was not woven.
        Assert.IsNotNull(typeof(ReproducibleBlockAttribute));
        var warnings = new System.Collections.Generic.List<string>();
        var check = new UnwovenAssemblies();
        check.Check(AppDomain.CurrentDomain.GetAssemblies(), warnings.Add);
        check.Check(AppDomain.CurrentDomain.GetAssemblies(), warnings.Add);
        Assert.AreEqual(1, warnings.Count, string.Join("\n", warnings));
        StringAssert.Contains(warnings[0], "the assembly ReproducibleBlock.Weaving.Tests uses ReproducibleBlock's attributes");
        StringAssert.Contains(warnings[0], "<ReproducibleBlock />");
        StringAssert.Contains(warnings[0], "FodyWeavers.xml");
    }

    [TestMethod]
    public void SetSeed_WarnsAboutTheUnwovenAssembly_OnlyOnce()
    {
        var warnings = new System.Collections.Generic.List<string>();
        Action<string>? previous = Reproducible.WarningHandler;
        Reproducible.WarningHandler = warnings.Add;
        try
        {
            Reproducible.SetSeed(1);
            Reproducible.SetSeed(2);
        }
        finally
        {
            Reproducible.WarningHandler = previous;
        }
        Assert.IsFalse(warnings.Any(w => w.Contains("ReproducibleBlock.Weaving.Fixture", StringComparison.Ordinal)), "the woven fixture is marked");
        Assert.IsTrue(warnings.Count(w => w.Contains("ReproducibleBlock.Weaving.Tests", StringComparison.Ordinal)) <= 1);
    }

    [TestMethod]
    public void RefusalFromWovenCode_NamesTheMember()
    {
        // A flow that does not see the open block: a task started without the execution context.
        static InvalidOperationException OnAnotherFlow(Action action)
        {
            Task<InvalidOperationException> task;
            using (ExecutionContext.SuppressFlow())
                task = Task.Run(() => Assert.ThrowsExactly<InvalidOperationException>(action));
            return task.Result;
        }

        // Woven code there runs without touching the generators (see ConcurrentCallTests in the Core tests); when it draws
        // anyway, the refusal names the member.
        Reproducible.SetSeed(42);
        var counter = new Counter();
        const string Drew = "drew random numbers from torch's global generator on a thread or task that does not own the open blocks";
        using (Reproducible.Block(1))
        {
            StringAssert.StartsWith(OnAnotherFlow(() => _ = new Chained()).Message, "The block of WeavingFixture.Chained..ctor (block 10) " + Drew);
            StringAssert.StartsWith(OnAnotherFlow(() => Methods.Restoring()).Message, "The block of WeavingFixture.Methods.Restoring (block 5) " + Drew);
            StringAssert.StartsWith(OnAnotherFlow(() => counter.Next()).Message, "The continuing block of WeavingFixture.Counter.Next (a Counter) " + Drew);
        }
    }

    [TestMethod]
    public void HandWrittenBlocks_KeepTheirRefusal_WithoutAName()
    {
        Reproducible.SetSeed(42);
        using (Reproducible.Block(1))
        {
            Task<InvalidOperationException> task;
            using (ExecutionContext.SuppressFlow())
                task = Task.Run(() => Assert.ThrowsExactly<InvalidOperationException>(() => Reproducible.Block(5)));
            StringAssert.StartsWith(task.Result.Message, "Block 5 cannot run on this thread or task");
        }
    }

    [TestMethod]
    public void AddedFinally_HasAHiddenSequencePoint()
    {
        string pdb = System.IO.Path.ChangeExtension(typeof(Methods).Assembly.Location, ".pdb");
        using var provider = System.Reflection.Metadata.MetadataReaderProvider.FromPortablePdbStream(System.IO.File.OpenRead(pdb));
        System.Reflection.Metadata.MetadataReader reader = provider.GetMetadataReader();
        int token = typeof(Methods).GetMethod(nameof(Methods.Throws))!.MetadataToken;
        var handle = System.Reflection.Metadata.Ecma335.MetadataTokens.MethodDebugInformationHandle(token & 0xFFFFFF);
        var points = reader.GetMethodDebugInformation(handle).GetSequencePoints().ToList();
        Assert.IsTrue(points.Count >= 3);
        Assert.IsTrue(points[^1].IsHidden && points[^2].IsHidden, "the finally and the return after it belong to no source line");
        Assert.IsFalse(points[^3].IsHidden);
    }
}
