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
internal sealed class WeaveTarget(MethodDefinition method, TargetSource source, long? explicitSeed, bool restoreOnExit, bool allowSharedSeed, BlockKind kind = BlockKind.Seeded)
{
    public MethodDefinition Method { get; } = method;
    public TargetSource Source { get; } = source;
    public long? ExplicitSeed { get; } = explicitSeed;
    public bool RestoreOnExit { get; } = restoreOnExit;
    public bool AllowSharedSeed { get; } = allowSharedSeed;
    public BlockKind Kind { get; } = kind;
    public bool IsConstructor => Method.IsConstructor;

    /// <summary>The seed the block enters with: explicit, or derived from the name by <see cref="ModuleWeaver.AssignSeeds"/>.</summary>
    public long Seed { get; set; }
}
