using System.Collections.Generic;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;

namespace ReproducibleBlock.Analyzers;

/// <summary>
/// The text a name-derived seed is hashed from, rendered from Roslyn symbols exactly as the weaver renders it from
/// Mono.Cecil (SeedAssigner.NameForSeed): <c>ctor:{type}</c> for constructors, and
/// <c>method:{type}::{name}[`{generic arity}]({parameter types joined by ","})</c> for methods, with
/// <c>:{return type}</c> appended for conversion operators. Types are written as Cecil's <c>FullName</c>:
/// <c>Namespace.Outer/Nested</c>, <c>Generic`1</c>, <c>System.Collections.Generic.List`1&lt;System.Int32&gt;</c>,
/// <c>T</c> for generic parameters, <c>[]</c>, <c>[0...,0...]</c>, <c>&amp;</c>, <c>*</c> and custom modifiers.
/// </summary>
internal static class SeedNames
{
    /// <summary>The seed the weaver derives for <paramref name="method"/> when no seed is written.</summary>
    public static long DerivedSeed(IMethodSymbol method) => SeedHash.Derive(NameForSeed(method));

    /// <summary>The seed the weaver derives for the constructors of <paramref name="type"/>.</summary>
    public static long DerivedConstructorSeed(INamedTypeSymbol type) => SeedHash.Derive("ctor:" + TypeDefinitionName(type));

    public static string NameForSeed(IMethodSymbol method)
    {
        if (method.MethodKind is MethodKind.Constructor or MethodKind.StaticConstructor)
            return "ctor:" + TypeDefinitionName(method.ContainingType);
        var text = new StringBuilder("method:");
        text.Append(TypeDefinitionName(method.ContainingType)).Append("::").Append(method.MetadataName);
        if (method.Arity > 0)
            text.Append('`').Append(method.Arity);
        text.Append('(');
        text.Append(string.Join(",", method.Parameters.Select(Parameter)));
        text.Append(')');
        if (method.MethodKind == MethodKind.Conversion)
            text.Append(':').Append(WithModifiers(TypeName(method.ReturnType), method.ReturnTypeCustomModifiers));
        return text.ToString();
    }

    private static string Parameter(IParameterSymbol parameter)
    {
        string type = WithModifiers(TypeName(parameter.Type), parameter.CustomModifiers);
        if (parameter.RefKind == RefKind.None)
            return type;
        return WithModifiers(type + "&", parameter.RefCustomModifiers);
    }

    /// <summary>Cecil writes each modifier after what it modifies, the innermost first.</summary>
    private static string WithModifiers(string type, IEnumerable<CustomModifier> modifiers)
    {
        foreach (CustomModifier modifier in modifiers.Reverse())
            type += (modifier.IsOptional ? " modopt(" : " modreq(") + TypeName(modifier.Modifier) + ")";
        return type;
    }

    /// <summary>A type definition's FullName: <c>Namespace.Name</c>, nested types after a slash, arity kept (<c>Generic`1</c>).</summary>
    public static string TypeDefinitionName(INamedTypeSymbol type)
    {
        if (type.ContainingType is { } outer)
            return TypeDefinitionName(outer) + "/" + type.MetadataName;
        string space = Namespace(type.ContainingNamespace);
        return space.Length == 0 ? type.MetadataName : space + "." + type.MetadataName;
    }

    private static string Namespace(INamespaceSymbol? space)
    {
        var parts = new List<string>();
        for (; space is { IsGlobalNamespace: false }; space = space.ContainingNamespace)
            parts.Add(space.MetadataName);
        parts.Reverse();
        return string.Join(".", parts);
    }

    /// <summary>A type reference's FullName, as Cecil writes it in a signature.</summary>
    public static string TypeName(ITypeSymbol type)
    {
        switch (type)
        {
            case IArrayTypeSymbol array:
                string element = WithModifiers(TypeName(array.ElementType), array.CustomModifiers);
                if (array.IsSZArray)
                    return element + "[]";
                // A multi-dimensional array's shape: C# writes a lower bound of 0 for each dimension and no sizes, which
                // Cecil shows as [0...,0...]; a source symbol has no bounds of its own (default), a metadata one has them.
                var dimensions = new string[array.Rank];
                for (int i = 0; i < array.Rank; i++)
                {
                    int? lower = array.LowerBounds.IsDefault ? 0 : i < array.LowerBounds.Length ? array.LowerBounds[i] : null;
                    int? size = !array.Sizes.IsDefault && i < array.Sizes.Length ? array.Sizes[i] : null;
                    dimensions[i] = lower is null && size is null ? "" : $"{lower}...{(size is { } s ? (lower ?? 0) + s - 1 : null)}";
                }
                return element + "[" + string.Join(",", dimensions) + "]";
            case IPointerTypeSymbol pointer:
                return WithModifiers(TypeName(pointer.PointedAtType), pointer.CustomModifiers) + "*";
            case ITypeParameterSymbol parameter:
                return parameter.Name;
            case IFunctionPointerTypeSymbol function:
                IMethodSymbol signature = function.Signature;
                return $"method {TypeName(signature.ReturnType)} *({string.Join(",", signature.Parameters.Select(Parameter))})";
            case INamedTypeSymbol named:
                if (named.SpecialType == SpecialType.System_Object || named.TypeKind == TypeKind.Dynamic)
                    return "System.Object";
                INamedTypeSymbol definition = named.OriginalDefinition;
                var arguments = new List<ITypeSymbol>();
                for (INamedTypeSymbol? current = named; current is not null; current = current.ContainingType)
                    arguments.InsertRange(0, current.TypeArguments);
                string name = TypeDefinitionName(definition);
                return arguments.Count == 0 || named.IsUnboundGenericType ? name : name + "<" + string.Join(",", arguments.Select(TypeName)) + ">";
            default:
                // dynamic is System.Object in metadata.
                return type.TypeKind == TypeKind.Dynamic ? "System.Object" : type.ToDisplayString();
        }
    }
}
