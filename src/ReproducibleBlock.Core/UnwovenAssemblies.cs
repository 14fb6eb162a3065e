using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;

namespace ReproducibleBlock;

/// <summary>
/// Finds loaded assemblies that use the weaving attributes without having been woven, each once: an assembly that
/// references ReproducibleBlock.Aspects but lacks <see cref="WovenAssemblyAttribute"/>.
/// </summary>
/// <remarks>
/// Cheap enough for every SetSeed: each assembly is looked at once (its reference list, one attribute lookup), and the
/// framework's and TorchSharp's assemblies, which cannot use the attributes, are passed over by name.
/// </remarks>
internal sealed class UnwovenAssemblies
{
    internal const string AspectsAssemblyName = "ReproducibleBlock.Aspects";

    public static UnwovenAssemblies Shared { get; } = new();

    private readonly object _gate = new();
    private readonly HashSet<Assembly> _seen = new();

    /// <summary>Warns through <paramref name="warn"/> about each assembly of <paramref name="assemblies"/> not seen before that is unwoven.</summary>
    public void Check(IEnumerable<Assembly> assemblies, Action<string>? warn)
    {
        List<Assembly> unwoven = [];
        lock (_gate)
        {
            foreach (Assembly assembly in assemblies)
            {
                if (_seen.Add(assembly) && IsUnwoven(assembly))
                    unwoven.Add(assembly);
            }
        }
        foreach (Assembly assembly in unwoven)
            warn?.Invoke(Message(assembly.GetName().Name));
    }

    internal static string Message(string? assemblyName) =>
        $"the assembly {assemblyName} uses ReproducibleBlock's attributes ([ReproducibleBlock], [ContinuingBlock], [assembly: ReproducibleConstructors]) "
        + "but was not woven, so they do nothing and its blocks are never entered. Add <ReproducibleBlock /> to its project's FodyWeavers.xml "
        + "(beside the project file, with the ReproducibleBlock.Fody package referenced) and build again.";

    private static bool IsUnwoven(Assembly assembly)
    {
        if (assembly.IsDynamic)
            return false;
        string? name = assembly.GetName().Name;
        if (name is null || name == AspectsAssemblyName || name.StartsWith("System", StringComparison.Ordinal)
            || name.StartsWith("Microsoft.", StringComparison.Ordinal) || name.StartsWith("TorchSharp", StringComparison.Ordinal)
            || name is "mscorlib" or "netstandard" or "ReproducibleBlock.Core")
        {
            return false;
        }
        try
        {
            return assembly.GetReferencedAssemblies().Any(r => r.Name == AspectsAssemblyName)
                && !assembly.IsDefined(typeof(WovenAssemblyAttribute), inherit: false);
        }
        catch (Exception e) when (e is NotSupportedException or BadImageFormatException or System.IO.FileNotFoundException)
        {
            return false;
        }
    }
}
