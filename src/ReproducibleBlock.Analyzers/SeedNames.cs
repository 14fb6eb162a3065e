using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace ReproducibleBlock.Analyzers;

/// <summary>
/// The text a name-derived seed is hashed from, rendered from Roslyn's symbols in the format the weaver renders from
/// Mono.Cecil's metadata (<see cref="SeedNameFormat"/>, shared by both): this class only walks Roslyn's types, as
/// they are written to metadata.
/// </summary>
internal static class SeedNames
{
    /// <summary>The seed the weaver derives for <paramref name="method"/> when no seed is written.</summary>
    public static long DerivedSeed(IMethodSymbol method) => SeedHash.Derive(NameForSeed(method));

    /// <summary>The seed the weaver derives for the constructors of <paramref name="type"/>.</summary>
    public static long DerivedConstructorSeed(INamedTypeSymbol type) => SeedHash.Derive(SeedNameFormat.Constructor(TypeDefinitionName(type)));

    public static string NameForSeed(IMethodSymbol method)
    {
        // A C# 14 extension member runs as the static method the compiler implements it with: the weaver sees that one.
        method = ExtensionMembers.ImplementationOf(method) ?? method;
        if (method.MethodKind is MethodKind.Constructor or MethodKind.StaticConstructor)
            return SeedNameFormat.Constructor(TypeDefinitionName(method.ContainingType));
        string? conversion = method.MethodKind == MethodKind.Conversion
            ? ReturnType(method.ReturnType, method.RefKind, method.ReturnTypeCustomModifiers, method.RefCustomModifiers)
            : null;
        return SeedNameFormat.Method(TypeDefinitionName(method.ContainingType), method.MetadataName, method.Arity, method.Parameters.Select(Parameter), conversion);
    }

    /// <summary>A parameter's type: the type with its modifiers, then <c>&amp;</c> and the reference's modifiers for ref, in, out and ref readonly.</summary>
    private static string Parameter(IParameterSymbol parameter) =>
        ReturnType(parameter.Type, parameter.RefKind, parameter.CustomModifiers, parameter.RefCustomModifiers);

    /// <summary>A type with its modifiers, and, when passed or returned by reference, <c>&amp;</c> with the reference's modifiers.</summary>
    private static string ReturnType(ITypeSymbol type, RefKind refKind, ImmutableArray<CustomModifier> typeModifiers, ImmutableArray<CustomModifier> refModifiers)
    {
        string text = WithModifiers(TypeName(type), typeModifiers);
        return refKind == RefKind.None ? text : WithModifiers(SeedNameFormat.ByReference(text), refModifiers);
    }

    /// <summary>Roslyn lists a type's modifiers outermost first, as metadata stores them; the format writes the innermost first.</summary>
    private static string WithModifiers(string type, IEnumerable<CustomModifier> modifiers)
    {
        foreach (CustomModifier modifier in modifiers.Reverse())
            type = SeedNameFormat.Modified(type, !modifier.IsOptional, TypeName(modifier.Modifier));
        return type;
    }

    /// <summary>A type definition's name: <c>Namespace.Outer/Nested`1</c>.</summary>
    public static string TypeDefinitionName(INamedTypeSymbol type) =>
        type.ContainingType is { } outer
            ? SeedNameFormat.NestedType(TypeDefinitionName(outer), type.MetadataName)
            : SeedNameFormat.TopLevelType(Namespace(type.ContainingNamespace), type.MetadataName);

    private static string Namespace(INamespaceSymbol? space)
    {
        var parts = new List<string>();
        for (; space is { IsGlobalNamespace: false }; space = space.ContainingNamespace)
            parts.Add(space.MetadataName);
        parts.Reverse();
        return string.Join(".", parts);
    }

    /// <summary>A type as it appears in a signature in metadata.</summary>
    public static string TypeName(ITypeSymbol type)
    {
        switch (type)
        {
            case IArrayTypeSymbol array:
                string element = WithModifiers(TypeName(array.ElementType), array.CustomModifiers);
                if (array.IsSZArray)
                    return SeedNameFormat.Vector(element);
                // C# writes a lower bound of 0 for each dimension and no sizes; a source symbol has no bounds of its own
                // (default), a metadata one has them.
                var dimensions = new (int? Lower, int? Upper)[array.Rank];
                for (int i = 0; i < array.Rank; i++)
                {
                    int? lower = array.LowerBounds.IsDefault ? 0 : i < array.LowerBounds.Length ? array.LowerBounds[i] : null;
                    int? size = !array.Sizes.IsDefault && i < array.Sizes.Length ? array.Sizes[i] : null;
                    dimensions[i] = (lower, size is { } s ? (lower ?? 0) + s - 1 : null);
                }
                return SeedNameFormat.Array(element, dimensions);
            case IPointerTypeSymbol pointer:
                return SeedNameFormat.Pointer(WithModifiers(TypeName(pointer.PointedAtType), pointer.CustomModifiers));
            case ITypeParameterSymbol parameter:
                return parameter.Name;
            case IFunctionPointerTypeSymbol function:
                // An unmanaged calling convention with a list (unmanaged[Cdecl, SuppressGCTransition]) is written as
                // modopt(CallConv...) on the return, which Roslyn lists among the return's (or the reference's) modifiers.
                IMethodSymbol signature = function.Signature;
                return SeedNameFormat.FunctionPointer(
                    ReturnType(signature.ReturnType, signature.RefKind, signature.ReturnTypeCustomModifiers, signature.RefCustomModifiers),
                    signature.Parameters.Select(Parameter));
            case INamedTypeSymbol named:
                if (named.SpecialType == SpecialType.System_Object || named.TypeKind == TypeKind.Dynamic)
                    return SeedNameFormat.Object;
                var arguments = new List<ITypeSymbol>();
                for (INamedTypeSymbol? current = named; current is not null; current = current.ContainingType)
                    arguments.InsertRange(0, current.TypeArguments);
                string name = TypeDefinitionName(named.OriginalDefinition);
                return arguments.Count == 0 || named.IsUnboundGenericType ? name : SeedNameFormat.GenericInstance(name, arguments.Select(TypeName));
            default:
                return type.TypeKind == TypeKind.Dynamic ? SeedNameFormat.Object : type.ToDisplayString();
        }
    }
}
