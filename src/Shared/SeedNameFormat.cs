using System.Collections.Generic;
using System.Linq;

namespace ReproducibleBlock;

/// <summary>
/// The text a name-derived block seed is hashed from (<see cref="SeedHash"/>), written once for the weaver, which
/// renders it from Mono.Cecil's metadata, and the analyzer, which renders it from Roslyn's symbols: each side only walks
/// its own tree of types and calls these pieces. The format is Mono.Cecil's <c>FullName</c>, which the weaver of 0.1
/// and 0.2 hashed: changing any piece would move the stream of every block whose seed comes from its name.
/// </summary>
/// <remarks>
/// <c>ctor:{type}</c> for constructors (the constructors of a type are one block);
/// <c>method:{type}::{name}[`{generic arity}]({parameter types joined by ","})</c> for methods, with
/// <c>:{return type}</c> appended for conversion operators, which may differ by their return type only. Types:
/// <c>Namespace.Outer/Nested`1</c>, <c>List`1&lt;System.Int32&gt;</c> (a nested type's arguments and its declaring
/// types' together), <c>T</c>, <c>T[]</c>, <c>T[0...,0...]</c>, <c>T&amp;</c>, <c>T*</c>,
/// <c>T modreq(M)</c> and <c>T modopt(M)</c> (the innermost modifier first), and function pointers as
/// <c>method {return type} *({parameter types})</c>, whose calling convention shows only through its modifiers.
/// </remarks>
internal static class SeedNameFormat
{
    /// <summary>What <c>dynamic</c> is in metadata.</summary>
    public const string Object = "System.Object";

    /// <summary>The name of the constructors of <paramref name="type"/> (a type definition's name).</summary>
    public static string Constructor(string type) => "ctor:" + type;

    /// <summary>The name of a method.</summary>
    /// <param name="type">The declaring type definition's name.</param>
    /// <param name="name">The method's metadata name (<c>get_Value</c>, <c>op_Addition</c>, <c>N.I&lt;System.Int32&gt;.M</c>).</param>
    /// <param name="arity">The number of the method's own generic parameters.</param>
    /// <param name="parameters">The parameter types, each rendered with these pieces.</param>
    /// <param name="conversionReturnType">The return type of a conversion operator, null for any other method.</param>
    public static string Method(string type, string name, int arity, IEnumerable<string> parameters, string? conversionReturnType)
    {
        string text = "method:" + type + "::" + name + (arity > 0 ? "`" + arity : "") + "(" + string.Join(",", parameters) + ")";
        return conversionReturnType is null ? text : text + ":" + conversionReturnType;
    }

    /// <summary>Whether a method's metadata name is a conversion operator's, whose seed name carries the return type.</summary>
    public static bool IsConversion(string metadataName) => metadataName is "op_Implicit" or "op_Explicit";

    /// <summary>A top-level type definition: <c>Namespace.Name`1</c>, or the name alone in the global namespace.</summary>
    public static string TopLevelType(string @namespace, string metadataName) =>
        @namespace.Length == 0 ? metadataName : @namespace + "." + metadataName;

    /// <summary>A nested type definition: <c>Outer/Nested</c>.</summary>
    public static string NestedType(string declaringType, string metadataName) => declaringType + "/" + metadataName;

    /// <summary>A constructed generic type: its definition and every type argument, its declaring types' first.</summary>
    public static string GenericInstance(string definition, IEnumerable<string> arguments) => definition + "<" + string.Join(",", arguments) + ">";

    /// <summary>A single-dimensional, zero-based array (a vector).</summary>
    public static string Vector(string element) => element + "[]";

    /// <summary>
    /// A multi-dimensional array: each dimension as <c>{lower}...{upper}</c>, or empty when it has neither bound
    /// (C# writes a lower bound of 0 and no size for each: <c>int[,]</c> is <c>System.Int32[0...,0...]</c>).
    /// </summary>
    public static string Array(string element, IEnumerable<(int? Lower, int? Upper)> dimensions) =>
        element + "[" + string.Join(",", dimensions.Select(d => d.Lower is null && d.Upper is null ? "" : d.Lower + "..." + d.Upper)) + "]";

    /// <summary>A managed reference: <c>ref</c>, <c>in</c>, <c>out</c> and <c>ref readonly</c> alike.</summary>
    public static string ByReference(string element) => element + "&";

    public static string Pointer(string element) => element + "*";

    /// <summary>A required (<c>modreq</c>) or optional (<c>modopt</c>) custom modifier after the type it modifies.</summary>
    public static string Modified(string type, bool required, string modifier) => type + (required ? " modreq(" : " modopt(") + modifier + ")";

    /// <summary>A function pointer: its return type (by-ref and modifiers included) and parameter types.</summary>
    public static string FunctionPointer(string returnType, IEnumerable<string> parameters) => "method " + returnType + " *(" + string.Join(",", parameters) + ")";
}
