using Mono.Cecil;

namespace ReproducibleBlock.Weaving;

/// <summary>Why a member is woven: an attribute on it, on its type, or an assembly rule.</summary>
internal enum TargetSource
{
    MemberAttribute,
    TypeAttribute,
    AssemblyRule,
}

/// <summary>What a woven body runs in.</summary>
internal enum BlockKind
{
    /// <summary>A block with a seed: <c>Reproducible.Block</c>, or <c>WovenCode.EnterConstructorBlock</c> for constructors.</summary>
    Seeded,

    /// <summary>The instance's continuing block: <c>Reproducible.ContinuingBlock(this)</c>.</summary>
    Continuing,
}

/// <summary>One method or constructor to weave, and how.</summary>
internal sealed class WeaveTarget(MethodDefinition method, TargetSource source, long? explicitSeed, bool restoreOnExit, bool allowSharedSeed, BlockKind kind = BlockKind.Seeded, bool isolateParts = true)
{
    public MethodDefinition Method { get; } = method;
    public TargetSource Source { get; } = source;
    public long? ExplicitSeed { get; } = explicitSeed;
    public bool RestoreOnExit { get; } = restoreOnExit;
    public bool AllowSharedSeed { get; } = allowSharedSeed;
    public BlockKind Kind { get; } = kind;
    public bool IsConstructor => Method.IsConstructor;

    /// <summary>
    /// For a class constructor's block: whether each part it builds gets a site (<see cref="ConstructorSites"/>) and
    /// TorchSharp's random modules in its tree streams keyed by their path (<c>IsolateParts</c>, true unless written false).
    /// </summary>
    public bool IsolateParts { get; } = isolateParts;

    /// <summary>Whether this target's body gets sites: a class constructor's seeded block, with <see cref="IsolateParts"/>.</summary>
    public bool HasSites => IsConstructor && !Method.IsStatic && !Method.DeclaringType.IsValueType && Kind == BlockKind.Seeded && IsolateParts;

    /// <summary>The seed the block enters with: explicit, or derived from the name by <see cref="ModuleWeaver.AssignSeeds"/>.</summary>
    public long Seed { get; set; }
}
