using System;
using System.Linq;
using Mono.Cecil;
using Mono.Cecil.Cil;

namespace ReproducibleBlock.Weaving;

/// <summary>
/// Which calls of a woven constructor are sites (see <see cref="ConstructorSites"/>), and what they are named by.
/// </summary>
/// <remarks>
/// <para>
/// A call is a site unless it is the constructor's own base or <c>this(...)</c> call, a call into ReproducibleBlock
/// itself (<c>Reproducible</c>, <c>WovenCode</c>), a delegate's constructor (the runtime implements it: it only stores
/// the target), the constructor of a compiler-made closure class, a <c>calli</c> (no callee to name), or a call that
/// cannot run user code: a method of the .NET base
/// library (a type in <c>System</c> or <c>System.*</c>, from a framework assembly) that
/// </para>
/// <list type="bullet">
/// <item>is not a delegate's <c>Invoke</c>, and not a member of a type that runs code it is given by name
/// (<c>Activator</c>, <c>System.Reflection</c>);</item>
/// <item>is not dispatched virtually to an override that user code could provide (a <c>callvirt</c> of a virtual method
/// that is not final, of a type that is not sealed: <c>object.ToString()</c>, any interface method);</item>
/// <item>takes no parameter whose type could carry user code: a delegate, an interface, or an abstract class other than
/// <c>Array</c>, <c>Enum</c>, <c>ValueType</c> and <c>Type</c> (so <c>Enumerable.Select</c> and <c>new List&lt;T&gt;(IEnumerable&lt;T&gt;)</c>
/// are sites, <c>List&lt;T&gt;.Add</c>, <c>string.Format(string, object)</c>, string interpolation, tuple constructors and
/// the array initialiser <c>RuntimeHelpers.InitializeArray</c> are not).</item>
/// </list>
/// <para>
/// Such calls draw nothing from torch's generators and run no code of the user's, so a site around them would only cost
/// time. Everything else is a site, TorchSharp's calls included (they are where layers draw their initial weights).
/// </para>
/// </remarks>
internal static class SiteCallees
{
    /// <summary>The assemblies of ReproducibleBlock itself, whose calls are never sites.</summary>
    private static readonly string[] OwnAssemblies = [ModuleWeaver.CoreAssemblyName, "ReproducibleBlock.Aspects"];

    /// <summary>Abstract types of the base library that no user type can derive from, so a parameter of theirs carries no user code.</summary>
    private static readonly string[] SealedInPractice = ["System.Array", "System.Enum", "System.ValueType", "System.Type"];

    /// <summary>Whether the call <paramref name="call"/> to <paramref name="callee"/> is never a site (see the class remarks).</summary>
    public static bool IsExcluded(Instruction call, MethodReference callee) =>
        IsOwn(callee.DeclaringType) || IsDelegateConstructor(callee) || IsClosureConstructor(callee) || CannotRunUserCode(call, callee);

    /// <summary>
    /// The name a call site is keyed by: the callee's name (<c>Linear</c>, <c>MakeLayer</c>, <c>get_Item</c>); for a
    /// constructor, its type's name as written, without generic arity (<c>BasicBlock</c>, <c>ModuleList</c>); for a
    /// delegate's <c>Invoke</c>, where the delegate comes from: the parameter's name (<c>block</c> for
    /// <c>block(in_planes, planes, stride)</c>), the field's or the property's, else the delegate type's name (<c>Func</c>,
    /// for a delegate held in a local).
    /// </summary>
    /// <param name="callee">The method called.</param>
    /// <param name="receiver">The instruction that pushed the call's receiver, if known (for a delegate's source).</param>
    public static string NameOf(MethodReference callee, Instruction? receiver)
    {
        if (callee.Name == ".ctor")
            return WithoutArity(callee.DeclaringType.Name);
        if (callee.Name == "Invoke" && IsDelegate(callee.DeclaringType.Resolve()))
        {
            return receiver?.Operand switch
            {
                ParameterDefinition parameter when receiver.OpCode.Code == Code.Ldarg && !string.IsNullOrEmpty(parameter.Name) => parameter.Name,
                FieldReference field when receiver.OpCode.Code is Code.Ldfld or Code.Ldsfld => MemberName(field.Name),
                MethodReference getter when receiver.OpCode.Code is Code.Call or Code.Callvirt && getter.Name.StartsWith("get_", StringComparison.Ordinal) && getter.Parameters.Count == 0
                    => getter.Name.Substring(4),
                _ => WithoutArity(callee.DeclaringType.Name),
            };
        }
        return callee.Name;
    }

    /// <summary>A type's name as written in C#: <c>ModuleList`1</c> is <c>ModuleList</c>.</summary>
    private static string WithoutArity(string typeName) =>
        typeName.IndexOf('`') is var tick and > 0 ? typeName.Substring(0, tick) : typeName;

    /// <summary>
    /// A member's name as written: a compiler-generated field carries it between angle brackets (an auto-property's
    /// backing field <c>&lt;Features&gt;k__BackingField</c>, a primary constructor's captured parameter <c>&lt;size&gt;P</c>).
    /// </summary>
    public static string MemberName(string fieldName)
    {
        if (fieldName.StartsWith("<", StringComparison.Ordinal) && fieldName.IndexOf('>') is var close and > 1)
            return fieldName.Substring(1, close - 1);
        return fieldName;
    }

    private static bool IsOwn(TypeReference type) => OwnAssemblies.Contains(AssemblyOf(type));

    /// <summary>
    /// The constructor of a class the compiler made to hold a lambda's captured variables (<c>&lt;&gt;c__DisplayClass0_0</c>):
    /// it only calls <c>object()</c>, and its name carries ordinals that change when a lambda is added above it.
    /// </summary>
    private static bool IsClosureConstructor(MethodReference callee) =>
        callee.Name == ".ctor" && callee.DeclaringType.Name.StartsWith("<>c", StringComparison.Ordinal)
        && callee.DeclaringType.Resolve() is { } type && type.IsCompilerGenerated();

    private static bool IsDelegateConstructor(MethodReference callee) =>
        callee.Name == ".ctor" && IsDelegate(callee.DeclaringType.Resolve());

    private static bool CannotRunUserCode(Instruction call, MethodReference callee)
    {
        if (!IsBaseLibrary(callee.DeclaringType) || callee.Resolve() is not { } method)
            return false;
        TypeDefinition type = method.DeclaringType;
        if (IsDelegate(type) || RunsCodeItIsGiven(type))
            return false;
        if (call.OpCode.Code == Code.Callvirt && method.IsVirtual && !method.IsFinal && !type.IsSealed)
            return false;
        return !method.Parameters.Any(p => CanCarryUserCode(p.ParameterType));
    }

    /// <summary>A type of the .NET base library: in <c>System</c> or <c>System.*</c>, defined in a framework assembly.</summary>
    private static bool IsBaseLibrary(TypeReference type)
    {
        TypeReference outermost = type.GetElementType();
        while (outermost.DeclaringType is not null)
            outermost = outermost.DeclaringType;
        string ns = outermost.Namespace;
        if (ns != "System" && !ns.StartsWith("System.", StringComparison.Ordinal))
            return false;
        string assembly = AssemblyOf(type);
        return assembly is "mscorlib" or "netstandard" or "System" || assembly.StartsWith("System.", StringComparison.Ordinal);
    }

    private static bool RunsCodeItIsGiven(TypeDefinition type)
    {
        TypeDefinition outermost = type;
        while (outermost.DeclaringType is not null)
            outermost = outermost.DeclaringType;
        return outermost.FullName == "System.Activator"
            || outermost.Namespace == "System.Reflection" || outermost.Namespace.StartsWith("System.Reflection.", StringComparison.Ordinal);
    }

    /// <summary>Whether a value of this parameter type could be, or call, user code: a delegate, an interface, an abstract class.</summary>
    private static bool CanCarryUserCode(TypeReference parameterType)
    {
        TypeReference type = parameterType.WithoutModifiers();
        while (type is TypeSpecification specification and not GenericInstanceType)
            type = specification.ElementType.WithoutModifiers();
        if (type is GenericParameter)
            return false;
        if (type.Resolve() is not { } definition)
            return true;
        if (SealedInPractice.Contains(definition.FullName))
            return false;
        return definition.IsInterface || definition.IsAbstract || IsDelegate(definition);
    }

    /// <summary>A delegate type (derived from <c>MulticastDelegate</c>), not <c>MulticastDelegate</c> itself.</summary>
    public static bool IsDelegate(TypeDefinition? type) =>
        type is not null && type.FullName != "System.MulticastDelegate" && type.BaseType?.FullName is "System.MulticastDelegate" or "System.Delegate";

    /// <summary>The name of the assembly that defines <paramref name="type"/>, as referenced.</summary>
    private static string AssemblyOf(TypeReference type) =>
        type.Scope switch
        {
            AssemblyNameReference reference => reference.Name,
            ModuleDefinition module => module.Assembly.Name.Name,
            _ => "",
        };
}
