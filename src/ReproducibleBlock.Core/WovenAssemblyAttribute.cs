using System;
using System.ComponentModel;

namespace ReproducibleBlock;

/// <summary>
/// Marks an assembly woven by ReproducibleBlock.Fody; the weaver adds it, never write it by hand.
/// </summary>
/// <remarks>
/// <see cref="Reproducible.SetSeed"/> warns once, through <see cref="Reproducible.WarningHandler"/>, about each loaded
/// assembly that references ReproducibleBlock.Aspects (it uses <c>[ReproducibleBlock]</c>, <c>[ContinuingBlock]</c> or
/// <c>[assembly: ReproducibleConstructors]</c>) but carries no such mark: its attributes do nothing, as when the
/// project's FodyWeavers.xml lacks <c>&lt;ReproducibleBlock /&gt;</c> and Fody skipped the weaver.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = false)]
public sealed class WovenAssemblyAttribute : Attribute
{
}
