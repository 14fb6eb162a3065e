using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace ReproducibleBlock.Analyzers;

/// <summary>
/// Reports while typing what the ReproducibleBlock weaver rejects at build, what it cannot see (hand-written blocks
/// sharing a seed), and every name-derived seed, where "Pin the seed" is offered.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class BlockAnalyzer : DiagnosticAnalyzer
{
    /// <summary>Diagnostic property: the seed the weaver derives from the name, in invariant digits.</summary>
    public const string SeedProperty = "Seed";

    /// <summary>Diagnostic property: where the name-derived block comes from, <see cref="FromAttribute"/> or <see cref="FromRule"/>.</summary>
    public const string SourceProperty = "Source";

    /// <summary>Diagnostic property: the RestoreOnExit written on the assembly rule ("true" or "false"), absent when not written.</summary>
    public const string RestoreOnExitProperty = "RestoreOnExit";

    /// <summary>Diagnostic property: the IsolateParts written on the assembly rule ("true" or "false"), absent when not written.</summary>
    public const string IsolatePartsProperty = "IsolateParts";

    public const string FromAttribute = "attribute";
    public const string FromRule = "rule";

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        Descriptors.AsyncOrIterator, Descriptors.LambdaOrLocalFunction, Descriptors.NoBody, Descriptors.ContinuingWithoutInstance,
        Descriptors.ConflictingAttributes, Descriptors.SharedExplicitSeed, Descriptors.RuleOnNonClass, Descriptors.RepeatingForward,
        Descriptors.SeedSharedWithHandWrittenBlock, Descriptors.NameDerivedSeed, Descriptors.DeferredWork);

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            if (KnownSymbols.From(start.Compilation) is not { } symbols)
                return;
            var analysis = new CompilationAnalysis(symbols, start.Compilation);
            start.RegisterSymbolAction(analysis.AnalyzeMethod, SymbolKind.Method);
            start.RegisterSymbolAction(analysis.AnalyzeType, SymbolKind.NamedType);
            start.RegisterSyntaxNodeAction(analysis.AnalyzeAttribute, SyntaxKind.Attribute);
            if (symbols.Reproducible is not null)
                start.RegisterOperationAction(analysis.AnalyzeInvocation, OperationKind.Invocation);
            start.RegisterCompilationEndAction(analysis.ReportSharedSeeds);
        });
    }

    private sealed class KnownSymbols
    {
        public INamedTypeSymbol Block { get; private set; } = null!;
        public INamedTypeSymbol? Continuing { get; private set; }
        public INamedTypeSymbol? OptOut { get; private set; }
        public INamedTypeSymbol? Rule { get; private set; }
        public INamedTypeSymbol? Reproducible { get; private set; }

        public static KnownSymbols? From(Compilation compilation)
        {
            if (compilation.GetTypeByMetadataName("ReproducibleBlock.ReproducibleBlockAttribute") is not { } block)
                return null;
            return new KnownSymbols
            {
                Block = block,
                Continuing = compilation.GetTypeByMetadataName("ReproducibleBlock.ContinuingBlockAttribute"),
                OptOut = compilation.GetTypeByMetadataName("ReproducibleBlock.NoReproducibleBlockAttribute"),
                Rule = compilation.GetTypeByMetadataName("ReproducibleBlock.ReproducibleConstructorsAttribute"),
                Reproducible = compilation.GetTypeByMetadataName("ReproducibleBlock.Reproducible"),
            };
        }
    }

    /// <summary>An assembly rule: its base class and the RestoreOnExit and IsolateParts written on it, if any.</summary>
    private sealed class Rule(INamedTypeSymbol baseType, bool? restoreOnExit, bool? isolateParts)
    {
        public INamedTypeSymbol BaseType { get; } = baseType;
        public bool? RestoreOnExit { get; } = restoreOnExit;
        public bool? IsolateParts { get; } = isolateParts;
    }

    /// <summary>A block with a constant seed: an attribute's explicit seed, or a hand-written Reproducible.Block call.</summary>
    private sealed class SeedUse(long seed, string block, string description, Location location, bool allowShared, bool handWritten)
    {
        public long Seed { get; } = seed;

        /// <summary>What one block is: the constructors of a type with one seed are one block.</summary>
        public string Block { get; } = block;

        public string Description { get; } = description;
        public Location Location { get; } = location;
        public bool AllowShared { get; } = allowShared;
        public bool HandWritten { get; } = handWritten;
    }

    private sealed class CompilationAnalysis
    {
        private readonly KnownSymbols _symbols;
        private readonly List<Rule> _rules = [];
        private readonly ConcurrentBag<SeedUse> _seeds = [];

        public CompilationAnalysis(KnownSymbols symbols, Compilation compilation)
        {
            _symbols = symbols;
            foreach (AttributeData attribute in compilation.Assembly.GetAttributes())
            {
                if (!Is(attribute, symbols.Rule) || attribute.ConstructorArguments.Length != 1)
                    continue;
                if (attribute.ConstructorArguments[0].Value is INamedTypeSymbol baseType && NotAClass(baseType) is null && TooWide(baseType) is null)
                    _rules.Add(new Rule(baseType, NamedBool(attribute, "RestoreOnExit"), NamedBool(attribute, "IsolateParts")));
            }
        }

        private static bool Is(AttributeData attribute, INamedTypeSymbol? type) =>
            type is not null && SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, type);

        private static AttributeData? Find(ISymbol symbol, INamedTypeSymbol? type) =>
            type is null ? null : symbol.GetAttributes().FirstOrDefault(a => Is(a, type));

        private static bool? NamedBool(AttributeData attribute, string name)
        {
            foreach (KeyValuePair<string, TypedConstant> argument in attribute.NamedArguments)
            {
                if (argument.Key == name && argument.Value.Value is bool value)
                    return value;
            }
            return null;
        }

        private static long? ExplicitSeed(AttributeData attribute) =>
            attribute.ConstructorArguments.Length == 1 && attribute.ConstructorArguments[0].Value is long seed ? seed : null;

        private static Location Where(AttributeData attribute, ISymbol fallback) =>
            attribute.ApplicationSyntaxReference is { } reference
                ? Location.Create(reference.SyntaxTree, reference.Span)
                : fallback.Locations.FirstOrDefault() ?? Location.None;

        private static string? NotAClass(INamedTypeSymbol type) =>
            type.TypeKind == TypeKind.Interface ? "an interface"
            : type.TypeKind == TypeKind.Enum ? "an enum"
            : type.IsValueType ? "a struct"
            : type.IsStatic ? "a static class"
            : type.IsSealed ? "a sealed class"
            : null;

        /// <summary>The base classes the weaver refuses in a rule, with its reason.</summary>
        private static string? TooWide(INamedTypeSymbol type) =>
            type.SpecialType switch
            {
                SpecialType.System_Object => "cannot be a rule's base type: every class derives from it",
                SpecialType.System_ValueType => "cannot be a rule's base type: it is the base of every struct, and struct constructors are not matched by base type",
                SpecialType.System_Enum => "cannot be a rule's base type: it is the base of every enum",
                SpecialType.System_Delegate or SpecialType.System_MulticastDelegate => "cannot be a rule's base type: it is the base of every delegate, whose constructors the runtime implements",
                _ => null,
            };

        /// <summary>How messages name a member, as the weaver does: "method N.T.M(int)", "constructor N.T.T()".</summary>
        private static string Describe(IMethodSymbol method) =>
            (method.MethodKind is MethodKind.Constructor or MethodKind.StaticConstructor ? "constructor " : "method ")
            + method.ToDisplayString(SymbolDisplayFormat.CSharpErrorMessageFormat);

        public void AnalyzeMethod(SymbolAnalysisContext context)
        {
            var method = (IMethodSymbol)context.Symbol;
            AttributeData? block = Find(method, _symbols.Block);
            AttributeData? continuing = Find(method, _symbols.Continuing);
            AttributeData? attribute = block ?? continuing;
            if (attribute is null)
                return;
            // A partial member's attributes are merged: analyse it once, at its implementation, which has the body (async,
            // yield) and which the compiler always reports (for a partial constructor or event accessor, the only part it
            // reports). A partial method without one is removed by the compiler: there is nothing to weave.
            if (method.IsPartialDefinition || method.PartialImplementationPart is not null)
                return;
            string name = Describe(method);
            Location location = Where(attribute, method);
            if (block is not null && continuing is not null)
            {
                context.ReportDiagnostic(Diagnostic.Create(Descriptors.ConflictingAttributes, location,
                    $"The {name} has both [ReproducibleBlock] and [ContinuingBlock]. Keep [ContinuingBlock] for a stream that continues from call to call, or [ReproducibleBlock] for one that starts from the same state on every call."));
                return;
            }
            string written = block is not null ? "[ReproducibleBlock]" : "[ContinuingBlock]";
            if (Find(method, _symbols.OptOut) is not null)
            {
                context.ReportDiagnostic(Diagnostic.Create(Descriptors.ConflictingAttributes, location,
                    $"The {name} has both {written} and [NoReproducibleBlock]. Remove one of them."));
                return;
            }
            if (Problem(context, method, name, written, location))
                return;
            if (method.MethodKind != MethodKind.Constructor && DeferredKind(method.ReturnType) is { } deferred)
            {
                context.ReportDiagnostic(Diagnostic.Create(Descriptors.DeferredWork, location, name, deferred, DeferredResults.When(deferred), written));
            }
            if (block is null)
                return;
            if (IsForward(method) && NamedBool(block, "RepeatsEachCall") != true)
            {
                string restores = NamedBool(block, "RestoreOnExit") == true ? ""
                    : ", and the caller's stream after each call continues from the block's state (the data order of every epoch repeats too)";
                context.ReportDiagnostic(Diagnostic.Create(Descriptors.RepeatingForward, location, name, restores));
            }
            bool isConstructor = method.MethodKind == MethodKind.Constructor;
            if (ExplicitSeed(block) is { } seed)
            {
                // The constructors of one type with one seed are one block (the weaver's rule), as after Pin the seed.
                string identity = isConstructor ? "type:" + SeedNames.TypeDefinitionName(method.ContainingType) : "member:" + DocumentationCommentId.CreateDeclarationId(method);
                _seeds.Add(new SeedUse(seed, identity, "the " + name, location, NamedBool(block, "AllowSharedSeed") == true, handWritten: false));
            }
            else
            {
                long derived = isConstructor ? SeedNames.DerivedConstructorSeed(method.ContainingType) : SeedNames.DerivedSeed(method);
                ReportNameDerived(context.ReportDiagnostic, location, name, derived, FromAttribute, restoreOnExit: null);
            }
        }

        /// <summary>
        /// What a woven method returns that does its work later, after the block has ended (the weaver's
        /// TargetChecker.DeferredKind): a task without async, an enumerable or enumerator, a delegate; null otherwise.
        /// </summary>
        private static string? DeferredKind(ITypeSymbol type) =>
            type is not INamedTypeSymbol named ? null
            : DeferredResults.KindOf(named.ContainingNamespace?.ToDisplayString() + "." + named.MetadataName)
                ?? (named.TypeKind == TypeKind.Delegate ? DeferredResults.Delegate : null);

        /// <summary>The weaver's reasons to reject a target (TargetChecker.Problem), in its order.</summary>
        private static bool Problem(SymbolAnalysisContext context, IMethodSymbol method, string name, string written, Location location)
        {
            string? message = null;
            DiagnosticDescriptor descriptor = Descriptors.NoBody;
            bool continuing = written == "[ContinuingBlock]";
            // An extension member runs as a static method of its static class, its receiver a parameter (what the weaver sees).
            bool runsStatic = method.IsStatic || ExtensionMembers.ImplementationOf(method) is not null;
            if (continuing && runsStatic)
            {
                descriptor = Descriptors.ContinuingWithoutInstance;
                message = $"The static {name} has {written}: a continuing block is the stream of an instance, and a static method has none. Use [ReproducibleBlock] for a block with a seed, or call Reproducible.ContinuingBlock(owner) with the object that owns the stream.";
            }
            else if (continuing && method.ContainingType.IsValueType)
            {
                descriptor = Descriptors.ContinuingWithoutInstance;
                message = $"The {name} belongs to a struct but has {written}: a struct's `this` is copied into a new box on every call, so its stream would start over each time. Put the method on a class, or call Reproducible.ContinuingBlock(owner) with a lasting object.";
            }
            else if (method.IsAbstract)
            {
                message = $"The {name} is abstract but has {written}: there is no body to run in a block. Put the attribute on the overriding methods instead.";
            }
            else if (method.IsExtern)
            {
                message = $"The {name} is extern but has {written}: there is no body to run in a block. Remove the attribute, or wrap the call in using (Reproducible.Block(seed)).";
            }
            else if (method.MethodKind == MethodKind.StaticConstructor)
            {
                message = $"The static {name} has {written}: a static constructor runs once, whenever the runtime decides, so it cannot be a reproducible block. Move the random work into a method or an instance constructor.";
            }
            else if (method.MethodKind == MethodKind.Destructor)
            {
                message = $"The finalizer {method.ContainingType.ToDisplayString(SymbolDisplayFormat.CSharpErrorMessageFormat)}.~{method.ContainingType.Name}() has {written}: it runs on the finalizer thread, whenever the garbage collector decides, so it cannot be a reproducible block. Remove the attribute.";
            }
            else if (StateMachineKind(method) is { } kind)
            {
                context.ReportDiagnostic(AsyncOrIterator(location, name, kind, written));
                return true;
            }
            if (message is null)
                return false;
            context.ReportDiagnostic(Diagnostic.Create(descriptor, location, message));
            return true;
        }

        /// <summary>RB0001: the weaver's refusal of an async method or iterator, as <paramref name="kind"/> says it is.</summary>
        private static Diagnostic AsyncOrIterator(Location location, string name, string kind, string written)
        {
            string why = kind == "an iterator" ? "it would end before the body runs, when the caller first gets the enumerator" : "it would end at the first await, while the body goes on";
            string scope = written == "[ContinuingBlock]" ? "Reproducible.ContinuingBlock(this)" : "Reproducible.Block(seed)";
            return Diagnostic.Create(Descriptors.AsyncOrIterator, location, name, kind, written, why, scope);
        }

        /// <summary>"async", "an iterator", "an async iterator", or null, as the weaver names the compiler's state machines.</summary>
        private static string? StateMachineKind(IMethodSymbol method)
        {
            bool yields = method.DeclaringSyntaxReferences.Any(r => r.GetSyntax() is var body && Yields(body));
            return (method.IsAsync, yields) switch
            {
                (true, true) => "an async iterator",
                (true, false) => "async",
                (false, true) => "an iterator",
                _ => null,
            };
        }

        /// <summary>Whether a member's own body holds a yield statement (not one of its lambdas or local functions).</summary>
        private static bool Yields(SyntaxNode declaration) =>
            declaration.DescendantNodes(node => node == declaration || node is not (LocalFunctionStatementSyntax or AnonymousFunctionExpressionSyntax))
                .Any(node => node is YieldStatementSyntax);

        /// <summary>An instance method named forward that overrides or declares a virtual one (or implements an interface's).</summary>
        private static bool IsForward(IMethodSymbol method) =>
            method.Name == "forward" && !method.IsStatic && method.MethodKind == MethodKind.Ordinary
            && (method.IsVirtual || method.IsOverride || method.IsAbstract
                || method.ContainingType.AllInterfaces.SelectMany(i => i.GetMembers("forward")).Any(m =>
                    SymbolEqualityComparer.Default.Equals(method.ContainingType.FindImplementationForInterfaceMember(m), method)));

        public void AnalyzeType(SymbolAnalysisContext context)
        {
            var type = (INamedTypeSymbol)context.Symbol;
            if (type.TypeKind is not (TypeKind.Class or TypeKind.Struct))
                return;
            AttributeData? typeAttribute = Find(type, _symbols.Block);
            bool optedOut = Find(type, _symbols.OptOut) is not null;
            string typeName = type.ToDisplayString(SymbolDisplayFormat.CSharpErrorMessageFormat);
            if (typeAttribute is not null && optedOut)
            {
                context.ReportDiagnostic(Diagnostic.Create(Descriptors.ConflictingAttributes, Where(typeAttribute, type),
                    $"Type {typeName} has both [ReproducibleBlock] and [NoReproducibleBlock]. Remove one of them."));
                return;
            }
            if (typeAttribute is not null && type.IsStatic)
            {
                context.ReportDiagnostic(Diagnostic.Create(Descriptors.NoBody, Where(typeAttribute, type),
                    $"The static class {typeName} has [ReproducibleBlock]: on a type, the attribute makes its instance constructors blocks, and a static class has none. Put the attribute on the methods that draw."));
                return;
            }
            // The constructors the type attribute or a rule weaves: those without an attribute of their own (a struct's
            // implicit parameterless constructor is not in the IL, so there is nothing to weave), except a record's copy
            // constructor, which the weaver leaves alone (what `with` calls).
            bool wovenConstructors = type.InstanceConstructors.Any(c =>
                !(type.IsValueType && c.IsImplicitlyDeclared) && !IsRecordCopyConstructor(c)
                && Find(c, _symbols.Block) is null && Find(c, _symbols.Continuing) is null && Find(c, _symbols.OptOut) is null);
            if (!wovenConstructors)
                return;
            if (typeAttribute is not null)
            {
                Location location = Where(typeAttribute, type);
                string name = "constructors of " + typeName;
                if (ExplicitSeed(typeAttribute) is { } seed)
                    _seeds.Add(new SeedUse(seed, "type:" + SeedNames.TypeDefinitionName(type), "the " + name, location, NamedBool(typeAttribute, "AllowSharedSeed") == true, handWritten: false));
                else
                    ReportNameDerived(context.ReportDiagnostic, location, name, SeedNames.DerivedConstructorSeed(type), FromAttribute, restoreOnExit: null);
                return;
            }
            if (optedOut || type.TypeKind != TypeKind.Class)
                return;
            Rule? rule = _rules.FirstOrDefault(r => DerivesFrom(type, r.BaseType));
            if (rule is null)
                return;
            ReportNameDerived(context.ReportDiagnostic, type.Locations.FirstOrDefault() ?? Location.None,
                "constructors of " + typeName + " (woven by the assembly rule)", SeedNames.DerivedConstructorSeed(type), FromRule, rule.RestoreOnExit, rule.IsolateParts);
        }

        /// <summary>A record class's copy constructor: one parameter of the record's own type (the weaver's CecilExtensions.IsRecordCopyConstructor).</summary>
        private static bool IsRecordCopyConstructor(IMethodSymbol constructor) =>
            constructor.ContainingType is { IsRecord: true, TypeKind: TypeKind.Class } record
            && constructor.Parameters.Length == 1
            && SymbolEqualityComparer.Default.Equals(constructor.Parameters[0].Type, record);

        private static bool DerivesFrom(INamedTypeSymbol type, INamedTypeSymbol baseType)
        {
            for (INamedTypeSymbol? current = type.BaseType; current is not null; current = current.BaseType)
            {
                if (SymbolEqualityComparer.Default.Equals(current.OriginalDefinition, baseType.OriginalDefinition))
                    return true;
            }
            return false;
        }

        private static void ReportNameDerived(System.Action<Diagnostic> report, Location location, string name, long seed, string source, bool? restoreOnExit, bool? isolateParts = null)
        {
            var properties = ImmutableDictionary.CreateBuilder<string, string?>();
            properties[SeedProperty] = seed.ToString(CultureInfo.InvariantCulture);
            properties[SourceProperty] = source;
            if (restoreOnExit is { } restore)
                properties[RestoreOnExitProperty] = restore ? "true" : "false";
            if (isolateParts is { } isolate)
                properties[IsolatePartsProperty] = isolate ? "true" : "false";
            report(Diagnostic.Create(Descriptors.NameDerivedSeed, location, properties.ToImmutable(), name, seed.ToString(CultureInfo.InvariantCulture)));
        }

        /// <summary>Attributes the symbol actions never see: on lambdas and local functions, and the assembly rule's type.</summary>
        public void AnalyzeAttribute(SyntaxNodeAnalysisContext context)
        {
            var attribute = (AttributeSyntax)context.Node;
            if (attribute.Parent is not AttributeListSyntax list)
                return;
            bool onFunction = list.Parent is LocalFunctionStatementSyntax or ParenthesizedLambdaExpressionSyntax;
            bool onAssembly = list.Target?.Identifier.IsKind(SyntaxKind.AssemblyKeyword) == true;
            if (!onFunction && !onAssembly)
                return;
            INamedTypeSymbol? type = (context.SemanticModel.GetSymbolInfo(attribute, context.CancellationToken).Symbol as IMethodSymbol)?.ContainingType;
            if (type is null)
                return;
            if (onFunction && (SymbolEqualityComparer.Default.Equals(type, _symbols.Block) || SymbolEqualityComparer.Default.Equals(type, _symbols.Continuing)))
            {
                ISymbol? container = context.ContainingSymbol is IMethodSymbol { MethodKind: MethodKind.LocalFunction or MethodKind.AnonymousFunction } inner
                    ? inner.ContainingSymbol : context.ContainingSymbol;
                string writtenIn = container?.ToDisplayString(SymbolDisplayFormat.CSharpErrorMessageFormat) ?? "?";
                string name = list.Parent is LocalFunctionStatementSyntax local ? $"local function {local.Identifier.ValueText} in {writtenIn}" : $"lambda in {writtenIn}";
                AttributeArgumentSyntax? seedArgument = attribute.ArgumentList?.Arguments.FirstOrDefault(a => a.NameEquals is null);
                object? seedValue = seedArgument is null ? null : context.SemanticModel.GetConstantValue(seedArgument.Expression, context.CancellationToken).Value;
                string? message = null;
                if (SymbolEqualityComparer.Default.Equals(type, _symbols.Continuing))
                {
                    message = $"The {name} has [ContinuingBlock]: its `this` is a compiler-generated closure, not the instance that owns the stream. Move the code into an instance method of the class and put the attribute there.";
                }
                else if (seedValue is null)
                {
                    message = $"The {name} has [ReproducibleBlock] without a seed: a seed derived from the compiler's name for a {(list.Parent is LocalFunctionStatementSyntax ? "local function" : "lambda")} "
                        + "changes whenever a lambda or local function is added above it, and its stream with it. Give it an explicit seed ([ReproducibleBlock(seed)]), or move the code into a method.";
                }
                if (message is not null)
                {
                    context.ReportDiagnostic(Diagnostic.Create(Descriptors.LambdaOrLocalFunction, attribute.GetLocation(), message));
                }
                else
                {
                    // An explicit seed: the weaver weaves it, unless it is async or an iterator, and counts its seed with
                    // the others; it warns about a result that does its work later, as for methods.
                    var function = (list.Parent is LocalFunctionStatementSyntax declared
                        ? context.SemanticModel.GetDeclaredSymbol(declared, context.CancellationToken)
                        : context.SemanticModel.GetSymbolInfo(list.Parent!, context.CancellationToken).Symbol) as IMethodSymbol;
                    if (function is not null && StateMachineKind(function) is { } kind)
                    {
                        context.ReportDiagnostic(AsyncOrIterator(attribute.GetLocation(), name, kind, "[ReproducibleBlock]"));
                        return;
                    }
                    if (function is not null && DeferredKind(function.ReturnType) is { } deferred)
                        context.ReportDiagnostic(Diagnostic.Create(Descriptors.DeferredWork, attribute.GetLocation(), name, deferred, DeferredResults.When(deferred), "[ReproducibleBlock]"));
                    bool allowShared = attribute.ArgumentList!.Arguments.Any(a => a.NameEquals?.Name.Identifier.ValueText == "AllowSharedSeed"
                        && context.SemanticModel.GetConstantValue(a.Expression, context.CancellationToken).Value is true);
                    _seeds.Add(new SeedUse(System.Convert.ToInt64(seedValue, CultureInfo.InvariantCulture), "function:" + attribute.SyntaxTree.FilePath + ":" + attribute.SpanStart,
                        "the " + name, attribute.GetLocation(), allowShared, handWritten: false));
                }
            }
            else if (onAssembly && SymbolEqualityComparer.Default.Equals(type, _symbols.Rule)
                && attribute.ArgumentList?.Arguments.FirstOrDefault()?.Expression is TypeOfExpressionSyntax typeOf
                && context.SemanticModel.GetTypeInfo(typeOf.Type, context.CancellationToken).Type is INamedTypeSymbol named
                && named.TypeKind != TypeKind.Error
                && (NotAClass(named) is { } notAClass ? $"is {notAClass}, so no type derives from it" : TooWide(named)) is { } why)
            {
                context.ReportDiagnostic(Diagnostic.Create(Descriptors.RuleOnNonClass, attribute.GetLocation(), SeedNames.TypeName(named), why));
            }
        }

        /// <summary>Hand-written Reproducible.Block(seed) and Reproducible.InstanceBlock(seed) with a constant seed.</summary>
        public void AnalyzeInvocation(OperationAnalysisContext context)
        {
            var invocation = (IInvocationOperation)context.Operation;
            IMethodSymbol target = invocation.TargetMethod;
            if (target.Name is not ("Block" or "InstanceBlock") || !SymbolEqualityComparer.Default.Equals(target.ContainingType, _symbols.Reproducible))
                return;
            IArgumentOperation? argument = invocation.Arguments.FirstOrDefault(a => a.Parameter?.Ordinal == 0);
            if (argument?.Value.ConstantValue is not { HasValue: true, Value: { } value })
                return;
            long seed = System.Convert.ToInt64(value, CultureInfo.InvariantCulture);
            Location location = invocation.Syntax.GetLocation();
            FileLinePositionSpan line = location.GetLineSpan();
            string description = $"the hand-written Reproducible.{target.Name}({seed}) at {System.IO.Path.GetFileName(line.Path)}:{line.StartLinePosition.Line + 1}";
            _seeds.Add(new SeedUse(seed, "call:" + location.SourceTree?.FilePath + ":" + location.SourceSpan.Start, description, location, allowShared: false, handWritten: true));
        }

        public void ReportSharedSeeds(CompilationAnalysisContext context)
        {
            foreach (IGrouping<long, SeedUse> sameSeed in _seeds.GroupBy(s => s.Seed))
            {
                List<SeedUse> uses = sameSeed.OrderBy(s => s.Location.SourceTree?.FilePath, System.StringComparer.Ordinal).ThenBy(s => s.Location.SourceSpan.Start).ToList();
                // One entry per block: the constructors of a type with one seed are one block.
                List<SeedUse> blocks = uses.GroupBy(s => s.Block).Select(g => g.First()).ToList();
                if (blocks.Count < 2)
                    continue;
                List<SeedUse> attributes = blocks.Where(b => !b.HandWritten).ToList();
                if (attributes.Count >= 2 && !attributes.All(a => a.AllowShared))
                {
                    foreach (SeedUse use in attributes.Skip(1))
                        context.ReportDiagnostic(Diagnostic.Create(Descriptors.SharedExplicitSeed, use.Location, sameSeed.Key, Strip(use.Description), Strip(attributes[0].Description)));
                }
                foreach (SeedUse use in blocks.Where(b => b.HandWritten))
                {
                    SeedUse other = blocks.First(b => b != use);
                    context.ReportDiagnostic(Diagnostic.Create(Descriptors.SeedSharedWithHandWrittenBlock, use.Location, sameSeed.Key, use.Description, other.Description));
                }
            }
        }

        private static string Strip(string description) => description.StartsWith("the ", System.StringComparison.Ordinal) ? description.Substring(4) : description;
    }
}
