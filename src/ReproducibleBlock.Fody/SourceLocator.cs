using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Mono.Cecil;
using Mono.Cecil.Cil;

namespace ReproducibleBlock.Weaving;

/// <summary>Source locations for messages, so errors read <c>File.cs(line,col): error ...</c> at the member.</summary>
/// <remarks>
/// <para>
/// A member is located where the compiler recorded it in the symbols, never by searching its name in the source (which
/// found a call, or a member of the same name in another file): its first sequence point, which is its body or
/// expression; for a constructor, the point of its base or <c>this(...)</c> call, which is its declaration (field
/// initialisers, which every constructor runs first, come before it); for an async method or iterator, its state
/// machine's first point. A type is located at its first constructor or method that has one. A member without
/// symbols (abstract, extern, a build without symbols) has no location: the message names it.
/// </para>
/// <para>
/// Assembly attributes have no sequence points at all, and may sit in a file without a method body (an
/// AssemblyInfo.cs): they are looked for in every compiled file, listed by the package's build file
/// (<see cref="CompileListFileName"/> beside the intermediate assembly), or else in the files the symbols name, by the
/// attribute's own text. Nothing is searched until a message needs a location.
/// </para>
/// </remarks>
internal sealed class SourceLocator(ModuleDefinition module, string? projectDirectory, string? compileListPath)
{
    /// <summary>The file the build writes @(Compile) to, one full path a line, beside the intermediate assembly.</summary>
    public const string CompileListFileName = "ReproducibleBlock.Compile.txt";

    private IReadOnlyList<string>? _compiledFiles;

    public SequencePoint? Of(MethodDefinition method)
    {
        SequencePoint? point = (method.IsConstructor ? method.ChainedConstructorPoint() : null) ?? method.FirstVisiblePoint();
        if (point is null && method.StateMachine()?.Methods.FirstOrDefault(m => m.Name == "MoveNext") is { } moveNext)
            point = moveNext.FirstVisiblePoint();
        return point is null ? null : OnThisMachine(point);
    }

    /// <summary>Where a type is: its first instance constructor with a location, or else its first method with one.</summary>
    public SequencePoint? OfType(TypeDefinition type) =>
        type.Methods.Where(m => m.IsConstructor && !m.IsStatic).Concat(type.Methods).Select(Of).FirstOrDefault(p => p is not null);

    /// <summary>
    /// The point as recorded, with its document as a file of this machine when the recorded path is not one: a
    /// deterministic build (ContinuousIntegrationBuild) maps the repository root to "/_/".
    /// </summary>
    private SequencePoint OnThisMachine(SequencePoint point)
    {
        string? path = LocalPath(point.Document.Url);
        if (path is null || path == point.Document.Url)
            return point;
        return new SequencePoint(Instruction.Create(OpCodes.Nop), new Document(path))
        {
            StartLine = point.StartLine,
            StartColumn = point.StartColumn,
            EndLine = point.EndLine,
            EndColumn = point.EndColumn,
        };
    }

    /// <summary>Where an assembly attribute is written, found by <paramref name="pattern"/> in the compiled source files.</summary>
    public SequencePoint? OfAssemblyAttribute(Regex pattern)
    {
        foreach (string document in CompiledFiles().Concat(AllDocuments()).Distinct())
        {
            if (Search(document, pattern) is { } found)
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

    /// <summary>The last line of the file matching <paramref name="pattern"/>, outside a line comment.</summary>
    private SequencePoint? Search(string url, Regex pattern)
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
        for (int line = lines.Length; line >= 1; line--)
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
