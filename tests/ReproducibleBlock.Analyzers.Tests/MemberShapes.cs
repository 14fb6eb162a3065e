using System.Collections.Generic;
using System.Linq;
using CsCheck;

namespace ReproducibleBlock.Analyzers.Tests;

/// <summary>
/// A grammar of C# member shapes that can carry a name-derived block seed, as CsCheck generators: members of every kind
/// (methods, constructors, accessors, indexers, operators and conversions, events, explicit interface implementations,
/// default interface methods, C# 14 extension members, partial members, primary constructors, classes woven by a type
/// attribute or the assembly rule) in containers of every kind, nested and generic, with signatures built from
/// generated types (arrays of any rank, pointers, function pointers with any calling convention and by-ref kind,
/// generic instances, tuples, nullable values, dynamic, type parameters) and parameters of every ref kind.
/// </summary>
/// <remarks>
/// Each shape is one type named <c>S@@</c> (with what it needs beside it); <see cref="Program"/> numbers them, so a
/// diagnostic and a woven method are traced back to their shape by that name. Every shape compiles, is a valid block
/// and has exactly one attribute (or rule) giving it a name-derived seed.
/// </remarks>
internal static class MemberShapes
{
    /// <summary>A type written in a signature, and where it may be used so that the program still compiles.</summary>
    internal sealed record TypeShape(string Text, bool Unmanaged, bool TypeArgument, bool NonNullableValueType);

    /// <summary>The declarations every generated program starts with: the types signatures use, and the rule.</summary>
    public const string Prelude = """
        using System;
        using System.Collections.Generic;
        using ReproducibleBlock;

        [assembly: ReproducibleConstructors(typeof(Shapes.RuleBase))]

        public class Top { }

        namespace Shapes
        {
            public class RuleBase { }
            public class Plain { public class Nested { } }
            public struct Val { public int X; }
            public enum Kind { A, B }
            public class Box<T> { public class Inner { } }
            public static class Outer { public class Deep<T> { } }
        }

        """;

    private const string Body = "{ throw new System.NotSupportedException(); }";

    private static TypeShape Struct(string text) => new(text, Unmanaged: true, TypeArgument: true, NonNullableValueType: true);

    private static TypeShape Class(string text) => new(text, Unmanaged: false, TypeArgument: true, NonNullableValueType: false);

    private static readonly TypeShape[] Leaves =
    [
        Struct("int"), Struct("long"), Struct("byte"), Struct("char"), Struct("double"), Struct("bool"), Struct("decimal"),
        Struct("nint"), Struct("nuint"), Struct("Shapes.Val"), Struct("Shapes.Kind"),
        Class("string"), Class("object"), Class("dynamic"), Class("Shapes.Plain"), Class("Shapes.Plain.Nested"), Class("global::Top"),
    ];

    private static readonly string[] CallingConventions =
    [
        "", " managed", " unmanaged", " unmanaged[Cdecl]", " unmanaged[Stdcall]", " unmanaged[Thiscall]", " unmanaged[Fastcall]",
        " unmanaged[Cdecl, SuppressGCTransition]", " unmanaged[SuppressGCTransition]", " unmanaged[MemberFunction, Stdcall]",
    ];

    /// <summary>Types up to <paramref name="depth"/> constructors deep, over the leaves and <paramref name="typeParameters"/>.</summary>
    public static Gen<TypeShape> Type(IReadOnlyList<string> typeParameters, int depth)
    {
        TypeShape[] leaves = [.. Leaves, .. typeParameters.Select(p => new TypeShape(p, Unmanaged: false, TypeArgument: true, NonNullableValueType: false))];
        Gen<TypeShape> leaf = Gen.OneOf(leaves);
        if (depth == 0)
            return leaf;
        Gen<TypeShape> inner = Type(typeParameters, depth - 1);
        Gen<TypeShape> argument = inner.Where(t => t.TypeArgument);
        Gen<TypeShape> unmanaged = Gen.OneOf(Gen.OneOf(leaves.Where(t => t.Unmanaged).ToArray()), inner.Where(t => t.Unmanaged));
        return Gen.Frequency(
            (6, leaf),
            (2, Gen.Select(inner, Gen.OneOf("[]", "[,]", "[,,]"), (t, rank) => t with { Text = t.Text + rank, Unmanaged = false, NonNullableValueType = false })),
            (1, inner.Where(t => t.NonNullableValueType).Select(t => t with { Text = t.Text + "?", Unmanaged = false, NonNullableValueType = false })),
            (3, Gen.Select(Gen.OneOf("System.Collections.Generic.List<{0}>", "System.Collections.Generic.IEnumerable<{0}>", "System.Action<{0}>",
                "Shapes.Box<{0}>", "Shapes.Box<{0}>.Inner", "Shapes.Outer.Deep<{0}>"), argument, (format, t) => Class(string.Format(format, t.Text)))),
            (2, Gen.Select(Gen.OneOf("System.Func<{0}, {1}>", "System.Collections.Generic.Dictionary<{0}, {1}>", "({0}, {1} Named)"), argument, argument,
                (format, a, b) => format.StartsWith('(') ? new TypeShape(string.Format(format, a.Text, b.Text), false, true, true) : Class(string.Format(format, a.Text, b.Text)))),
            (1, argument.Select(t => new TypeShape($"({t.Text}, int, long, byte, char, bool, double, {t.Text})", false, true, true))),
            (2, unmanaged.Select(t => t with { Text = t.Text + "*", TypeArgument = false, NonNullableValueType = false })),
            (1, Gen.Const(new TypeShape("void*", true, false, false))),
            (3, FunctionPointer(inner)));
    }

    /// <summary><c>delegate* [calling convention]&lt;parameters, return&gt;</c>, parameters and return of every by-ref kind.</summary>
    private static Gen<TypeShape> FunctionPointer(Gen<TypeShape> types)
    {
        Gen<string> parameter = Gen.Select(Gen.OneOf("", "ref ", "in ", "out ", "ref readonly "), types, (kind, t) => kind + t.Text);
        Gen<string> result = Gen.Frequency(
            (2, Gen.Const("void")),
            (3, types.Select(t => t.Text)),
            (1, types.Select(t => "ref " + t.Text)),
            (1, types.Select(t => "ref readonly " + t.Text)));
        return Gen.Select(Gen.OneOf(CallingConventions), parameter.Array[0, 3], result,
            (convention, parameters, r) => new TypeShape($"delegate*{convention}<{string.Join(", ", parameters.Append(r))}>", Unmanaged: true, TypeArgument: false, NonNullableValueType: false));
    }

    /// <summary>A parameter list: parameters of every ref kind, and perhaps a params array or span last.</summary>
    private static Gen<string> Parameters(Gen<TypeShape> types, bool refKinds = true)
    {
        Gen<string> kind = refKinds ? Gen.OneOf("", "", "", "ref ", "out ", "in ", "ref readonly ", "scoped ref ") : Gen.OneOf("", "in ");
        Gen<string> tail = Gen.Frequency(
            (6, Gen.Const("")),
            // C# reads T[,][] as a two-dimensional array of T[]: a params array's element must not be an array.
            (1, types.Where(t => !t.Text.EndsWith(']')).Select(t => $"params {t.Text}[] rest")),
            (1, types.Where(t => t.TypeArgument).Select(t => $"params System.ReadOnlySpan<{t.Text}> rest")));
        return Gen.Select(Gen.Select(kind, types, (k, t) => k + t.Text).Array[0, 3], tail,
            (parameters, last) => string.Join(", ", parameters.Select((p, i) => $"{p} p{i}").Concat(last.Length > 0 ? [last] : [])));
    }

    private static Gen<string> Return(Gen<TypeShape> types) =>
        Gen.Frequency((2, Gen.Const("void")), (5, types.Select(t => t.Text)), (1, types.Select(t => "ref " + t.Text)), (1, types.Select(t => "ref readonly " + t.Text)));

    private static string TypeParameterList(IReadOnlyList<string> parameters) => parameters.Count == 0 ? "" : "<" + string.Join(", ", parameters) + ">";

    private static IReadOnlyList<string> Names(string prefix, int count) => [.. Enumerable.Range(1, count).Select(i => prefix + i)];

    /// <summary>Members of a class, struct or record <c>S@@</c> with type parameters <paramref name="typeParameters"/>.</summary>
    private static Gen<string> TypeMember(string modifiers, string kind, IReadOnlyList<string> typeParameters)
    {
        string self = "S@@" + TypeParameterList(typeParameters);
        bool overridable = kind is "class" or "record" && modifiers.Length == 0;
        Gen<TypeShape> types = Type(typeParameters, 2);
        Gen<string> method = Gen.Int[0, 2].SelectMany(arity =>
        {
            IReadOnlyList<string> own = Names("U", arity);
            Gen<TypeShape> withOwn = Type([.. typeParameters, .. own], 2);
            Gen<string> modifier = overridable ? Gen.OneOf("", "static ", "virtual ") : Gen.OneOf("", "static ");
            return Gen.Select(modifier, Return(withOwn), Parameters(withOwn),
                (m, r, p) => $"[ReproducibleBlock] public {m}{r} M{TypeParameterList(own)}({p}) {Body}");
        });
        Gen<string> constructor = Parameters(types).Select(p => $"[ReproducibleBlock] public S@@({p}) {Body}");
        Gen<string> property = Gen.Select(types, Gen.OneOf("get", "set", "init", "static get"), (t, accessor) => accessor switch
        {
            "get" => $"public {t.Text} P {{ [ReproducibleBlock] get {Body} }}",
            "static get" => $"public static {t.Text} P {{ [ReproducibleBlock] get {Body} }}",
            _ => $"public {t.Text} P {{ get {Body} [ReproducibleBlock] {accessor} {Body} }}",
        });
        Gen<string> indexer = Gen.Select(types, Parameters(types, refKinds: false).Where(p => p.Length > 0),
            (t, p) => $"public {t.Text} this[{p}] {{ [ReproducibleBlock] get {Body} }}");
        Gen<string> binary = types.Select(t => $"[ReproducibleBlock] public static {self} operator +({self} a, {t.Text} b) {Body}");
        Gen<string> checkedUnary = Gen.Const($"public static {self} operator -({self} a) {Body} [ReproducibleBlock] public static {self} operator checked -({self} a) {Body}");
        Gen<string> compound = types.Select(t => $"[ReproducibleBlock] public void operator *=({t.Text} b) {Body}");
        Gen<string> increment = Gen.Const($"[ReproducibleBlock] public void operator ++() {Body}");
        Gen<string> conversion = Gen.Select(Gen.OneOf("implicit", "explicit"), Gen.OneOf("int", "long", "double", "string", "Shapes.Plain", "int[]", "(int, long)", "System.Collections.Generic.List<int>"),
            (conversionKind, target) => $"[ReproducibleBlock] public static {conversionKind} operator {target}({self} a) {Body}");
        Gen<string> @event = Gen.OneOf("", "static ").Select(m => $"public {m}event System.Action E {{ [ReproducibleBlock] add {Body} remove {Body} }}");
        return Gen.Frequency((6, method), (3, constructor), (3, property), (2, indexer), (1, binary), (1, checkedUnary), (1, conversion), (1, @event), (1, compound), (1, increment));
    }

    /// <summary>A class, struct or record <c>S@@</c> with one member carrying the attribute.</summary>
    private static Gen<string> TypeWithMember =>
        Gen.Select(Gen.OneOf(("", "class"), ("sealed ", "class"), ("", "struct"), ("readonly ", "struct"), ("", "record"), ("sealed ", "record"), ("", "record struct")), Gen.Int[0, 2])
            .SelectMany(shape =>
            {
                ((string modifiers, string kind), int arity) = shape;
                IReadOnlyList<string> parameters = Names("T", arity);
                return TypeMember(modifiers, kind, parameters).Select(member =>
                    $"public {modifiers}unsafe partial {kind} S@@{TypeParameterList(parameters)}\n{{\n    {member}\n}}\n");
            });

    /// <summary>Constructors woven through the type: a class attribute, the assembly rule, a primary constructor's attribute.</summary>
    private static Gen<string> WovenThroughTheType =>
        Gen.Select(Gen.Int[0, 2], Gen.OneOf("attribute", "rule", "primary"), Gen.Bool).SelectMany(shape =>
        {
            (int arity, string how, bool explicitConstructor) = shape;
            IReadOnlyList<string> parameters = Names("T", arity);
            Gen<TypeShape> types = Type(parameters, 1);
            return Parameters(types, refKinds: false).Select(p => how switch
            {
                "attribute" => $"[ReproducibleBlock]\npublic unsafe class S@@{TypeParameterList(parameters)}\n{{\n    {(explicitConstructor ? $"public S@@({p}) {Body}" : "")}\n}}\n",
                "rule" => $"public unsafe class S@@{TypeParameterList(parameters)} : Shapes.RuleBase\n{{\n    {(explicitConstructor ? $"public S@@({p}) {Body}" : "")}\n}}\n",
                _ => $"[method: ReproducibleBlock]\npublic unsafe class S@@{TypeParameterList(parameters)}({p.Replace("params ", "")})\n{{\n}}\n",
            });
        });

    /// <summary>An explicit implementation of an interface member, and default interface methods (instance and static).</summary>
    private static Gen<string> InterfaceMember =>
        Gen.Select(Return(Type([], 2)), Parameters(Type([], 2)), Gen.OneOf("explicit", "default", "static"), (r, p, kind) => kind switch
        {
            "explicit" => $"public unsafe interface I@@ {{ {r} M({p}); }}\npublic unsafe class S@@ : I@@\n{{\n    [ReproducibleBlock] {r} I@@.M({p}) {Body}\n}}\n",
            "default" => $"public unsafe interface S@@\n{{\n    [ReproducibleBlock] {r} M({p}) {Body}\n}}\n",
            _ => $"public unsafe interface S@@\n{{\n    [ReproducibleBlock] static {r} M({p}) {Body}\n}}\n",
        });

    /// <summary>A C# 14 extension member in an extension block of the static class <c>S@@</c>.</summary>
    private static Gen<string> ExtensionMember =>
        Gen.Bool.SelectMany(generic =>
        {
            IReadOnlyList<string> parameters = generic ? ["E1"] : [];
            Gen<string> receiver = generic
                ? Gen.OneOf("System.Collections.Generic.List<E1> r", "E1[] r", "Shapes.Box<E1> r", "E1 r", "System.Collections.Generic.Dictionary<int, E1> r")
                : Gen.OneOf(Type([], 1).Where(t => t.TypeArgument && t.Text != "dynamic").Select(t => t.Text + " r"), Gen.OneOf("ref int r", "in long r", "ref readonly Shapes.Val r", "Shapes.Plain r"));
            Gen<TypeShape> types = Type(parameters, 2);
            Gen<string> member = Gen.Int[0, 1].SelectMany(arity =>
            {
                Gen<TypeShape> withOwn = Type([.. parameters, .. Names("U", arity)], 2);
                return Gen.Select(Gen.OneOf("", "static "), Return(withOwn), Parameters(withOwn),
                    (m, r, p) => $"[ReproducibleBlock] public {m}{r} M{TypeParameterList(Names("U", arity))}({p}) {Body}");
            });
            Gen<string> property = Gen.Select(Gen.OneOf("", "static "), types, (m, t) => $"public {m}{t.Text} P {{ [ReproducibleBlock] get {Body} }}");
            Gen<string> all = Gen.Frequency((4, member), (2, property));
            return Gen.Select(receiver, all, (r, m) =>
                $"public static unsafe class S@@\n{{\n    extension{TypeParameterList(parameters)}({r})\n    {{\n        {m}\n    }}\n}}\n");
        });

    /// <summary>An extension operator, on a class the extension block extends.</summary>
    private static Gen<string> ExtensionOperator =>
        Type([], 1).Select(t =>
            $"public static unsafe class S@@\n{{\n    extension(Shapes.Plain)\n    {{\n        [ReproducibleBlock] public static Shapes.Plain operator +(Shapes.Plain a, {t.Text} b) {Body}\n    }}\n}}\n");

    /// <summary>A partial method, property, indexer, constructor or event: declared in one part, implemented in the other, the attribute on either.</summary>
    private static Gen<string> PartialMember =>
        Gen.Select(Type([], 2), Parameters(Type([], 2)), Parameters(Type([], 1), refKinds: false).Where(p => p.Length > 0 && !p.Contains("params", System.StringComparison.Ordinal)),
            Gen.OneOf("method", "property", "indexer", "constructor", "event"), Gen.Bool,
            (t, p, indexParameters, kind, onDefinition) =>
            {
                string attribute = "[ReproducibleBlock] ";
                (string definition, string implementation) = kind switch
                {
                    "method" => ($"public partial {t.Text} M({p});", $"public partial {t.Text} M({p}) {Body}"),
                    "property" => ($"public partial {t.Text} P {{ {(onDefinition ? attribute : "")}get; }}", $"public partial {t.Text} P {{ {(onDefinition ? "" : attribute)}get {Body} }}"),
                    "indexer" => ($"public partial {t.Text} this[{indexParameters}] {{ {(onDefinition ? attribute : "")}get; }}", $"public partial {t.Text} this[{indexParameters}] {{ {(onDefinition ? "" : attribute)}get {Body} }}"),
                    "constructor" => ($"public partial S@@({p});", $"public partial S@@({p}) {Body}"),
                    _ => ("public partial event System.Action E;", $"public partial event System.Action E {{ {attribute}add {Body} remove {Body} }}"),
                };
                if (kind is "method" or "constructor")
                {
                    if (onDefinition)
                        definition = attribute + definition;
                    else
                        implementation = attribute + implementation;
                }
                return $"public unsafe partial class S@@\n{{\n    {definition}\n}}\npublic unsafe partial class S@@\n{{\n    {implementation}\n}}\n";
            });

    /// <summary>One shape: a type (or two) named with <c>@@</c>, perhaps nested in a generic or plain wrapper.</summary>
    public static readonly Gen<string> Shape = Gen.Frequency(
        (8, Gen.Select(TypeWithMember, Gen.OneOf("", "public unsafe partial class W@@ {0}", "public unsafe partial struct W@@<V1, V2> {0}"),
            (type, wrapper) => wrapper.Length == 0 ? type : string.Format(wrapper, "{\n" + type + "}\n"))),
        (3, WovenThroughTheType),
        (2, InterfaceMember),
        (4, ExtensionMember),
        (1, ExtensionOperator),
        (3, PartialMember));

    /// <summary>A program: shapes numbered from 0 (<c>S0</c>, <c>S1</c>, ...), each in the global namespace or a namespace of its own.</summary>
    public static Gen<string[]> Programs(int maxShapes) =>
        Gen.Select(Shape, Gen.OneOf("", "Shapes.Generated", "Deep.Name.Space")).Array[1, maxShapes].Select(shapes =>
            shapes.Select((s, i) => s.Item2.Length == 0 ? s.Item1.Replace("@@", i.ToString(System.Globalization.CultureInfo.InvariantCulture))
                : $"namespace {s.Item2}\n{{\n{s.Item1.Replace("@@", i.ToString(System.Globalization.CultureInfo.InvariantCulture))}}}\n").ToArray());

    /// <summary>The generated program's source.</summary>
    public static string Program(string[] shapes) => Prelude + string.Join("\n", shapes);
}
