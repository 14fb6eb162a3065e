using System.Collections.Generic;
using System.Linq;
using Mono.Cecil;
using Mono.Cecil.Cil;

namespace ReproducibleBlock.Weaving;

/// <summary>What the compiler made of a method body: an ordinary one, or the stub of a state machine.</summary>
internal enum MethodBodyKind
{
    Ordinary,

    /// <summary><c>async</c>: the stub returns at the first <c>await</c> that does not complete at once.</summary>
    Async,

    /// <summary>An iterator (<c>yield return</c>): the stub returns the enumerator before the body runs.</summary>
    Iterator,

    /// <summary>An async iterator (<c>IAsyncEnumerable</c>).</summary>
    AsyncIterator,
}

/// <summary>Where a method comes from in source.</summary>
internal enum MethodOrigin
{
    /// <summary>A member written as such: a method, constructor, accessor or operator.</summary>
    Member,

    /// <summary>A lambda or anonymous method, compiled to <c>&lt;Outer&gt;b__N_M</c>.</summary>
    Lambda,

    /// <summary>A local function, compiled to <c>&lt;Outer&gt;g__Name|N_M</c>.</summary>
    LocalFunction,
}

/// <summary>Questions about Cecil's methods and types that the weaver asks, in one place.</summary>
internal static class CecilExtensions
{
    /// <summary>The first sequence point of a method that is not hidden, or null without symbols.</summary>
    public static SequencePoint? FirstVisiblePoint(this MethodDefinition method) =>
        method.DebugInformation?.HasSequencePoints == true ? method.DebugInformation.SequencePoints.FirstOrDefault(p => !p.IsHidden) : null;

    /// <summary>
    /// A class constructor's declaration as the compiler recorded it: the visible sequence point of its call to the base
    /// constructor or to <c>this(...)</c> (the header <c>public C(int x)</c> when the call is implicit, <c>: base(...)</c>
    /// when written, a primary constructor's parameter list), which follows the field initialisers. Null for a struct
    /// constructor, which calls none, and for a constructor without one (a default constructor has no source).
    /// </summary>
    public static SequencePoint? ChainedConstructorPoint(this MethodDefinition constructor)
    {
        TypeDefinition type = constructor.DeclaringType;
        if (type.IsValueType || !constructor.HasBody || constructor.DebugInformation?.HasSequencePoints != true)
            return null;
        // In a class's constructor, `call` to a constructor of the base type or of the type itself is the chained call:
        // creating an object (`new`) is newobj.
        Instruction? call = constructor.Body.Instructions.FirstOrDefault(i => i.OpCode == OpCodes.Call
            && i.Operand is MethodReference { Name: ".ctor" } callee
            && (callee.DeclaringType.Resolve() is { } declaring && (declaring == type || declaring == type.BaseType?.Resolve())));
        if (call is null)
            return null;
        return constructor.DebugInformation.SequencePoints.LastOrDefault(p => !p.IsHidden && p.Offset <= call.Offset);
    }

    /// <summary>The compiler-generated state machine of an async method or iterator, or null.</summary>
    public static TypeDefinition? StateMachine(this MethodDefinition method) =>
        (StateMachineAttribute(method)?.ConstructorArguments[0].Value as TypeReference)?.Resolve();

    public static MethodBodyKind BodyKind(this MethodDefinition method) =>
        StateMachineAttribute(method)?.AttributeType.Name switch
        {
            "AsyncStateMachineAttribute" => MethodBodyKind.Async,
            "IteratorStateMachineAttribute" => MethodBodyKind.Iterator,
            "AsyncIteratorStateMachineAttribute" => MethodBodyKind.AsyncIterator,
            _ => MethodBodyKind.Ordinary,
        };

    private static CustomAttribute? StateMachineAttribute(MethodDefinition method) =>
        method.CustomAttributes.FirstOrDefault(a => a.AttributeType.Namespace == "System.Runtime.CompilerServices"
            && a.AttributeType.Name is "AsyncStateMachineAttribute" or "IteratorStateMachineAttribute" or "AsyncIteratorStateMachineAttribute");

    /// <summary>
    /// Lambdas and local functions by the names the C# compiler gives them (<c>&lt;M&gt;b__0_0</c>,
    /// <c>&lt;M&gt;g__Local|0_0</c>), whether they are static methods of the type, instance methods of a closure class or
    /// of the type itself.
    /// </summary>
    public static MethodOrigin Origin(this MethodDefinition method)
    {
        string name = method.Name;
        if (!name.StartsWith("<", System.StringComparison.Ordinal))
            return MethodOrigin.Member;
        int close = name.IndexOf('>');
        if (close < 0 || close + 2 >= name.Length)
            return MethodOrigin.Member;
        return name[close + 1] switch
        {
            'g' when name[close + 2] == '_' => MethodOrigin.LocalFunction,
            'b' when name[close + 2] == '_' => MethodOrigin.Lambda,
            _ => MethodOrigin.Member,
        };
    }

    /// <summary>The source name of a local function (<c>&lt;M&gt;g__Local|0_0</c> gives <c>Local</c>), or the method's name.</summary>
    public static string SourceName(this MethodDefinition method)
    {
        if (method.Origin() != MethodOrigin.LocalFunction)
            return method.Name;
        string name = method.Name;
        int start = name.IndexOf(">g__", System.StringComparison.Ordinal) + 4;
        int end = name.IndexOf('|', start);
        return end < 0 ? name.Substring(start) : name.Substring(start, end - start);
    }

    /// <summary>The member a lambda or local function is written in (<c>M</c> in <c>&lt;M&gt;b__0_0</c>).</summary>
    public static string EnclosingMemberName(this MethodDefinition method) =>
        method.Name.Substring(1, method.Name.IndexOf('>') - 1);

    /// <summary>
    /// Whether the method returns nothing. An <c>init</c> accessor returns <c>void modreq(IsExternalInit)</c>: a
    /// required modifier around void, still void.
    /// </summary>
    public static bool ReturnsVoid(this MethodReference method) => method.ReturnType.WithoutModifiers().MetadataType == MetadataType.Void;

    /// <summary>The type without its required and optional modifiers (<c>modreq</c>, <c>modopt</c>).</summary>
    public static TypeReference WithoutModifiers(this TypeReference type)
    {
        while (type is IModifierType modified)
            type = modified.ElementType;
        return type;
    }

    /// <summary>
    /// A record's copy constructor, which the compiler generates for <c>with</c> expressions: <c>protected</c> (or
    /// <c>private</c> in a sealed record) with one parameter of the record's own type, in a type with
    /// <c>&lt;Clone&gt;$</c>. A record struct has none (<c>with</c> copies the value).
    /// </summary>
    public static bool IsRecordCopyConstructor(this MethodDefinition method) =>
        method.IsConstructor && !method.IsStatic
        && method.Parameters.Count == 1
        && method.Parameters[0].ParameterType.Resolve() == method.DeclaringType
        && method.DeclaringType.Methods.Any(m => m.Name == "<Clone>$");

    /// <summary>
    /// Whether the type is part of a C# 14 extension block's metadata: the grouping type (<c>&lt;G&gt;$…</c>) that holds
    /// the members as declared, whose bodies only throw, or a marker type (<c>&lt;M&gt;$…</c>) nested in it. The compiler
    /// copies each member's attributes onto these skeletons and onto the static method that implements the member; only
    /// that method runs.
    /// </summary>
    public static bool IsExtensionDeclaration(this TypeDefinition type)
    {
        for (TypeDefinition? current = type; current is not null; current = current.DeclaringType)
        {
            if (current.Name.StartsWith(ExtensionGroupingPrefix, System.StringComparison.Ordinal))
                return true;
        }
        return false;
    }

    private const string ExtensionGroupingPrefix = "<G>$";

    /// <summary>
    /// For the static method the compiler implements a C# 14 extension member with, the member as written (its skeleton in
    /// the extension block's grouping type) and the extension block's receiver parameter; null for any other method.
    /// </summary>
    /// <remarks>
    /// Nothing in metadata links the two but their shape: the same name, the receiver first among the implementation's
    /// parameters for an instance member, and the extension block's generic parameters before the member's own. They are
    /// compared by signature, with generic parameters written by position.
    /// </remarks>
    public static (MethodDefinition Member, ParameterDefinition Receiver)? ExtensionMember(this MethodDefinition method)
    {
        TypeDefinition container = method.DeclaringType;
        if (!method.IsStatic || !container.HasNestedTypes || !(container.IsAbstract && container.IsSealed))
            return null;
        string implementation = Signature(method, method.Parameters, p => p.Type == GenericParameterType.Method ? "!!" + p.Position : "!" + p.Position);
        foreach (TypeDefinition grouping in container.NestedTypes.Where(t => t.Name.StartsWith(ExtensionGroupingPrefix, System.StringComparison.Ordinal)))
        {
            int blockArity = grouping.GenericParameters.Count;
            string Position(GenericParameter p) => "!!" + (p.Type == GenericParameterType.Method ? blockArity + p.Position : p.Position);
            foreach (MethodDefinition member in grouping.Methods.Where(m => m.Name == method.Name && blockArity + m.GenericParameters.Count == method.GenericParameters.Count))
            {
                string? marker = member.CustomAttributes.FirstOrDefault(a => a.AttributeType.Name == "ExtensionMarkerAttribute")?.ConstructorArguments.FirstOrDefault().Value as string;
                ParameterDefinition? receiver = grouping.NestedTypes.FirstOrDefault(t => t.Name == marker)?.Methods
                    .FirstOrDefault(m => m.Name == "<Extension>$")?.Parameters.FirstOrDefault();
                if (receiver is null)
                    continue;
                IEnumerable<ParameterDefinition> parameters = member.IsStatic ? member.Parameters : new[] { receiver }.Concat(member.Parameters);
                if (Signature(member, parameters, Position) == implementation)
                    return (member, receiver);
            }
        }
        return null;
    }

    /// <summary>Return and parameter types, generic parameters written as <paramref name="genericParameter"/> says.</summary>
    private static string Signature(MethodDefinition method, IEnumerable<ParameterDefinition> parameters, System.Func<GenericParameter, string> genericParameter) =>
        SeedNames.TypeName(method.ReturnType, genericParameter) + "(" + string.Join(",", parameters.Select(p => SeedNames.TypeName(p.ParameterType, genericParameter))) + ")";

    /// <summary>Whether <paramref name="instruction"/> loads <c>this</c> of <paramref name="method"/> (after SimplifyMacros, <c>ldarg</c> of its this parameter).</summary>
    public static bool IsLoadOfThis(this Instruction? instruction, MethodDefinition method) =>
        instruction is not null && method.HasThis
        && (instruction.OpCode == OpCodes.Ldarg_0
            || (instruction.OpCode == OpCodes.Ldarg && instruction.Operand is ParameterDefinition p && p == method.Body.ThisParameter));

    /// <summary>
    /// Whether <paramref name="type"/> is TorchSharp's <c>torch.nn.Module</c> or derives from it. A base type that cannot
    /// be resolved ends the walk (false).
    /// </summary>
    public static bool IsTorchModule(this TypeReference type)
    {
        for (TypeDefinition? current = type.Resolve(); current is not null; current = current.BaseType?.Resolve())
        {
            if (current.FullName == "TorchSharp.torch/nn/Module" && current.Module.Assembly.Name.Name == "TorchSharp")
                return true;
        }
        return false;
    }

    /// <summary>
    /// A parameter type of <paramref name="callee"/> as seen at the call: the generic parameters of its declaring type and
    /// of itself replaced by the arguments the call gives them (<c>!0</c> of <c>Module`2&lt;Tensor, Tensor&gt;::forward</c>
    /// is <c>Tensor</c>).
    /// </summary>
    public static TypeReference ResolveParameterType(this MethodReference callee, TypeReference type)
    {
        switch (type)
        {
            case GenericParameter { Type: GenericParameterType.Type } parameter when callee.DeclaringType is GenericInstanceType declaring:
                return declaring.GenericArguments[parameter.Position];
            case GenericParameter { Type: GenericParameterType.Method } parameter when callee is GenericInstanceMethod generic:
                return generic.GenericArguments[parameter.Position];
            case ByReferenceType byReference:
                return new ByReferenceType(callee.ResolveParameterType(byReference.ElementType));
            case ArrayType array:
                return new ArrayType(callee.ResolveParameterType(array.ElementType), array.Rank);
            case GenericInstanceType instance:
                var resolved = new GenericInstanceType(instance.ElementType);
                foreach (TypeReference argument in instance.GenericArguments)
                    resolved.GenericArguments.Add(callee.ResolveParameterType(argument));
                return resolved;
            default:
                return type;
        }
    }

    /// <summary>
    /// A method's result as the type argument of <c>RecordOutput&lt;T&gt;</c> or <c>ExitModuleWithOutput&lt;T&gt;</c>: the
    /// type without its modifiers, or null when no type argument can hold it (a <c>ref</c> return, a pointer, a
    /// <c>ref struct</c> such as <c>Span&lt;T&gt;</c>): such a result is not recorded.
    /// </summary>
    public static TypeReference? AsOutputTypeArgument(this TypeReference type)
    {
        type = type.WithoutModifiers();
        if (type.MetadataType is MetadataType.Void or MetadataType.TypedByReference
            || type is ByReferenceType or PointerType or FunctionPointerType or SentinelType or PinnedType)
        {
            return null;
        }
        // A type parameter declared `allows ref struct` (GenericParameterAttributes 0x20, AllowByRefLike) may be one.
        if (type is GenericParameter parameter && ((int)parameter.Attributes & 0x20) != 0)
            return null;
        if (type is not GenericParameter && type.IsValueType && type.Resolve() is { } definition
            && definition.CustomAttributes.Any(a => a.AttributeType.FullName == "System.Runtime.CompilerServices.IsByRefLikeAttribute"))
        {
            return null;
        }
        return type;
    }

    /// <summary>Where a call starts: its first prefix (<c>constrained.</c>, <c>tail.</c>), which must stay right before it, or the call itself.</summary>
    public static Instruction PrefixStart(this Instruction call)
    {
        Instruction start = call;
        while (start.Previous is { OpCode.OpCodeType: OpCodeType.Prefix } prefix)
            start = prefix;
        return start;
    }

    /// <summary>
    /// Inserts <paramref name="code"/> before <paramref name="target"/> so that every branch to <paramref name="target"/>,
    /// every exception handler bound and sequence point starting there, goes through the inserted code: the first new
    /// instruction takes the target's place (the same object, its opcode and operand replaced), the rest follow it, and
    /// the target's own opcode and operand move to a new instruction after them.
    /// </summary>
    /// <returns>The instruction that now does what <paramref name="target"/> did.</returns>
    public static Instruction InsertBeforeKeepingBranches(this ILProcessor il, Instruction target, params Instruction[] code)
    {
        Instruction moved = Instruction.Create(OpCodes.Nop);
        moved.OpCode = target.OpCode;
        moved.Operand = target.Operand;
        target.OpCode = code[0].OpCode;
        target.Operand = code[0].Operand;
        Instruction last = target;
        foreach (Instruction instruction in code.Skip(1).Append(moved))
        {
            il.InsertAfter(last, instruction);
            last = instruction;
        }
        return moved;
    }

    public static bool IsCompilerGenerated(this ICustomAttributeProvider provider) =>
        provider.HasCustomAttributes && provider.CustomAttributes.Any(a => a.AttributeType.FullName == "System.Runtime.CompilerServices.CompilerGeneratedAttribute");

    /// <summary>Whether the method carries <c>[SkipLocalsInit]</c>, itself or through its type or module.</summary>
    public static bool SkipsLocalsInit(this MethodDefinition method)
    {
        const string name = "System.Runtime.CompilerServices.SkipLocalsInitAttribute";
        for (TypeDefinition? type = method.DeclaringType; type is not null; type = type.DeclaringType)
        {
            if (type.CustomAttributes.Any(a => a.AttributeType.FullName == name))
                return true;
        }
        return method.CustomAttributes.Any(a => a.AttributeType.FullName == name)
            || method.Module.CustomAttributes.Any(a => a.AttributeType.FullName == name);
    }
}
