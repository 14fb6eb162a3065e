using System.Collections.Generic;
using System.Linq;
using Mono.Cecil;
using Mono.Cecil.Cil;

namespace ReproducibleBlock.Weaving;

public sealed partial class ModuleWeaver
{
    private const string BlockAttributeName = "ReproducibleBlock.ReproducibleBlockAttribute";
    private const string RuleAttributeName = "ReproducibleBlock.ReproducibleConstructorsAttribute";
    private const string OptOutAttributeName = "ReproducibleBlock.NoReproducibleBlockAttribute";
    private const string ContinuingAttributeName = "ReproducibleBlock.ContinuingBlockAttribute";

    private readonly HashSet<string> _unresolvedBaseTypes = new();

    private sealed class Rule(TypeDefinition baseType, bool restoreOnExit, bool continuingForward, bool isolateParts)
    {
        public TypeDefinition BaseType { get; } = baseType;
        public bool RestoreOnExit { get; } = restoreOnExit;
        public bool ContinuingForward { get; } = continuingForward;
        public bool IsolateParts { get; } = isolateParts;
    }

    /// <summary>Every member an attribute or rule asks for; an attribute on the member wins over its type's, which wins over a rule.</summary>
    private List<WeaveTarget> FindTargets()
    {
        List<Rule> rules = ReadRules();
        var targets = new List<WeaveTarget>();
        foreach (TypeDefinition type in ModuleDefinition.GetTypes())
        {
            // A C# 14 extension block's skeletons carry the members' attributes but never run: their implementations do.
            if (type.IsExtensionDeclaration())
                continue;
            CustomAttribute? typeAttribute = Find(type, BlockAttributeName);
            bool typeOptedOut = Find(type, OptOutAttributeName) is not null;
            if (typeAttribute is not null && typeOptedOut)
            {
                Error($"Type {type.FullName} has both [ReproducibleBlock] and [NoReproducibleBlock]. Remove one of them.",
                    type.Methods.Where(m => m.IsConstructor).Select(LocationOf).FirstOrDefault(p => p is not null));
                continue;
            }
            if (typeAttribute is not null && type.IsAbstract && type.IsSealed)
            {
                Error($"The static class {type.FullName} has [ReproducibleBlock]: on a type, the attribute makes its instance constructors blocks, and a static class has none. "
                    + "Put the attribute on the methods that draw.", _locator.OfType(type));
                continue;
            }
            Rule? rule = typeOptedOut ? null : rules.FirstOrDefault(r => DerivesFrom(type, r.BaseType));

            foreach (MethodDefinition method in type.Methods)
            {
                CustomAttribute? memberAttribute = Find(method, BlockAttributeName);
                CustomAttribute? continuingAttribute = Find(method, ContinuingAttributeName);
                bool memberOptedOut = Find(method, OptOutAttributeName) is not null;
                if (memberAttribute is not null && continuingAttribute is not null)
                {
                    Error($"The {Signatures.Describe(method)} has both [ReproducibleBlock] and [ContinuingBlock]. Keep [ContinuingBlock] for a stream that continues "
                        + "from call to call, or [ReproducibleBlock] for one that starts from the same state on every call.", LocationOf(method));
                    continue;
                }
                if ((memberAttribute ?? continuingAttribute) is not null)
                {
                    string written = memberAttribute is not null ? "[ReproducibleBlock]" : "[ContinuingBlock]";
                    if (memberOptedOut)
                        Error($"The {Signatures.Describe(method)} has both {written} and [NoReproducibleBlock]. Remove one of them.", LocationOf(method));
                    else if (continuingAttribute is not null)
                        targets.Add(Continuing(method, TargetSource.MemberAttribute));
                    else
                        targets.Add(FromAttribute(method, memberAttribute!, TargetSource.MemberAttribute));
                    if (memberAttribute is not null && IsForward(method) && !NamedBool(memberAttribute, "RepeatsEachCall"))
                        WarnRepeatingForward(method);
                    continue;
                }
                if (!method.IsConstructor)
                {
                    if (rule is { ContinuingForward: true } && !memberOptedOut && IsForward(method) && !method.IsAbstract)
                        targets.Add(Continuing(method, TargetSource.AssemblyRule));
                    continue;
                }
                // A record's copy constructor runs for every `with` expression: woven, each `with` would consume an
                // instance block and move the enclosing stream.
                if (method.IsStatic || memberOptedOut || method.IsRecordCopyConstructor())
                    continue;
                if (typeAttribute is not null)
                    targets.Add(FromAttribute(method, typeAttribute, TargetSource.TypeAttribute));
                else if (rule is not null)
                    targets.Add(new WeaveTarget(method, TargetSource.AssemblyRule, explicitSeed: null, rule.RestoreOnExit, allowSharedSeed: false, isolateParts: rule.IsolateParts));
            }
        }
        return targets;
    }

    private List<Rule> ReadRules()
    {
        var rules = new List<Rule>();
        foreach (CustomAttribute attribute in ModuleDefinition.Assembly.CustomAttributes.Where(a => a.AttributeType.FullName == RuleAttributeName))
        {
            var named = attribute.ConstructorArguments[0].Value as TypeReference;
            TypeDefinition? baseType = named?.Resolve();
            string shown = named?.FullName ?? "(null)";
            // Located only for a message: finding it reads source files.
            SequencePoint? Location() => _locator.OfAssemblyAttribute(new System.Text.RegularExpressions.Regex(
                @"ReproducibleConstructors(Attribute)?\s*\(\s*typeof\s*\(\s*[\w.:]*\b" + System.Text.RegularExpressions.Regex.Escape(named?.Name.Split('`')[0] ?? "null") + @"\b",
                System.Text.RegularExpressions.RegexOptions.IgnoreCase)); // typeof(object) names System.Object
            if (baseType is null)
            {
                Error($"[assembly: ReproducibleConstructors(typeof({shown}))]: the type cannot be resolved. Check the assembly references.", Location());
                continue;
            }
            string? notAClass = baseType.IsInterface ? "an interface"
                : baseType.IsEnum ? "an enum"
                : baseType.IsValueType ? "a struct"
                : baseType.IsAbstract && baseType.IsSealed ? "a static class"
                : baseType.IsSealed ? "a sealed class"
                : null;
            if (notAClass is not null)
            {
                Error($"[assembly: ReproducibleConstructors(typeof({shown}))]: {shown} is {notAClass}, so no type derives from it. Name a class that your modules derive from, such as typeof(torch.nn.Module).", Location());
                continue;
            }
            string? tooWide = baseType.FullName switch
            {
                "System.Object" => "every class derives from it",
                "System.ValueType" => "it is the base of every struct, and struct constructors are not matched by base type",
                "System.Enum" => "it is the base of every enum",
                "System.Delegate" or "System.MulticastDelegate" => "it is the base of every delegate, whose constructors the runtime implements",
                _ => null,
            };
            if (tooWide is not null)
            {
                Error($"[assembly: ReproducibleConstructors(typeof({shown}))]: {shown} cannot be a rule's base type: {tooWide}. Name a class that your modules derive from, such as typeof(torch.nn.Module).", Location());
                continue;
            }
            // Constructors restore the enclosing stream unless the rule says otherwise: building a module is invisible to its
            // surroundings. From 0.3, forward runs in the instance's continuing block and each part a constructor builds
            // draws in a site of its own unless the rule says otherwise (the attribute's property initialisers say the same,
            // but Cecil lists only the named arguments written, so the defaults are repeated here).
            rules.Add(new Rule(baseType, NamedBool(attribute, "RestoreOnExit", whenNotWritten: true),
                NamedBool(attribute, "ContinuingForward", whenNotWritten: true), NamedBool(attribute, "IsolateParts", whenNotWritten: true)));
        }
        return rules;
    }

    /// <summary>
    /// A target from [ReproducibleBlock] on the member or its type. A constructor's block restores the enclosing
    /// stream on exit unless <c>RestoreOnExit = false</c> is written; a method's continues it unless
    /// <c>RestoreOnExit = true</c> is written.
    /// </summary>
    private static WeaveTarget FromAttribute(MethodDefinition method, CustomAttribute attribute, TargetSource source)
    {
        long? seed = attribute.ConstructorArguments.Count == 1 ? (long)attribute.ConstructorArguments[0].Value : null;
        return new WeaveTarget(method, source, seed, NamedBool(attribute, "RestoreOnExit", whenNotWritten: method.IsConstructor), NamedBool(attribute, "AllowSharedSeed"),
            isolateParts: NamedBool(attribute, "IsolateParts", whenNotWritten: true));
    }

    private static WeaveTarget Continuing(MethodDefinition method, TargetSource source) =>
        new(method, source, explicitSeed: null, restoreOnExit: true, allowSharedSeed: false, BlockKind.Continuing);

    /// <summary>An instance method named forward that overrides (or declares) a virtual one: a module's forward.</summary>
    private static bool IsForward(MethodDefinition method) =>
        method.Name == "forward" && !method.IsStatic && !method.IsConstructor && method.IsVirtual;

    /// <summary>
    /// A method block on forward starts every call from the same state: the same dropout masks on every call, and
    /// (without RestoreOnExit) the caller's stream left at the block's state each time. Rarely what is meant.
    /// </summary>
    private void WarnRepeatingForward(MethodDefinition method)
    {
        string message = $"[ReproducibleBlock] on the {Signatures.Describe(method)}: every call starts from the same state, so every call draws the same "
            + "dropout masks" + (Find(method, BlockAttributeName) is { } a && NamedBool(a, "RestoreOnExit") ? "" : ", and the caller's stream after each call continues from the block's state (the data order of every epoch repeats too)")
            + ". For a stream of the module's own that continues from call to call, use [ContinuingBlock] (or the assembly rule, whose ContinuingForward is on by default). "
            + "If every call must draw the same numbers, write [ReproducibleBlock(..., RepeatsEachCall = true)] to say so and silence this warning.";
        Warning(message, LocationOf(method));
    }

    /// <summary>
    /// Walks the base classes, generic ones included (Module&lt;T, TResult&gt; resolves to its definition). A base class
    /// that cannot be resolved (its assembly is not referenced) stops the walk, with a warning naming it once.
    /// </summary>
    private bool DerivesFrom(TypeDefinition type, TypeDefinition baseType)
    {
        TypeReference? current = type.BaseType;
        while (current is not null)
        {
            TypeDefinition? definition = current.Resolve();
            if (definition is null)
            {
                if (_unresolvedBaseTypes.Add(current.FullName))
                {
                    Warning($"The base class {current.FullName} of {type.FullName} cannot be resolved (its assembly, {current.Scope?.Name}, is not among the references the weaver sees), "
                        + $"so the weaver cannot tell whether {type.FullName} derives from {baseType.FullName}: its constructors are not woven by the rule. "
                        + "Reference that assembly directly, or put [ReproducibleBlock] on the type.", _locator.OfType(type));
                }
                return false;
            }
            if (definition.FullName == baseType.FullName && definition.Module.Assembly.Name.Name == baseType.Module.Assembly.Name.Name)
                return true;
            current = definition.BaseType;
        }
        return false;
    }

    private static CustomAttribute? Find(ICustomAttributeProvider provider, string fullName) =>
        provider.HasCustomAttributes ? provider.CustomAttributes.FirstOrDefault(a => a.AttributeType.FullName == fullName) : null;

    /// <summary>A named argument as written on the attribute (Cecil lists only those written), or <paramref name="whenNotWritten"/>.</summary>
    private static bool NamedBool(CustomAttribute attribute, string name, bool whenNotWritten = false) =>
        attribute.Properties.Where(p => p.Name == name).Select(p => (bool)p.Argument.Value).DefaultIfEmpty(whenNotWritten).First();

}
