using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Emit;
using Mono.Cecil;
using Mono.Cecil.Cil;
using ReproducibleBlock.Weaving;

namespace ReproducibleBlock.Analyzers.Tests;

/// <summary>A seeded block a woven method enters: which entry point, with which seed and RestoreOnExit.</summary>
internal sealed record WovenEntry(string EntryPoint, long Seed, bool RestoreOnExit);

/// <summary>
/// C# compiled with Roslyn and woven by the real weaver (ReproducibleBlock.Fody's <see cref="ModuleWeaver"/>), in memory:
/// the assembly a user's build would produce, without MSBuild, in milliseconds. The sources are compiled against the
/// real ReproducibleBlock.Core (which the weaver looks its entry points up in), with symbols, as a build compiles them.
/// </summary>
internal sealed class WovenInMemory : IDisposable
{
    private static readonly Lazy<Dictionary<string, TypeDefinition>> ScannedTypes = new(ScanTypes);

    private readonly DefaultAssemblyResolver _resolver;

    private WovenInMemory(ModuleDefinition module, DefaultAssemblyResolver resolver, List<string> errors, List<string> warnings)
    {
        Module = module;
        _resolver = resolver;
        Errors = errors;
        Warnings = warnings;
    }

    /// <summary>The woven module (unwoven when the weaver reported errors).</summary>
    public ModuleDefinition Module { get; }

    /// <summary>The weaver's errors, each as <c>message</c> or <c>file(line,column): message</c>.</summary>
    public IReadOnlyList<string> Errors { get; }

    public IReadOnlyList<string> Warnings { get; }

    /// <summary>The framework, ReproducibleBlock.Aspects, ReproducibleBlock.Core and TorchSharp (beside the tests, through the fixture).</summary>
    public static readonly MetadataReference[] References =
    [
        .. Verify.References,
        .. new[] { "TorchSharp.dll", "ReproducibleBlock.Core.dll" }.Select(f => MetadataReference.CreateFromFile(Path.Combine(AppContext.BaseDirectory, f))),
    ];

    /// <summary>Sources compiled as a project of this repository compiles them: latest C#, nullable on, unsafe allowed.</summary>
    public static CSharpCompilation Compile(params string[] sources)
    {
        var options = new CSharpParseOptions(LanguageVersion.Latest);
        return CSharpCompilation.Create("Woven" + Guid.NewGuid().ToString("N")[..8],
            sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, options, path: $"/src/Source{i}.cs", encoding: System.Text.Encoding.UTF8)),
            References,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true, nullableContextOptions: NullableContextOptions.Enable));
    }

    /// <summary>Emits <paramref name="compilation"/> (which must compile) with portable symbols and weaves it.</summary>
    public static WovenInMemory Weave(Compilation compilation)
    {
        var image = new MemoryStream();
        var symbols = new MemoryStream();
        EmitResult emitted = compilation.Emit(image, symbols, options: new EmitOptions(debugInformationFormat: DebugInformationFormat.PortablePdb));
        if (!emitted.Success)
            throw new InvalidOperationException("The source does not compile:\n" + string.Join("\n", emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        image.Position = 0;
        symbols.Position = 0;
        var resolver = new DefaultAssemblyResolver();
        resolver.AddSearchDirectory(AppContext.BaseDirectory);
        resolver.AddSearchDirectory(Path.GetDirectoryName(typeof(object).Assembly.Location)!);
        ModuleDefinition module = ModuleDefinition.ReadModule(image, new ReaderParameters
        {
            ReadSymbols = true,
            SymbolStream = symbols,
            SymbolReaderProvider = new PortablePdbReaderProvider(),
            AssemblyResolver = resolver,
        });
        var errors = new List<string>();
        var warnings = new List<string>();
        // Fody sets these members when it hosts a weaver, as FodyHelpers' own test runner does; they are marked obsolete
        // for weavers, which should call WriteError and FindTypeDefinition instead.
#pragma warning disable CS0618
        var weaver = new ModuleWeaver
        {
            ModuleDefinition = module,
            AssemblyResolver = resolver,
            FindType = name => Find(name) ?? throw new InvalidOperationException("No type " + name),
            TryFindType = (string name, out TypeDefinition? type) => (type = Find(name)) is not null,
            LogError = errors.Add,
            LogErrorPoint = (message, point) => errors.Add(point is null ? message : $"{Path.GetFileName(point.Document.Url)}({point.StartLine},{point.StartColumn}): {message}"),
            LogWarning = warnings.Add,
            LogWarningPoint = (message, point) => warnings.Add(point is null ? message : $"{Path.GetFileName(point.Document.Url)}({point.StartLine},{point.StartColumn}): {message}"),
            LogInfo = _ => { },
            LogDebug = _ => { },
            LogMessage = (_, _) => { },
            AssemblyFilePath = "",
        };
#pragma warning restore CS0618
        weaver.Execute();
        return new WovenInMemory(module, resolver, errors, warnings);
    }

    /// <summary>The seeded block each woven method enters, by the method's Cecil full name.</summary>
    public IReadOnlyDictionary<string, WovenEntry> Entries() =>
        Module.GetTypes().SelectMany(t => t.Methods)
            .Select(m => (m.FullName, Entry: EntryOf(m)))
            .Where(e => e.Entry is not null)
            .ToDictionary(e => e.FullName, e => e.Entry!, StringComparer.Ordinal);

    /// <summary>
    /// The seeded block <paramref name="method"/> enters, from its IL (<c>ldc.i8 seed; ldc.i4 restore; ldstr name;
    /// call WovenCode.EnterBlock</c> or <c>EnterConstructorBlock</c>), or null when it enters none.
    /// </summary>
    public static WovenEntry? EntryOf(MethodDefinition method)
    {
        if (!method.HasBody)
            return null;
        IList<Instruction> code = method.Body.Instructions;
        for (int i = 3; i < code.Count; i++)
        {
            if (code[i].OpCode == OpCodes.Call && code[i].Operand is MethodReference { DeclaringType.FullName: "ReproducibleBlock.WovenCode", Name: "EnterBlock" or "EnterConstructorBlock" } called
                && code[i - 3].OpCode == OpCodes.Ldc_I8)
            {
                return new WovenEntry(called.Name, (long)code[i - 3].Operand, code[i - 2].OpCode == OpCodes.Ldc_I4_1);
            }
        }
        return null;
    }

    public void Dispose()
    {
        Module.Dispose();
        _resolver.Dispose();
    }

    private static TypeDefinition? Find(string name) => ScannedTypes.Value.TryGetValue(name, out TypeDefinition? type) ? type : null;

    /// <summary>The types the weaver may look up (GetAssembliesForScanning): the core library's and ReproducibleBlock.Core's.</summary>
    private static Dictionary<string, TypeDefinition> ScanTypes()
    {
        var types = new Dictionary<string, TypeDefinition>(StringComparer.Ordinal);
        foreach (string path in new[] { typeof(object).Assembly.Location, Path.Combine(AppContext.BaseDirectory, "ReproducibleBlock.Core.dll") })
        {
            foreach (TypeDefinition type in ModuleDefinition.ReadModule(path).GetTypes())
                types.TryAdd(type.FullName, type);
        }
        return types;
    }
}
