using System.Collections.Generic;

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
                Error(problem, target.Location);
        }
        return good;
    }

    private static string? Problem(WeaveTarget target)
    {
        var method = target.Method;
        string name = Describe(method);
        string attribute = target.Kind == BlockKind.Seeded ? "[ReproducibleBlock]"
            : target.Source == TargetSource.AssemblyRule ? "the rule's ContinuingForward" : "[ContinuingBlock]";
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
        if (Locations.StateMachineKind(method) is { } kind)
        {
            string why = kind == "an iterator" ? "it would end before the body runs, when the caller first gets the enumerator" : "it would end at the first await, while the body goes on";
            string scope = target.Kind == BlockKind.Continuing ? "Reproducible.ContinuingBlock(this)" : "Reproducible.Block(seed)";
            return $"The {name} is {kind}, so {attribute} cannot wrap it: {why}. "
                + $"Remove the attribute and write using ({scope}) {{ ... }} inside the method, around the code to isolate; such a block stays open across awaits and yields.";
        }
        return null;
    }
}
