using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Mono.Cecil;
using Mono.Cecil.Cil;

namespace ReproducibleBlock.Weaving;

/// <summary>Source locations for messages, so errors read <c>File.cs(line,col): error ...</c> at the member's declaration.</summary>
/// <remarks>
/// <para>
/// Sequence points cover statements, not declarations: the first one of a method is its opening brace or expression
/// body, abstract and extern members have none, and async and iterator stubs keep theirs in the state machine's
/// MoveNext. So the declaration is looked up in the source file the symbols name, by the member's name, near the
/// first sequence point when there is one. Where no source can be read, the sequence point (or nothing) is used.
/// </para>
/// <para>
/// Assembly attributes have no sequence points at all, and may sit in a file without a method body (an
/// AssemblyInfo.cs): they are looked for in every compiled file, listed by the package's build file
/// (<see cref="CompileListFileName"/> beside the intermediate assembly), or else in the files the symbols name.
/// Nothing is searched until a message needs a location.
/// </para>
/// </remarks>
internal sealed class SourceLocator(ModuleDefinition module, string? projectDirectory, string? compileListPath)
{
    /// <summary>The file the build writes @(Compile) to, one full path a line, beside the intermediate assembly.</summary>
    public const string CompileListFileName = "ReproducibleBlock.Compile.txt";

    private IReadOnlyList<string>? _compiledFiles;

    public SequencePoint? Of(MethodDefinition method)
    {
        SequencePoint? point = method.FirstVisiblePoint();
        if (point is null && method.StateMachine()?.Methods.FirstOrDefault(m => m.Name == "MoveNext") is { } moveNext)
            point = moveNext.FirstVisiblePoint();
        string name = method.IsConstructor ? method.DeclaringType.Name.Split('`')[0]
            : method.Origin() == MethodOrigin.LocalFunction ? method.SourceName()
            : method.Name == "Finalize" && method.IsVirtual && method.Parameters.Count == 0 ? "~" + method.DeclaringType.Name.Split('`')[0]
            : method.Name;
        var declaration = new Regex((char.IsLetter(name[0]) || name[0] == '_' ? @"\b" : "") + Regex.Escape(name) + @"\s*(<[^>]*>)?\s*\(");
        if (point is not null)
            return Search(point.Document.Url, declaration, point.StartLine, lookBack: 12) ?? point;
        IEnumerable<string> documents = DocumentsOf(method.DeclaringType);
        if (!documents.Any())
            documents = AllDocuments();
        foreach (string document in documents)
        {
            if (Search(document, declaration, startLine: int.MaxValue, lookBack: int.MaxValue) is { } found)
                return found;
        }
        return null;
    }

    /// <summary>Where a type is declared (<c>class Name</c>, <c>struct Name</c>, <c>record Name</c>), searched in its own files first.</summary>
    public SequencePoint? OfType(TypeDefinition type)
    {
        var declaration = new Regex(@"\b(class|struct|record|interface)\s+" + Regex.Escape(type.Name.Split('`')[0]) + @"\b");
        foreach (string document in DocumentsOf(type).Concat(CompiledFiles()).Concat(AllDocuments()).Distinct())
        {
            if (Search(document, declaration, startLine: int.MaxValue, lookBack: int.MaxValue) is { } found)
                return found;
        }
        return null;
    }

    /// <summary>Where an assembly attribute is written, found by <paramref name="pattern"/> in the compiled source files.</summary>
    public SequencePoint? OfAssemblyAttribute(Regex pattern)
    {
        foreach (string document in CompiledFiles().Concat(AllDocuments()).Distinct())
        {
            if (Search(document, pattern, startLine: int.MaxValue, lookBack: int.MaxValue) is { } found)
                return found;
        }
        return null;
    }

    /// <summary>The files of @(Compile), as the build listed them, or none when it did not.</summary>
    private IReadOnlyList<string> CompiledFiles()
    {
        if (_compiledFiles is not null)
            return _compiledFiles;
        string[] files = [];
        if (compileListPath is not null && File.Exists(compileListPath))
        {
            try
            {
                files = File.ReadAllLines(compileListPath).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
            }
        }
        return _compiledFiles = files;
    }

    private IEnumerable<string> AllDocuments() =>
        module.GetTypes().SelectMany(DocumentsOf).Distinct();

    private static IEnumerable<string> DocumentsOf(TypeDefinition type) =>
        type.Methods.Where(m => m.DebugInformation?.HasSequencePoints == true)
            .SelectMany(m => m.DebugInformation.SequencePoints.Select(p => p.Document.Url))
            .Distinct();

    /// <summary>
    /// The file a document names, on this machine: as written, or a path mapped by deterministic builds
    /// (ContinuousIntegrationBuild maps the repository root to "/_/") resolved under an ancestor of the project folder.
    /// </summary>
    private string? LocalPath(string url)
    {
        if (File.Exists(url))
            return url;
        string relative = url.TrimStart('/', '\\');
        if (relative.StartsWith("_/", StringComparison.Ordinal) || relative.StartsWith("_\\", StringComparison.Ordinal))
            relative = relative.Substring(2);
        for (DirectoryInfo? folder = projectDirectory is null ? null : new DirectoryInfo(projectDirectory); folder is not null; folder = folder.Parent)
        {
            string candidate = Path.Combine(folder.FullName, relative);
            if (File.Exists(candidate))
                return candidate;
        }
        return null;
    }

    /// <summary>The last line matching <paramref name="pattern"/> at or above <paramref name="startLine"/>, within <paramref name="lookBack"/> lines.</summary>
    private SequencePoint? Search(string url, Regex pattern, int startLine, int lookBack)
    {
        string? path = LocalPath(url);
        if (path is null)
            return null;
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is ArgumentException || e is NotSupportedException)
        {
            return null;
        }
        int last = Math.Min(startLine, lines.Length);
        int first = lookBack == int.MaxValue ? 1 : Math.Max(1, last - lookBack);
        for (int line = last; line >= first; line--)
        {
            Match match = pattern.Match(lines[line - 1]);
            if (match.Success && !lines[line - 1].TrimStart().StartsWith("//", StringComparison.Ordinal))
            {
                return new SequencePoint(Instruction.Create(OpCodes.Nop), new Document(path))
                {
                    StartLine = line,
                    StartColumn = match.Index + 1,
                    EndLine = line,
                    EndColumn = match.Index + match.Length + 1,
                };
            }
        }
        return null;
    }
}
