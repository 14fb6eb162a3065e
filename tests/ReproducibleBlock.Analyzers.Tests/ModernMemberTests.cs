using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace ReproducibleBlock.Analyzers.Tests;

/// <summary>
/// C# 14 extension members and partial constructors and events (issue 20, defect 1), compiled, analyzed and woven by
/// the real weaver in memory. The compiler copies an extension member's attributes onto a skeleton that only throws
/// (in a <c>&lt;G&gt;$…</c> grouping type) and onto the static method that implements it; only the latter is a block.
/// </summary>
[TestClass]
public sealed class ModernMemberTests
{
    private const string Extensions = """
        using System.Collections.Generic;
        using ReproducibleBlock;
        namespace Probe;
        public static class Ext
        {
            extension(long[] a)
            {
                [ReproducibleBlock(509)] public long M() => a.Length;
                public long P { [ReproducibleBlock(510)] get => a.Length; }
                [ReproducibleBlock(511)] public static long S(int y) => y;
            }
            extension<T>(List<T> list)
            {
                [ReproducibleBlock(512)] public T G<U>(U u) => list[0];
            }
            extension(ref int x)
            {
                [ReproducibleBlock(513)] public void Increment() => x++;
            }
        }
        """;

    [TestMethod]
    public void ExtensionMembers_WithSeeds_AreWovenOnce_InTheirImplementations()
    {
        using WovenInMemory woven = WovenInMemory.Weave(WovenInMemory.Compile(Extensions));
        Assert.IsEmpty(woven.Errors, string.Join("\n", woven.Errors));
        IReadOnlyDictionary<string, WovenEntry> entries = woven.Entries();
        CollectionAssert.AreEquivalent(new[]
        {
            "System.Int64 Probe.Ext::M(System.Int64[])",
            "System.Int64 Probe.Ext::get_P(System.Int64[])",
            "System.Int64 Probe.Ext::S(System.Int32)",
            "T Probe.Ext::G(System.Collections.Generic.List`1<T>,U)",
            "System.Void Probe.Ext::Increment(System.Int32&)",
        }, entries.Keys.ToArray(), "the implementations only: the skeletons in the grouping types are not woven");
        CollectionAssert.AreEquivalent(new long[] { 509, 510, 511, 512, 513 }, entries.Values.Select(e => e.Seed).ToArray());
    }

    [TestMethod]
    public void ExtensionMembers_WithoutSeeds_GetTheAnalyzersSeeds()
    {
        Compilation compilation = WovenInMemory.Compile(Regex.Replace(Extensions, @"ReproducibleBlock\(\d+\)", "ReproducibleBlock"));
        Diagnostic[] derived = [.. AnalyzedInMemory.NameDerived(compilation)];
        using WovenInMemory woven = WovenInMemory.Weave(compilation);
        Assert.IsEmpty(woven.Errors, string.Join("\n", woven.Errors));
        long[] wovenSeeds = [.. woven.Entries().Values.Select(e => e.Seed)];
        Assert.HasCount(5, derived, string.Join("\n", derived.Select(d => d.ToString())));
        CollectionAssert.AreEquivalent(wovenSeeds, derived.Select(AnalyzedInMemory.SeedOf).ToArray(), "what Pin the seed writes is what the weaver enters");
        Assert.AreEqual(SeedHash.Derive("method:Probe.Ext::M(System.Int64[])"), AnalyzedInMemory.SeedOf(derived.Single(d => d.GetMessage().Contains("extension(long[]).M()", System.StringComparison.Ordinal))));
    }

    [TestMethod]
    public void ExtensionMembers_AreNamedAsWritten_InTheWeaversAndTheAnalyzersMessages()
    {
        string source = """
            using ReproducibleBlock;
            namespace Probe;
            public static class Ext
            {
                extension(long[] a)
                {
                    [ReproducibleBlock(509)] public long M() => a.Length;
                    [ReproducibleBlock(509)] public long N(int x) => a.Length + x;
                    [ContinuingBlock] public long C() => a.Length;
                }
            }
            """;
        Compilation compilation = WovenInMemory.Compile(source);
        string[] analyzer = [.. AnalyzedInMemory.Diagnostics(compilation).Select(d => $"{d.Id} {d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}")];
        CollectionAssert.Contains(analyzer, "RB0006 Block seed 509 of the method Probe.Ext.extension(long[]).N(int) is also the seed of the method Probe.Ext.extension(long[]).M(). "
            + "Every block needs its own seed, or the two draw the same numbers: change one, or set AllowSharedSeed = true on each of them to share it deliberately.", string.Join("\n", analyzer));
        Assert.IsTrue(analyzer.Any(d => d.StartsWith("RB0004 The static method Probe.Ext.extension(long[]).C() has [ContinuingBlock]", System.StringComparison.Ordinal)), string.Join("\n", analyzer));

        using WovenInMemory woven = WovenInMemory.Weave(compilation);
        CollectionAssert.AreEqual(new[]
        {
            "Source0.cs(9,46): The static method Probe.Ext.extension(Int64[]).C() has [ContinuingBlock]: a continuing block is the stream of an instance, and a static method has none. "
                + "Use [ReproducibleBlock] for a block with a seed, or call Reproducible.ContinuingBlock(owner) with the object that owns the stream.",
            "Source0.cs(8,58): Block seed 509 of the method Probe.Ext.extension(Int64[]).N(Int32) is also the seed of the method Probe.Ext.extension(Int64[]).M() (/src/Source0.cs(7,53)). "
                + "Every block needs its own seed, or the two draw the same numbers: change one, or set AllowSharedSeed = true on each of them to share it deliberately.",
        }, woven.Errors.ToArray(), string.Join("\n", woven.Errors));
    }

    /// <summary>In a generic extension block the member is matched to its implementation with the block's type parameters first.</summary>
    [TestMethod]
    public void GenericExtensionMembers_AreNamedAsWritten_InTheWeaversMessages()
    {
        using WovenInMemory woven = WovenInMemory.Weave(WovenInMemory.Compile("""
            using System.Collections.Generic;
            using ReproducibleBlock;
            namespace Probe;
            public static class Ext
            {
                extension<T>(List<T> list)
                {
                    [ReproducibleBlock(7)] public T First<U>(U u) => list[0];
                    [ReproducibleBlock(7)] public static int Count(T[] items) => items.Length;
                }
            }
            """));
        string error = woven.Errors.Single();
        StringAssert.Contains(error, "Block seed 7 of the method Probe.Ext.extension(List`1).Count(T[]) is also the seed of the method Probe.Ext.extension(List`1).First(U)");
    }

    [TestMethod]
    public Task ExtensionMember_IsPinned_WithTheImplementationsSeed() => Verify.Fix("""
        using ReproducibleBlock;
        namespace Probe;
        public static class Ext
        {
            extension(long[] a)
            {
                [{|#0:ReproducibleBlock|}] public long M() => a.Length;
            }
        }
        """, $$"""
        using ReproducibleBlock;
        namespace Probe;
        public static class Ext
        {
            extension(long[] a)
            {
                [ReproducibleBlock({{SeedHash.Derive("method:Probe.Ext::M(System.Int64[])")}})] public long M() => a.Length;
            }
        }
        """, Verify.Diagnostic(Descriptors.NameDerivedSeed).WithLocation(0)
            .WithArguments("method Probe.Ext.extension(long[]).M()", SeedHash.Derive("method:Probe.Ext::M(System.Int64[])").ToString(System.Globalization.CultureInfo.InvariantCulture)));

    [TestMethod]
    public void PartialConstructorsAndEvents_AreWovenOnce_WithTheAnalyzersSeeds()
    {
        Compilation compilation = WovenInMemory.Compile("""
            using System;
            using ReproducibleBlock;
            namespace Probe;
            public partial class Part
            {
                [ReproducibleBlock] public partial Part(int x);
                public partial event Action Changed;
                public partial int Value { get; }
            }
            public partial class Part
            {
                public partial Part(int x) { }
                public partial event Action Changed { [ReproducibleBlock] add { } remove { } }
                public partial int Value { [ReproducibleBlock] get => 1; }
            }
            """);
        Diagnostic[] derived = [.. AnalyzedInMemory.NameDerived(compilation)];
        using WovenInMemory woven = WovenInMemory.Weave(compilation);
        Assert.IsEmpty(woven.Errors, string.Join("\n", woven.Errors));
        IReadOnlyDictionary<string, WovenEntry> entries = woven.Entries();
        CollectionAssert.AreEquivalent(new[] { "System.Void Probe.Part::.ctor(System.Int32)", "System.Void Probe.Part::add_Changed(System.Action)", "System.Int32 Probe.Part::get_Value()" }, entries.Keys.ToArray());
        Assert.HasCount(3, derived, string.Join("\n", derived.Select(d => d.ToString())));
        CollectionAssert.AreEquivalent(entries.Values.Select(e => e.Seed).ToArray(), derived.Select(AnalyzedInMemory.SeedOf).ToArray());
    }

    /// <summary>
    /// A lambda with an explicit seed in a field initializer (defect 3): the compiler emits it once per constructor that
    /// runs the initializers, and both copies are woven as one block, with its seed. The analyzer reports nothing.
    /// </summary>
    [TestMethod]
    public void FieldInitializerLambda_CopiedIntoEachConstructor_IsOneBlock()
    {
        Compilation compilation = WovenInMemory.Compile("""
            using System;
            using ReproducibleBlock;
            namespace Probe;
            public sealed class Model
            {
                private readonly Func<int> _draw = [ReproducibleBlock(26)] () => 1;
                public Model() { }
                public Model(int x) { }
            }
            """);
        Assert.IsEmpty(AnalyzedInMemory.Diagnostics(compilation));
        using WovenInMemory woven = WovenInMemory.Weave(compilation);
        Assert.IsEmpty(woven.Errors, string.Join("\n", woven.Errors));
        WovenEntry[] copies = [.. woven.Entries().Where(e => e.Key.Contains("<.ctor>b__", System.StringComparison.Ordinal)).Select(e => e.Value)];
        Assert.HasCount(2, copies, "one copy per constructor");
        Assert.IsTrue(copies.All(c => c == new WovenEntry("EnterBlock", 26, false)));
    }
}
