using System.Reflection;
using Microsoft.CodeAnalysis;

namespace ReproducibleBlock.Analyzers;

/// <summary>
/// C# 14 extension members (<c>extension(long[] a) { ... }</c> in a static class). The compiler implements each with a
/// static method of the static class (the receiver, if any, as its first parameter): that method runs, carries the
/// attributes and is what the weaver weaves; the member inside the extension block is a skeleton that only throws.
/// </summary>
/// <remarks>
/// The analyzer builds against Roslyn 4.8, the oldest compiler it supports, which has no extension members; a compiler
/// that can compile one (Roslyn 5 and later) has <c>IMethodSymbol.AssociatedExtensionImplementation</c>, read here by
/// reflection. On an older compiler the property is missing and no member is an extension member.
/// </remarks>
internal static class ExtensionMembers
{
    private static readonly PropertyInfo? AssociatedImplementation = typeof(IMethodSymbol).GetRuntimeProperty("AssociatedExtensionImplementation");

    /// <summary>The static method implementing <paramref name="method"/>, when it is a member of an extension block; null otherwise.</summary>
    public static IMethodSymbol? ImplementationOf(IMethodSymbol method) =>
        AssociatedImplementation is null ? null : AssociatedImplementation.GetValue(method) as IMethodSymbol;
}
