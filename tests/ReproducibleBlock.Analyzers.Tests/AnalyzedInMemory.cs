using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace ReproducibleBlock.Analyzers.Tests;

/// <summary>The analyzer run on a compilation as the compiler runs it, outside the verifiers: every diagnostic it reports.</summary>
internal static class AnalyzedInMemory
{
    public static ImmutableArray<Diagnostic> Diagnostics(Compilation compilation) =>
        compilation.WithAnalyzers([new BlockAnalyzer()]).GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult();

    /// <summary>The seed of each RB0010 (a name-derived block seed): what "Pin the seed" writes.</summary>
    public static long SeedOf(Diagnostic nameDerived) =>
        long.Parse(nameDerived.Properties[BlockAnalyzer.SeedProperty]!, CultureInfo.InvariantCulture);

    public static ImmutableArray<Diagnostic> NameDerived(Compilation compilation) =>
        [.. Diagnostics(compilation).Where(d => d.Id == Descriptors.NameDerivedSeed.Id)];
}
