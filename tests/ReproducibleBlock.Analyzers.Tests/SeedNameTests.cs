using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Mono.Cecil;

namespace ReproducibleBlock.Analyzers.Tests;

/// <summary>
/// The analyzer's name text (from Roslyn source symbols) equals the weaver's (from Mono.Cecil) for every method of a
/// set of signatures wider than the weaving fixture's: nested and generic types, generic methods, arrays of every
/// rank, by-ref, in, out, pointers, function pointers (by-ref returns, modifiers, calling conventions), nullable, tuples,
/// dynamic, nint, operators, conversion operators, accessors, explicit interface implementations. The source is
/// compiled with Roslyn, read back with Cecil, and each method matched through its documentation ID.
/// </summary>
[TestClass]
public sealed class SeedNameTests
{
    private const string Shapes = """
        using System;
        using System.Collections.Generic;
        namespace Shapes.Inner
        {
            public interface IDraw<T> { long Draw(T value); }
            public unsafe class Outer<TOuter> : IDraw<int>
            {
                public class Nested<TNested>
                {
                    public void M(TOuter a, TNested b, List<TNested> c, Nested<int> d) { }
                    public class Deeper { public void N(Deeper d, Outer<string>.Nested<long>.Deeper e) { } }
                }
                public void Generic<T, U>(T t, U[] u, List<T>.Enumerator e, Func<T, U> f) { }
                public void Arrays(int[] a, int[,] b, int[][] c, int[,,][] d, string[]?[] e) { }
                public void Refs(ref int a, out long b, in double c, ref TOuter d) { b = 0; }
                public virtual void VirtualIn(in int a, ref readonly int b) { }
                public void Pointers(int* a, void** b, delegate*<int, long> c, delegate* unmanaged[Cdecl]<void> d) { }
                public void ByRefFunctionPointer(delegate*<ref int, in long, out string, ref readonly long> a) { }
                public void CallingConventions(delegate* unmanaged[Cdecl, SuppressGCTransition]<int, void> a, delegate* unmanaged[SuppressGCTransition]<int, ref readonly int> b) { }
                public void NestedFunctionPointers(delegate*<delegate*<in int, ref int>, ref readonly int*>[] a, delegate*<ref readonly int, void> b) { }
                public void Special(int? a, (int, string) b, (int A, (long B, char C) D) c, dynamic d, nint e, nuint f, object g, string? h) { }
                public void Params(params int[] values) { }
                public static Outer<TOuter> operator +(Outer<TOuter> a, int b) => a;
                public static explicit operator long(Outer<TOuter> a) => 0;
                public static explicit operator int(Outer<TOuter> a) => 0;
                public static implicit operator Outer<TOuter>(TOuter[] a) => null!;
                public int Property { get => 0; set { } }
                public int this[string key, int index] => 0;
                long IDraw<int>.Draw(int value) => value;
                public Outer() { }
                public Outer(int x) : this() { }
                ~Outer() { }
            }
            public struct Point { public void Move(Point other, ref Point self) { } }
            public record Person(string Name);
        }
        public class Global { public void G(Global g, Shapes.Inner.Point p) { } }
        """;

    /// <summary>
    /// The name the weaver of 0.2 hashed, straight from Cecil's <c>FullName</c>, with the return type of conversion
    /// operators (issue 12). Both components now render names through SeedNameFormat; this keeps the old text as the
    /// oracle, so a change of the format that would move a seed fails here.
    /// </summary>
    private static string CecilName(MethodDefinition method)
    {
        if (method.IsConstructor)
            return "ctor:" + method.DeclaringType.FullName;
        string arity = method.HasGenericParameters ? "`" + method.GenericParameters.Count : "";
        string conversion = method.Name is "op_Implicit" or "op_Explicit" ? ":" + method.ReturnType.FullName : "";
        return $"method:{method.DeclaringType.FullName}::{method.Name}{arity}({string.Join(",", method.Parameters.Select(p => p.ParameterType.FullName))}){conversion}";
    }

    [TestMethod]
    public void EveryMethodOfEveryShape_IsNamedAsCecilNamesIt()
    {
        var options = new CSharpParseOptions(LanguageVersion.Latest);
        CSharpCompilation compilation = CSharpCompilation.Create("Shapes", [CSharpSyntaxTree.ParseText(Shapes, options)], Verify.References,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true, nullableContextOptions: NullableContextOptions.Enable));
        using var image = new MemoryStream();
        Microsoft.CodeAnalysis.Emit.EmitResult emitted = compilation.Emit(image);
        Assert.IsTrue(emitted.Success, string.Join("\n", emitted.Diagnostics));
        image.Position = 0;

        // Source symbols (what the analyzer sees) by documentation ID.
        var analyzer = new Dictionary<string, string>();
        var types = new Stack<INamespaceOrTypeSymbol>([compilation.Assembly.GlobalNamespace]);
        while (types.Count > 0)
        {
            foreach (ISymbol member in types.Pop().GetMembers())
            {
                if (member is INamespaceOrTypeSymbol inner)
                    types.Push(inner);
                else if (member is IMethodSymbol method && DocumentationCommentId.CreateDeclarationId(method) is { } id)
                    analyzer[id] = SeedNames.NameForSeed(method);
            }
        }

        // The same methods read back by Cecil, matched through Roslyn's metadata symbols of the emitted image.
        MetadataReference reference = MetadataReference.CreateFromImage(image.ToArray());
        var reader = CSharpCompilation.Create("Reader", references: [.. Verify.References, reference]);
        var assembly = (IAssemblySymbol)reader.GetAssemblyOrModuleSymbol(reference)!;
        var byToken = new Dictionary<int, string>();
        types.Push(assembly.GlobalNamespace);
        while (types.Count > 0)
        {
            foreach (ISymbol member in types.Pop().GetMembers())
            {
                if (member is INamespaceOrTypeSymbol inner)
                    types.Push(inner);
                else if (member is IMethodSymbol method && DocumentationCommentId.CreateDeclarationId(method) is { } id)
                    byToken[method.MetadataToken] = id;
            }
        }
        using var module = ModuleDefinition.ReadModule(image);
        var compared = new List<string>();
        var wrong = new List<string>();
        foreach (MethodDefinition method in module.GetTypes().SelectMany(t => t.Methods))
        {
            if (!byToken.TryGetValue(method.MetadataToken.ToInt32(), out string? id) || !analyzer.TryGetValue(id, out string? ours))
                continue;
            string cecil = CecilName(method);
            compared.Add(cecil);
            if (ours != cecil)
                wrong.Add($"{id}\n  Cecil:    {cecil}\n  analyzer: {ours}");
        }
        Assert.IsEmpty(wrong, string.Join("\n", wrong));
        Assert.IsGreaterThanOrEqualTo(30, compared.Count, string.Join("\n", compared));
        CollectionAssert.Contains(compared, "method:Shapes.Inner.Outer`1::Generic`2(T,U[],System.Collections.Generic.List`1/Enumerator<T>,System.Func`2<T,U>)");
        CollectionAssert.Contains(compared, "method:Shapes.Inner.Outer`1::op_Explicit(Shapes.Inner.Outer`1<TOuter>):System.Int64");
    }

    [TestMethod]
    public void DerivedSeed_IsTheWeaversHash()
    {
        // SeedHash.Derive of the README's Classifier (the fixture's): ctor:WeavingFixture.Classifier gives the seed shown in "What gets compiled".
        Assert.AreEqual(7501819041119393691L, SeedHash.Derive("ctor:WeavingFixture.Classifier"));
    }
}
