using Mono.Cecil;
using Mono.Cecil.Cil;

namespace ReproducibleBlock.Weaving;

/// <summary>Why a member is woven: an attribute on it, on its type, or an assembly rule.</summary>
internal enum TargetSource
{
    MemberAttribute,
    TypeAttribute,
    AssemblyRule,
}

/// <summary>One method or constructor to weave, and how.</summary>
internal sealed class WeaveTarget(MethodDefinition method, TargetSource source, long? explicitSeed, bool restoreOnExit, bool allowSharedSeed)
{
    public MethodDefinition Method { get; } = method;
    public TargetSource Source { get; } = source;
    public long? ExplicitSeed { get; } = explicitSeed;
    public bool RestoreOnExit { get; } = restoreOnExit;
    public bool AllowSharedSeed { get; } = allowSharedSeed;
    public bool IsConstructor => Method.IsConstructor;

    /// <summary>The seed the block enters with: explicit, or derived from the name by <see cref="ModuleWeaver.AssignSeeds"/>.</summary>
    public long Seed { get; set; }

    /// <summary>Where a message about this target points: its first line in source, when there are symbols.</summary>
    public SequencePoint? Location => Locations.Of(Method);
}
