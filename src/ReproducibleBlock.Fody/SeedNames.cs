using System;
using System.Linq;
using Mono.Cecil;

namespace ReproducibleBlock.Weaving;

/// <summary>
/// The text a name-derived seed is hashed from, rendered from Mono.Cecil's metadata in the format the analyzer renders
/// from Roslyn's symbols (<see cref="SeedNameFormat"/>, shared by both): this class only walks Cecil's types.
/// </summary>
internal static class SeedNames
{
    /// <summary>
    /// <c>ctor:{type}</c> for constructors, <c>method:{type}::{name}[`{arity}]({parameter types})</c> for methods, and
    /// <c>:{return type}</c> after it for conversion operators.
    /// </summary>
    /// <remarks>
    /// A C# 14 extension member is named by the static method the compiler implements it with (its receiver, if any,
    /// first among the parameters): that method is the one woven, and the analyzer names it the same way through
    /// Roslyn's <c>AssociatedExtensionImplementation</c>.
    /// </remarks>
    public static string NameForSeed(MethodDefinition method)
    {
        if (method.IsConstructor)
            return SeedNameFormat.Constructor(TypeName(method.DeclaringType));
        string? conversion = method.IsSpecialName && SeedNameFormat.IsConversion(method.Name) ? TypeName(method.ReturnType) : null;
        return SeedNameFormat.Method(TypeName(method.DeclaringType), method.Name, method.GenericParameters.Count,
            method.Parameters.Select(p => TypeName(p.ParameterType)), conversion);
    }

    /// <summary>A type as it appears in a signature.</summary>
    /// <param name="type">The type.</param>
    /// <param name="genericParameter">How to write a generic parameter; by its name when null.</param>
    public static string TypeName(TypeReference type, Func<GenericParameter, string>? genericParameter = null)
    {
        string Name(TypeReference inner) => TypeName(inner, genericParameter);
        return type switch
        {
            GenericParameter parameter => genericParameter?.Invoke(parameter) ?? parameter.Name,
            ArrayType array => array.IsVector
                ? SeedNameFormat.Vector(Name(array.ElementType))
                : SeedNameFormat.Array(Name(array.ElementType), array.Dimensions.Select(d => (d.LowerBound, d.UpperBound))),
            ByReferenceType reference => SeedNameFormat.ByReference(Name(reference.ElementType)),
            PointerType pointer => SeedNameFormat.Pointer(Name(pointer.ElementType)),
            RequiredModifierType modified => SeedNameFormat.Modified(Name(modified.ElementType), required: true, Name(modified.ModifierType)),
            OptionalModifierType modified => SeedNameFormat.Modified(Name(modified.ElementType), required: false, Name(modified.ModifierType)),
            FunctionPointerType function => SeedNameFormat.FunctionPointer(Name(function.ReturnType), function.Parameters.Select(p => Name(p.ParameterType))),
            GenericInstanceType generic => SeedNameFormat.GenericInstance(DefinitionName(generic.ElementType), generic.GenericArguments.Select(Name)),
            // Pinned and sentinel types occur in locals and vararg call sites, not in a C# method's own signature.
            TypeSpecification => type.FullName,
            _ => DefinitionName(type),
        };
    }

    /// <summary>A type definition's (or a reference to one's) name: <c>Namespace.Outer/Nested`1</c>.</summary>
    private static string DefinitionName(TypeReference type) =>
        type.DeclaringType is { } outer ? SeedNameFormat.NestedType(DefinitionName(outer), type.Name) : SeedNameFormat.TopLevelType(type.Namespace, type.Name);
}
