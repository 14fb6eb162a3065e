using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;

namespace ReproducibleBlock.Tracing;

/// <summary>
/// Which woven assembly each woven block comes from, so that a trace names every such assembly (its <c>code</c> event:
/// name, version, MVID) before its first block: <c>diff</c> then tells two builds of the code from two runs of one.
/// </summary>
/// <remarks>
/// The assembly is found from the name the weaver gives the block (<c>Namespace.Type.Method</c>, <c>Namespace.Type..ctor</c>):
/// the loaded assembly marked <see cref="WovenAssemblyAttribute"/> that defines the type. Nothing is asked of the woven
/// code and nothing is looked at while tracing is off; while it is on, each name costs one look-up by reference (the
/// weaver's names are string literals, interned), and a type search the first time. A name that names no type of a
/// woven assembly (a hand-written call of <see cref="WovenCode"/> with a name of its own) names no assembly.
/// Not thread-safe: the runtime calls it under its lock.
/// </remarks>
internal sealed class CodeIdentities
{
    /// <summary>Names seen by reference: the fast path; cleared when it grows past this (names built at run time).</summary>
    private const int MaxByReference = 10_000;

    private readonly Dictionary<string, Assembly?> _byReference = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<string, Assembly?> _byName = new(StringComparer.Ordinal);
    private readonly HashSet<Assembly> _named = [];

    /// <summary>A new trace: every assembly is named again in it.</summary>
    public void StartTrace() => _named.Clear();

    /// <summary>
    /// The assembly of the woven block named <paramref name="name"/> when this trace has not named it yet (it is then
    /// counted as named); null when it has, or when the name names no woven assembly's type.
    /// </summary>
    public Assembly? FirstOf(string? name)
    {
        if (name is null)
            return null;
        if (!_byReference.TryGetValue(name, out Assembly? assembly))
        {
            if (!_byName.TryGetValue(name, out assembly))
                _byName[name] = assembly = Find(name);
            if (_byReference.Count >= MaxByReference)
                _byReference.Clear();
            _byReference[name] = assembly;
        }
        return assembly is not null && _named.Add(assembly) ? assembly : null;
    }

    /// <summary>The type part of a woven block's name: <c>Namespace.Type</c> of <c>Namespace.Type.Method</c> or <c>Namespace.Type..ctor</c>.</summary>
    internal static string? TypeNameOf(string name)
    {
        foreach (string constructor in (string[])["..ctor", "..cctor"])
        {
            if (name.EndsWith(constructor, StringComparison.Ordinal))
                return name[..^constructor.Length];
        }
        int dot = name.LastIndexOf('.');
        return dot > 0 ? name[..dot] : null;
    }

    private static Assembly? Find(string name)
    {
        if (TypeNameOf(name) is not { } typeName)
            return null;
        foreach (Assembly assembly in AppDomain.CurrentDomain.GetAssemblies().Where(IsWoven))
        {
            if (assembly.GetType(typeName, throwOnError: false) is not null)
                return assembly;
        }
        return null;
    }

    private static bool IsWoven(Assembly assembly)
    {
        try
        {
            return !assembly.IsDynamic && assembly.IsDefined(typeof(WovenAssemblyAttribute), inherit: false);
        }
        catch (Exception e) when (e is TypeLoadException or FileNotFoundException or FileLoadException)
        {
            return false; // an assembly whose attributes cannot be read is none of ours
        }
    }
}
