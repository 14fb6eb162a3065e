using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace ReproducibleBlock.Analyzers;

/// <summary>
/// "Pin the seed": writes a name-derived seed as an explicit one, so renaming the member no longer moves its stream.
/// The seed is the one the weaver derives (the analyzer computes it with the weaver's hash and Cecil's names), and the
/// block's effective RestoreOnExit and IsolateParts are kept: the attribute's own named arguments stay, and a block woven
/// by the assembly rule gets a class attribute carrying the rule's RestoreOnExit and IsolateParts when the rule writes
/// them (both attributes default alike).
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(PinSeedCodeFix)), Shared]
public sealed class PinSeedCodeFix : CodeFixProvider
{
    public const string Title = "Pin the seed";

    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(Descriptors.NameDerivedSeed.Id);

    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        SyntaxNode? root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null)
            return;
        foreach (Diagnostic diagnostic in context.Diagnostics)
        {
            if (!diagnostic.Properties.TryGetValue(BlockAnalyzer.SeedProperty, out string? seed) || seed is null)
                continue;
            diagnostic.Properties.TryGetValue(BlockAnalyzer.SourceProperty, out string? source);
            SyntaxNode node = root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true);
            if (source == BlockAnalyzer.FromAttribute && node.FirstAncestorOrSelf<AttributeSyntax>() is { } attribute)
            {
                context.RegisterCodeFix(CodeAction.Create(Title,
                    _ => Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(attribute, WithSeed(attribute, seed)))),
                    equivalenceKey: Title), diagnostic);
            }
            else if (source == BlockAnalyzer.FromRule && node.FirstAncestorOrSelf<TypeDeclarationSyntax>() is { } type)
            {
                diagnostic.Properties.TryGetValue(BlockAnalyzer.RestoreOnExitProperty, out string? restore);
                diagnostic.Properties.TryGetValue(BlockAnalyzer.IsolatePartsProperty, out string? isolate);
                context.RegisterCodeFix(CodeAction.Create(Title,
                    token => AddTypeAttributeAsync(context.Document, root, type, seed, restore, isolate, token),
                    equivalenceKey: Title), diagnostic);
            }
        }
    }

    /// <summary><c>[ReproducibleBlock(RestoreOnExit = true)]</c> becomes <c>[ReproducibleBlock(seed, RestoreOnExit = true)]</c>.</summary>
    private static AttributeSyntax WithSeed(AttributeSyntax attribute, string seed)
    {
        AttributeArgumentSyntax argument = SyntaxFactory.AttributeArgument(SeedLiteral(seed));
        AttributeArgumentListSyntax list = attribute.ArgumentList ?? SyntaxFactory.AttributeArgumentList();
        return attribute.WithArgumentList(list.WithArguments(list.Arguments.Insert(0, argument)));
    }

    private static LiteralExpressionSyntax SeedLiteral(string seed) =>
        SyntaxFactory.LiteralExpression(SyntaxKind.NumericLiteralExpression, SyntaxFactory.Literal(seed, long.Parse(seed, System.Globalization.CultureInfo.InvariantCulture)));

    private static async Task<Document> AddTypeAttributeAsync(Document document, SyntaxNode root, TypeDeclarationSyntax type, string seed, string? restore, string? isolate, CancellationToken cancellationToken)
    {
        SemanticModel? model = await document.GetSemanticModelAsync(cancellationToken).ConfigureAwait(false);
        // Short where `using ReproducibleBlock;` (or the like) brings the attribute into scope, qualified otherwise.
        bool inScope = model?.LookupNamespacesAndTypes(type.SpanStart, name: "ReproducibleBlockAttribute")
            .Any(s => s is INamedTypeSymbol { ContainingNamespace.Name: "ReproducibleBlock" }) == true;
        NameSyntax name = SyntaxFactory.ParseName(inScope ? "ReproducibleBlock" : "global::ReproducibleBlock.ReproducibleBlock");
        var arguments = SyntaxFactory.SeparatedList(new[] { SyntaxFactory.AttributeArgument(SeedLiteral(seed)) });
        foreach ((string property, string? value) in new[] { ("RestoreOnExit", restore), ("IsolateParts", isolate) })
        {
            if (value is null)
                continue;
            arguments = arguments.Add(SyntaxFactory.AttributeArgument(
                SyntaxFactory.NameEquals(property), null,
                SyntaxFactory.LiteralExpression(value == "true" ? SyntaxKind.TrueLiteralExpression : SyntaxKind.FalseLiteralExpression)));
        }
        AttributeListSyntax list = SyntaxFactory.AttributeList(SyntaxFactory.SingletonSeparatedList(
            SyntaxFactory.Attribute(name, SyntaxFactory.AttributeArgumentList(arguments))));

        // The new list goes first, on its own line, with the declaration's indentation and comments before it.
        SyntaxTriviaList leading = type.GetLeadingTrivia();
        SyntaxTriviaList indentation = SyntaxFactory.TriviaList(leading.Reverse().TakeWhile(t => t.IsKind(SyntaxKind.WhitespaceTrivia)).Reverse());
        SyntaxTrivia newLine = root.DescendantTrivia().FirstOrDefault(t => t.IsKind(SyntaxKind.EndOfLineTrivia)) is { } found && found.IsKind(SyntaxKind.EndOfLineTrivia)
            ? found : SyntaxFactory.EndOfLine("\n");
        SyntaxToken firstToken = type.GetFirstToken();
        TypeDeclarationSyntax stripped = type.ReplaceToken(firstToken, firstToken.WithLeadingTrivia(indentation));
        TypeDeclarationSyntax updated = stripped.WithAttributeLists(stripped.AttributeLists.Insert(0,
            list.WithLeadingTrivia(leading).WithTrailingTrivia(newLine)));
        return document.WithSyntaxRoot(root.ReplaceNode(type, updated));
    }
}
