using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Mono.Cecil;
using Mono.Cecil.Cil;
using ReproducibleBlock.Tests.Shared;

namespace ReproducibleBlock.Analyzers.Tests;

/// <summary>
/// The analyzer's seeds equal the weaver's, or "Pin the seed" would silently move a stream. The weaving fixture, woven
/// by the weaver built from source, is read with Mono.Cecil: every seed its blocks enter with (the constant before
/// each <c>WovenCode.EnterBlock</c> or <c>EnterConstructorBlock</c>). The fixture's source files are compiled here
/// with Roslyn, and each woven member's seed computed as the analyzer computes it. Members are matched through
/// their documentation IDs (the woven assembly loaded as Roslyn metadata gives token to ID).
/// </summary>
[TestClass]
public sealed class WeaverSeedTests
{
    private static readonly string FixtureFolder = Path.Combine(Repository.Root, "tests", "ReproducibleBlock.Weaving.Fixture");
    private static readonly string WovenFixture = Path.Combine(AppContext.BaseDirectory, "ReproducibleBlock.Weaving.Fixture.dll");

    private static MetadataReference[] FixtureReferences() =>
    [
        .. Verify.References,
        .. new[] { "TorchSharp.dll", "ReproducibleBlock.Core.dll" }.Select(f => MetadataReference.CreateFromFile(Path.Combine(AppContext.BaseDirectory, f))),
    ];

    /// <summary>The fixture's sources, compiled as its project compiles them (nullable on, no implicit usings).</summary>
    private static CSharpCompilation FixtureSources()
    {
        IEnumerable<string> files = Directory.EnumerateFiles(FixtureFolder, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal));
        var options = new CSharpParseOptions(LanguageVersion.Latest);
        var compilation = CSharpCompilation.Create("ReproducibleBlock.Weaving.Fixture",
            files.Select(f => CSharpSyntaxTree.ParseText(File.ReadAllText(f), options, f)),
            FixtureReferences(),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true, nullableContextOptions: NullableContextOptions.Enable));
        Diagnostic[] errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToArray();
        Assert.IsEmpty(errors, string.Join("\n", errors.Select(e => e.ToString())));
        return compilation;
    }

    /// <summary>Every method of a module read as metadata by Roslyn, by metadata token.</summary>
    private static Dictionary<int, IMethodSymbol> MetadataMethods(string path, IEnumerable<MetadataReference> references)
    {
        MetadataReference assembly = MetadataReference.CreateFromFile(path);
        var compilation = CSharpCompilation.Create("Reader", references: [.. references, assembly]);
        var symbol = (IAssemblySymbol)compilation.GetAssemblyOrModuleSymbol(assembly)!;
        var methods = new Dictionary<int, IMethodSymbol>();
        var types = new Stack<INamespaceOrTypeSymbol>([symbol.GlobalNamespace]);
        while (types.Count > 0)
        {
            foreach (ISymbol member in types.Pop().GetMembers())
            {
                if (member is INamespaceOrTypeSymbol inner)
                    types.Push(inner);
                else if (member is IMethodSymbol method)
                    methods[method.MetadataToken] = method;
            }
        }
        return methods;
    }

    /// <summary>The seed a woven method's block enters with, read from its IL, or null when it is not a seeded block.</summary>
    private static long? WovenSeed(MethodDefinition method)
    {
        if (!method.HasBody)
            return null;
        IList<Instruction> code = method.Body.Instructions;
        for (int i = 0; i < code.Count; i++)
        {
            if (code[i].OpCode != OpCodes.Call || code[i].Operand is not MethodReference called
                || called.DeclaringType.FullName != "ReproducibleBlock.WovenCode" || called.Name is not ("EnterBlock" or "EnterConstructorBlock"))
                continue;
            for (int j = i - 1; j >= 0; j--)
            {
                if (code[j].OpCode == OpCodes.Ldc_I8)
                    return (long)code[j].Operand;
            }
        }
        return null;
    }

    /// <summary>The seed the analyzer gives a woven member: the attribute's explicit one, or the one derived from the name.</summary>
    private static long AnalyzerSeed(IMethodSymbol method)
    {
        static long? Explicit(ISymbol symbol) => symbol.GetAttributes()
            .Where(a => a.AttributeClass?.ToDisplayString() == "ReproducibleBlock.ReproducibleBlockAttribute" && a.ConstructorArguments.Length == 1)
            .Select(a => (long?)a.ConstructorArguments[0].Value).FirstOrDefault();
        if (method.MethodKind == MethodKind.Constructor)
            return Explicit(method) ?? Explicit(method.ContainingType) ?? SeedNames.DerivedConstructorSeed(method.ContainingType);
        return Explicit(method) ?? SeedNames.DerivedSeed(method);
    }

    [TestMethod]
    public void EveryWovenBlockOfTheFixture_HasTheAnalyzersSeed()
    {
        CSharpCompilation sources = FixtureSources();
        var sourceMethods = new Dictionary<string, IMethodSymbol>();
        foreach (SyntaxTree tree in sources.SyntaxTrees)
        {
            SemanticModel model = sources.GetSemanticModel(tree);
            foreach (SyntaxNode node in tree.GetRoot().DescendantNodes())
            {
                ISymbol? declared = model.GetDeclaredSymbol(node);
                IEnumerable<IMethodSymbol> methods = declared switch
                {
                    IMethodSymbol method => [method],
                    INamedTypeSymbol type => type.InstanceConstructors.Where(c => c.IsImplicitlyDeclared),
                    _ => [],
                };
                foreach (IMethodSymbol method in methods)
                {
                    // A C# 14 extension member is woven as the static method that implements it (Roslyn gives that method
                    // with the extension block's type parameters substituted: its definition has the metadata's ID).
                    if (DocumentationCommentId.CreateDeclarationId(ExtensionMembers.ImplementationOf(method)?.OriginalDefinition ?? method) is { } id)
                        sourceMethods[id] = method;
                }
            }
        }

        // The explicit seeds written on lambdas and local functions.
        var functionSeeds = new HashSet<long>();
        foreach (SyntaxTree tree in sources.SyntaxTrees)
        {
            SemanticModel model = sources.GetSemanticModel(tree);
            foreach (var attribute in tree.GetRoot().DescendantNodes().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.AttributeSyntax>())
            {
                if (attribute.Parent?.Parent is Microsoft.CodeAnalysis.CSharp.Syntax.LocalFunctionStatementSyntax or Microsoft.CodeAnalysis.CSharp.Syntax.ParenthesizedLambdaExpressionSyntax
                    && attribute.ArgumentList?.Arguments.FirstOrDefault(a => a.NameEquals is null) is { } argument
                    && model.GetConstantValue(argument.Expression).Value is { } value)
                    functionSeeds.Add(Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        Dictionary<int, IMethodSymbol> woven = MetadataMethods(WovenFixture, FixtureReferences());
        using var module = ModuleDefinition.ReadModule(WovenFixture);
        var checkedBlocks = new List<string>();
        var wrong = new List<string>();
        foreach (MethodDefinition method in module.GetTypes().SelectMany(t => t.Methods))
        {
            if (WovenSeed(method) is not { } seed)
                continue;
            if (method.Name.StartsWith('<'))
            {
                // A lambda or local function: only an explicit seed is woven (the analyzer refuses a name-derived one, RB0002).
                checkedBlocks.Add($"{method.FullName} {seed}");
                if (!functionSeeds.Contains(seed))
                    wrong.Add($"{method.FullName}: the weaver entered {seed}, not a seed written on a lambda or local function ({string.Join(", ", functionSeeds)})");
                continue;
            }
            string id = DocumentationCommentId.CreateDeclarationId(woven[method.MetadataToken.ToInt32()])!;
            if (!sourceMethods.TryGetValue(id, out IMethodSymbol? source))
            {
                wrong.Add($"{method.FullName}: no source member {id}");
                continue;
            }
            long analyzer = AnalyzerSeed(source);
            checkedBlocks.Add($"{id} {seed}");
            if (analyzer != seed)
                wrong.Add($"{method.FullName}: the weaver entered {seed}, the analyzer gives {analyzer} from \"{SeedNames.NameForSeed(source)}\"");
        }
        Assert.IsEmpty(wrong, string.Join("\n", wrong));
        // The fixture's seeded blocks: 11 explicit-seed methods and constructors, NamedSeed, the Chained and rule-woven constructors.
        Assert.IsGreaterThanOrEqualTo(15, checkedBlocks.Count, string.Join("\n", checkedBlocks));
        Assert.IsTrue(checkedBlocks.Any(b => b.StartsWith("M:WeavingFixture.Methods.NamedSeed", StringComparison.Ordinal)), "a name-derived method seed is compared");
        Assert.IsTrue(checkedBlocks.Any(b => b.StartsWith("M:WeavingFixture.Classifier.#ctor", StringComparison.Ordinal)), "a rule-woven constructor is compared");
        Assert.IsTrue(checkedBlocks.Any(b => b.Contains(".op_Explicit(", StringComparison.Ordinal)), "a conversion operator (its return type in the name) is compared");
        Assert.IsTrue(checkedBlocks.Any(b => b.Contains("<Lambda>", StringComparison.Ordinal)), "a lambda with its explicit seed is compared");
        Assert.IsTrue(checkedBlocks.Any(b => b.StartsWith("M:WeavingFixture.Extensions.DrawNamed``1(", StringComparison.Ordinal)), "a name-derived extension member is compared");
    }
}
