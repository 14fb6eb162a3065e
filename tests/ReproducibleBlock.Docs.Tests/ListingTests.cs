using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.Tests.Shared;

namespace ReproducibleBlock.Docs.Tests;

/// <summary>
/// Code in the documentation cannot rot: every C# listing of README.md and docs/*.md compiles, or is a marked copy of a
/// file that does (docs/contributing.md, "Listings", gives the conventions).
/// </summary>
[TestClass]
public sealed class ListingTests
{
    /// <summary>What every listing may use without writing it: the usings of a TorchSharp program.</summary>
    private const string GlobalUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.IO;
        global using System.Linq;
        global using System.Threading.Tasks;
        global using ReproducibleBlock;
        global using TorchSharp;
        global using TorchSharp.Modules;
        global using static TorchSharp.torch;
        global using static TorchSharp.torch.nn;
        """;

    private static readonly Lazy<MetadataReference[]> References = new(() =>
    [
        .. ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(p) is "mscorlib.dll" or "netstandard.dll")
            .Select(p => MetadataReference.CreateFromFile(p)),
        MetadataReference.CreateFromFile(typeof(Reproducible).Assembly.Location),
        MetadataReference.CreateFromFile(typeof(ReproducibleBlockAttribute).Assembly.Location),
        MetadataReference.CreateFromFile(typeof(TorchSharp.torch).Assembly.Location),
    ]);

    public static IEnumerable<object[]> AllListings() => Markdown.Pages.SelectMany(Markdown.Listings).Select(l => new object[] { l });

    public static string Name(System.Reflection.MethodInfo method, object[] data) => data[0].ToString()!;

    [TestMethod]
    [DynamicData(nameof(AllListings), DynamicDataDisplayName = nameof(Name))]
    public void EveryListing_CompilesOrIsAMarkedCopy(Listing listing)
    {
        switch (listing.Marker?.Split(' ', 2) ?? ["compiled"])
        {
            case ["compiled"]:
                Compile(listing);
                break;
            case ["file", string path]:
                Assert.AreEqual(Markdown.Read(path).TrimEnd('\n'), listing.Code, $"{listing}: the listing is {path}, verbatim");
                break;
            case ["region", string pathAndName] when pathAndName.Split(' ') is [string path, string name]:
                string[] lines = Markdown.Read(path).Split('\n');
                int start = Array.IndexOf(lines, $"// <{name}>"), end = Array.IndexOf(lines, $"// </{name}>");
                Assert.IsTrue(start >= 0 && end > start, $"{path} marks // <{name}> and // </{name}>");
                Assert.AreEqual(string.Join('\n', lines[(start + 1)..end]), listing.Code, $"{listing}: the listing is the region {name} of {path}, verbatim");
                break;
            case ["lines", string path]:
                StringAssert.Contains(Markdown.Read(path), listing.Code + "\n", $"{listing}: the listing is lines of {path}, verbatim");
                break;
            case ["skip", string reason]:
                Assert.IsTrue(Regex.IsMatch(reason, @"^\(.{20,}\)$"), $"{listing}: a skipped listing gives its reason in parentheses");
                break;
            default:
                Assert.Fail($"{listing}: unknown listing marker '{listing.Marker}' (compiled by default; file, region, lines or skip)");
                break;
        }
    }

    [TestMethod]
    public void SkippedListings_AreRare()
    {
        Listing[] all = [.. Markdown.Pages.SelectMany(Markdown.Listings)];
        Listing[] skipped = [.. all.Where(l => l.Marker?.StartsWith("skip ", StringComparison.Ordinal) == true)];
        Assert.IsTrue(all.Length >= 10, "the pages have listings");
        Assert.IsLessThanOrEqualTo(4, skipped.Length, "skipped: " + string.Join(", ", skipped.Select(l => l.ToString())));
    }

    /// <summary>A listing is one source file beside <see cref="GlobalUsings"/>: a program when it has top-level statements, else a library.</summary>
    private static void Compile(Listing listing)
    {
        var options = CSharpParseOptions.Default.WithLanguageVersion(LanguageVersion.CSharp13);
        SyntaxTree tree = CSharpSyntaxTree.ParseText(listing.Code, options, path: listing.ToString());
        bool program = tree.GetRoot().DescendantNodes().OfType<GlobalStatementSyntax>().Any();
        var compilation = CSharpCompilation.Create(
            "Listing",
            [tree, CSharpSyntaxTree.ParseText(GlobalUsings, options, path: "GlobalUsings.cs")],
            References.Value,
            new CSharpCompilationOptions(program ? OutputKind.ConsoleApplication : OutputKind.DynamicallyLinkedLibrary,
                nullableContextOptions: NullableContextOptions.Enable, allowUnsafe: true));
        Diagnostic[] errors = [.. compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error)];
        Assert.IsEmpty(errors, $"{listing} does not compile:\n" + string.Join('\n', errors.Select(e => e.ToString())));
    }
}
