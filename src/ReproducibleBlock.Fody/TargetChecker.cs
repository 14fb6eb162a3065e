using System;
using System.Collections.Generic;
using Mono.Cecil;

namespace ReproducibleBlock.Weaving;

public sealed partial class ModuleWeaver
{
    /// <summary>Reports the members that cannot be woven, each with its fix, and returns the rest.</summary>
    private List<WeaveTarget> RejectBadTargets(List<WeaveTarget> targets)
    {
        var good = new List<WeaveTarget>(targets.Count);
        foreach (WeaveTarget target in targets)
        {
            string? problem = Problem(target);
            if (problem is null)
                good.Add(target);
            else
                Error(problem, LocationOf(target.Method));
        }
        return good;
    }

    private static string? Problem(WeaveTarget target)
    {
        var method = target.Method;
        string name = Signatures.Describe(method);
        string attribute = target.Kind == BlockKind.Seeded ? "[ReproducibleBlock]"
            : target.Source == TargetSource.AssemblyRule ? "the rule's ContinuingForward" : "[ContinuingBlock]";
        if (method.Origin() is not MethodOrigin.Member and var origin)
        {
            // The compiler names them <Outer>b__N_M and <Outer>g__Name|N_M, with ordinals that change when an
            // unrelated lambda or local function is added above: a seed derived from such a name would move.
            if (target.Kind == BlockKind.Continuing)
                return $"The {name} has {attribute}: its `this` is a compiler-generated closure, not the instance that owns the stream. Move the code into an instance method of the class and put the attribute there.";
            if (target.ExplicitSeed is null)
            {
                return $"The {name} has [ReproducibleBlock] without a seed: a seed derived from the compiler's name for a {(origin == MethodOrigin.Lambda ? "lambda" : "local function")} "
                    + "changes whenever a lambda or local function is added above it, and its stream with it. Give it an explicit seed ([ReproducibleBlock(seed)]), or move the code into a method.";
            }
        }
        if (target.Kind == BlockKind.Continuing)
        {
            if (method.IsStatic)
                return $"The static {name} has {attribute}: a continuing block is the stream of an instance, and a static method has none. Use [ReproducibleBlock] for a block with a seed, or call Reproducible.ContinuingBlock(owner) with the object that owns the stream.";
            if (method.DeclaringType.IsValueType)
                return $"The {name} belongs to a struct but has {attribute}: a struct's `this` is copied into a new box on every call, so its stream would start over each time. Put the method on a class, or call Reproducible.ContinuingBlock(owner) with a lasting object.";
        }
        if (method.IsAbstract)
            return $"The {name} is abstract but has {attribute}: there is no body to run in a block. Put the attribute on the overriding methods instead.";
        if (!method.HasBody)
            return $"The {name} is extern but has {attribute}: there is no body to run in a block. Remove the attribute, or wrap the call in using (Reproducible.Block(seed)).";
        if (method.IsConstructor && method.IsStatic)
            return $"The static {name} has [ReproducibleBlock]: a static constructor runs once, whenever the runtime decides, so it cannot be a reproducible block. Move the random work into a method or an instance constructor.";
        if (IsFinalizer(method))
            return $"The finalizer {method.DeclaringType.FullName}.~{method.DeclaringType.Name.Split('`')[0]}() has {attribute}: it runs on the finalizer thread, whenever the garbage collector decides, so it cannot be a reproducible block. Remove the attribute.";
        MethodBodyKind kind = method.BodyKind();
        if (kind != MethodBodyKind.Ordinary)
        {
            string what = kind switch
            {
                MethodBodyKind.Async => "async",
                MethodBodyKind.Iterator => "an iterator",
                _ => "an async iterator",
            };
            string why = kind == MethodBodyKind.Iterator ? "it would end before the body runs, when the caller first gets the enumerator" : "it would end at the first await, while the body goes on";
            string scope = target.Kind == BlockKind.Continuing ? "Reproducible.ContinuingBlock(this)" : "Reproducible.Block(seed)";
            return $"The {name} is {what}, so {attribute} cannot wrap it: {why}. "
                + $"Remove the attribute and write using ({scope}) {{ ... }} inside the method, around the code to isolate; such a block stays open across awaits and yields.";
        }
        return null;
    }

    private static bool IsFinalizer(MethodDefinition method) =>
        method.Name == "Finalize" && method.IsVirtual && !method.IsStatic && method.Parameters.Count == 0 && method.ReturnsVoid();

    /// <summary>
    /// Warns about a woven method whose result does its work later, after the block has ended: a Task or ValueTask
    /// returned without async (the work it started goes on outside), an enumerable or enumerator (evaluated by the
    /// caller), a delegate (called later).
    /// </summary>
    private void WarnAboutDeferredWork(List<WeaveTarget> targets)
    {
        foreach (WeaveTarget target in targets)
        {
            MethodDefinition method = target.Method;
            if (method.IsConstructor || method.BodyKind() != MethodBodyKind.Ordinary)
                continue;
            if (DeferredKind(method.ReturnType) is not { } deferred)
                continue;
            string attribute = target.Kind == BlockKind.Seeded ? "[ReproducibleBlock]" : "[ContinuingBlock]";
            Warning($"The {Signatures.Describe(method)} returns {deferred}, so draws made when it is {DeferredResults.When(deferred)} happen after {attribute}'s block has ended, in the caller's stream. "
                + "Isolate the code that draws where it runs: put the attribute on the method that does the work, or write using (Reproducible.Block(seed)) { ... } inside it.",
                LocationOf(method));
        }
    }

    private static string? DeferredKind(TypeReference returnType)
    {
        TypeReference type = returnType.WithoutModifiers();
        string name = type.Namespace + "." + (type is GenericInstanceType generic ? generic.ElementType.Name : type.Name);
        return DeferredResults.KindOf(name)
            ?? (type.Resolve()?.BaseType?.FullName == "System.MulticastDelegate" ? DeferredResults.Delegate : null);
    }
}
