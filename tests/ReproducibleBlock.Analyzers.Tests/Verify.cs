using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace ReproducibleBlock.Analyzers.Tests;

/// <summary>
/// Runs the analyzer and the code fix through Microsoft.CodeAnalysis.Testing on sources that use the real attributes
/// (ReproducibleBlock.Aspects) and a stand-in for ReproducibleBlock.Core's Reproducible class, compiled against the
/// running .NET's assemblies (no reference-assembly download).
/// </summary>
internal static class Verify
{
    /// <summary>The Reproducible.Block and InstanceBlock signatures of ReproducibleBlock.Core, without TorchSharp.</summary>
    public const string CoreStandIn = """
        namespace ReproducibleBlock
        {
            public static class Reproducible
            {
                public static System.IDisposable Block(long blockSeed, bool restoreOnExit = false) => null!;
                public static System.IDisposable InstanceBlock(long blockSeed, bool restoreOnExit = false) => null!;
            }
        }
        """;

    public static readonly ImmutableArray<MetadataReference> References =
    [
        .. ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(p) is "netstandard.dll" or "mscorlib.dll")
            .Select(p => MetadataReference.CreateFromFile(p)),
        MetadataReference.CreateFromFile(typeof(ReproducibleBlockAttribute).Assembly.Location),
    ];

    private static void Configure(SolutionState state)
    {
        state.AdditionalReferences.AddRange(References);
        state.Sources.Add(("Core.cs", CoreStandIn));
    }

    private sealed class AnalyzerTest : CSharpAnalyzerTest<BlockAnalyzer, DefaultVerifier>
    {
        public AnalyzerTest()
        {
            ReferenceAssemblies = new ReferenceAssemblies("net10.0");
            Configure(TestState);
        }

        protected override ParseOptions CreateParseOptions() => new CSharpParseOptions(LanguageVersion.Latest);
    }

    private sealed class CodeFixTest : CSharpCodeFixTest<BlockAnalyzer, PinSeedCodeFix, DefaultVerifier>
    {
        public CodeFixTest()
        {
            ReferenceAssemblies = new ReferenceAssemblies("net10.0");
            Configure(TestState);
            Configure(FixedState);
        }

        protected override ParseOptions CreateParseOptions() => new CSharpParseOptions(LanguageVersion.Latest);
    }

    /// <summary>
    /// Checks that <paramref name="source"/> gets exactly <paramref name="expected"/>; the info-level name-derived seed
    /// diagnostic (RB0010) is ignored unless <paramref name="withNameDerived"/>.
    /// </summary>
    public static Task Diagnostics(string source, params DiagnosticResult[] expected) => Diagnostics(source, withNameDerived: false, expected);

    public static Task Diagnostics(string source, bool withNameDerived, params DiagnosticResult[] expected)
    {
        var test = new AnalyzerTest { TestCode = source };
        if (!withNameDerived)
            test.DisabledDiagnostics.Add(Descriptors.NameDerivedSeed.Id);
        test.ExpectedDiagnostics.AddRange(expected);
        return test.RunAsync();
    }

    /// <summary>
    /// Checks that the fixes offered for <paramref name="source"/>, all applied, give <paramref name="fixedSource"/>
    /// with no diagnostic left; then weaves both with the real weaver (<see cref="WovenInMemory"/>): neither may fail
    /// the build, and every woven member must enter the same block, with the same seed and RestoreOnExit, after the fix
    /// as before it, so it draws what it drew.
    /// </summary>
    public static async Task Fix(string source, string fixedSource, params DiagnosticResult[] expected)
    {
        var test = new CodeFixTest { TestCode = source, FixedCode = fixedSource };
        test.ExpectedDiagnostics.AddRange(expected);
        await test.RunAsync();
        AssertWeavesAsBefore(WithoutMarkup(source), fixedSource);
    }

    private static void AssertWeavesAsBefore(string source, string fixedSource)
    {
        using WovenInMemory before = WovenInMemory.Weave(WovenInMemory.Compile(source));
        using WovenInMemory after = WovenInMemory.Weave(WovenInMemory.Compile(fixedSource));
        Assert.IsEmpty(before.Errors, "the source fails to weave:\n" + string.Join("\n", before.Errors));
        Assert.IsEmpty(after.Errors, "the fixed source fails to weave:\n" + string.Join("\n", after.Errors));
        IReadOnlyDictionary<string, WovenEntry> was = before.Entries(), now = after.Entries();
        Assert.IsNotEmpty(was, "the source weaves no seeded block");
        CollectionAssert.AreEquivalent(was.Keys.ToArray(), now.Keys.ToArray(), "the same members are woven");
        foreach ((string method, WovenEntry entry) in was)
            Assert.AreEqual(entry, now[method], $"{method} enters another block after the fix");
    }

    /// <summary>The source without the verifiers' markup (<c>{|#0:...|}</c>, <c>[|...|]</c>).</summary>
    private static string WithoutMarkup(string source) => Regex.Replace(source, @"\{\|[^:|]*:|\|\}|\[\||\|\]", "");

    /// <summary>
    /// As <see cref="Diagnostics(string, DiagnosticResult[])"/>, then weaves <paramref name="source"/> with the real
    /// weaver: it must report as many errors as the analyzer's errors expected, and as many warnings as its RB0008 and
    /// RB0011 (the weaver's own warnings), so the analyzer shows while typing what the build will say.
    /// </summary>
    public static async Task DiagnosticsAsWoven(string source, params DiagnosticResult[] expected)
    {
        await Diagnostics(source, expected);
        using WovenInMemory woven = WovenInMemory.Weave(WovenInMemory.Compile(WithoutMarkup(source)));
        Assert.HasCount(expected.Count(d => d.Severity == DiagnosticSeverity.Error), woven.Errors, "the weaver's errors:\n" + string.Join("\n", woven.Errors));
        Assert.HasCount(expected.Count(d => d.Id is "RB0008" or "RB0011"), woven.Warnings, "the weaver's warnings:\n" + string.Join("\n", woven.Warnings));
    }

    public static DiagnosticResult Diagnostic(DiagnosticDescriptor descriptor) => new(descriptor);
}
