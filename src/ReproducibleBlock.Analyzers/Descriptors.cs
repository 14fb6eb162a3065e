using Microsoft.CodeAnalysis;

namespace ReproducibleBlock.Analyzers;

/// <summary>
/// Every diagnostic of the analyzer. The errors are the weaver's own build errors, shown while typing; changing their
/// severity in .editorconfig changes what the editor shows, not the weaver, which still fails the build.
/// </summary>
internal static class Descriptors
{
    private const string Category = "ReproducibleBlock";
    private const string Docs = "https://github.com/ReproducibleBlock/ReproducibleBlock/blob/main/docs/";
    private const string Weaving = Docs + "weaving.md";
    private const string WhileTyping = Docs + "weaving.md#diagnostics-while-typing";
    private const string TrainingTime = Docs + "training-time-isolation.md";

    private static DiagnosticDescriptor Rule(string id, string title, string message, DiagnosticSeverity severity, string help, params string[] tags) =>
        new(id, title, message, Category, severity, isEnabledByDefault: true, helpLinkUri: help, customTags: tags);

    public static readonly DiagnosticDescriptor AsyncOrIterator = Rule("RB0001",
        "An async method or iterator cannot be a woven block",
        "The {0} is {1}, so {2} cannot wrap it: {3}. Remove the attribute and write using ({4}) {{ ... }} inside the method, around the code to isolate; such a block stays open across awaits and yields.",
        DiagnosticSeverity.Error, Weaving);

    public static readonly DiagnosticDescriptor LambdaOrLocalFunction = Rule("RB0002",
        "A lambda or local function needs an explicit seed",
        "{0}",
        DiagnosticSeverity.Error, Weaving);

    public static readonly DiagnosticDescriptor NoBody = Rule("RB0003",
        "The attribute is on a member that cannot be a block",
        "{0}",
        DiagnosticSeverity.Error, Weaving);

    public static readonly DiagnosticDescriptor ContinuingWithoutInstance = Rule("RB0004",
        "[ContinuingBlock] needs an instance of a class",
        "{0}",
        DiagnosticSeverity.Error, TrainingTime);

    public static readonly DiagnosticDescriptor ConflictingAttributes = Rule("RB0005",
        "Conflicting block attributes",
        "{0}",
        DiagnosticSeverity.Error, Weaving);

    public static readonly DiagnosticDescriptor SharedExplicitSeed = Rule("RB0006",
        "Two blocks share an explicit seed",
        "Block seed {0} of the {1} is also the seed of the {2}. Every block needs its own seed, or the two draw the same numbers: change one, or set AllowSharedSeed = true on each of them to share it deliberately.",
        DiagnosticSeverity.Error, Weaving, WellKnownDiagnosticTags.CompilationEnd);

    public static readonly DiagnosticDescriptor RuleOnNonClass = Rule("RB0007",
        "The assembly rule must name an unsealed class",
        "[assembly: ReproducibleConstructors(typeof({0}))]: {0} {1}. Name a class that your modules derive from, such as typeof(torch.nn.Module).",
        DiagnosticSeverity.Error, Weaving);

    public static readonly DiagnosticDescriptor RepeatingForward = Rule("RB0008",
        "[ReproducibleBlock] on forward repeats every call",
        "[ReproducibleBlock] on the {0}: every call starts from the same state, so every call draws the same dropout masks{1}. For a stream of the module's own that continues from call to call, use [ContinuingBlock] (or the assembly rule, whose ContinuingForward is on by default). If every call must draw the same numbers, write RepeatsEachCall = true to say so.",
        DiagnosticSeverity.Warning, TrainingTime);

    public static readonly DiagnosticDescriptor SeedSharedWithHandWrittenBlock = Rule("RB0009",
        "A hand-written block shares its seed",
        "Block seed {0} of {1} is also the seed of {2}: the two blocks draw the same numbers. Give each block its own seed.",
        DiagnosticSeverity.Warning, WhileTyping, WellKnownDiagnosticTags.CompilationEnd);

    public static readonly DiagnosticDescriptor NameDerivedSeed = Rule("RB0010",
        "The block seed is derived from the name",
        "The block seed of the {0} is derived from its name ({1}): renaming it changes its stream. Pin the seed to keep it.",
        DiagnosticSeverity.Info, WhileTyping);

    public static readonly DiagnosticDescriptor DeferredWork = Rule("RB0011",
        "A woven method's result does its work after the block",
        "The {0} returns {1}, so draws made when it is {2} happen after {3}'s block has ended, in the caller's stream. Isolate the code that draws where it runs: put the attribute on the method that does the work, or write using (Reproducible.Block(seed)) {{ ... }} inside it.",
        DiagnosticSeverity.Warning, Weaving);
}
