using System.Collections.Generic;
using System.Linq;
using Mono.Cecil;

namespace ReproducibleBlock.Weaving;

/// <summary>How members are named in messages: <c>method Namespace.Type.Name(Int32, String)</c>.</summary>
internal static class Signatures
{
    public static string Parameters(MethodDefinition method) => Parameters(method.Parameters);

    private static string Parameters(IEnumerable<ParameterDefinition> parameters) =>
        "(" + string.Join(", ", parameters.Select(p => p.ParameterType.Name)) + ")";

    public static string Describe(MethodDefinition method) =>
        method.Origin() switch
        {
            MethodOrigin.Lambda => $"lambda in {WrittenIn(method)}",
            MethodOrigin.LocalFunction => $"local function {method.SourceName()} in {WrittenIn(method)}",
            _ when method.IsConstructor => $"constructor {method.DeclaringType.FullName}{Parameters(method)}",
            // A C# 14 extension member by the name written in its extension block, not its implementation's; its
            // parameters are the implementation's after the receiver (they carry the generic parameters' written names).
            _ when method.ExtensionMember() is var (member, receiver) =>
                $"method {method.DeclaringType.FullName}.extension({receiver.ParameterType.Name}).{member.Name}{Parameters(method.Parameters.Skip(member.IsStatic ? 0 : 1))}",
            _ => $"method {method.DeclaringType.FullName}.{method.Name}{Parameters(method)}",
        };

    /// <summary>The member a lambda or local function is written in, on the type the user wrote (not a closure class).</summary>
    private static string WrittenIn(MethodDefinition method)
    {
        TypeDefinition type = method.DeclaringType;
        while (type.DeclaringType is not null && type.Name.StartsWith("<", System.StringComparison.Ordinal))
            type = type.DeclaringType;
        string member = method.EnclosingMemberName();
        return member == ".ctor" ? $"the constructor of {type.FullName}" : $"{type.FullName}.{member}";
    }
}
