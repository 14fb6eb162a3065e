using System;
using System.IO;
using ICSharpCode.Decompiler;
using ICSharpCode.Decompiler.CSharp;
using ICSharpCode.Decompiler.TypeSystem;

namespace ReproducibleBlock.Weaving.Tests;

/// <summary>The woven fixture assembly, decompiled to C# with ILSpy's engine.</summary>
internal static class Decompiled
{
    public static readonly string AssemblyPath = Path.Combine(AppContext.BaseDirectory, "ReproducibleBlock.Weaving.Fixture.dll");

    private static readonly Lazy<CSharpDecompiler> Decompiler = new(() =>
        new CSharpDecompiler(AssemblyPath, new DecompilerSettings { ThrowOnAssemblyResolveErrors = false }));

    public static string Type(string fullName) =>
        Decompiler.Value.DecompileTypeAsString(new FullTypeName(fullName)).Replace("\r\n", "\n");
}
