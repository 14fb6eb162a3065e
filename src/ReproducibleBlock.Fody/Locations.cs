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
/// Sequence points cover statements, not declarations: the first one of a method is its opening brace or expression
/// body, abstract and extern members have none, and async and iterator stubs keep theirs in the state machine's
/// MoveNext. So the declaration is looked up in the source file the symbols name, by the member's name, near the
/// first sequence point when there is one. Where no source can be read, the sequence point (or nothing) is used.
/// </remarks>
internal static class Locations
{
    public static SequencePoint? Of(MethodDefinition method)
    {
        SequencePoint? point = FirstVisible(method);
        if (point is null && StateMachineOf(method)?.Methods.FirstOrDefault(m => m.Name == "MoveNext") is { } moveNext)
            point = FirstVisible(moveNext);
        string name = method.IsConstructor ? method.DeclaringType.Name.Split('`')[0] : method.Name;
        var declaration = new Regex(@"\b" + Regex.Escape(name) + @"\s*(<[^>]*>)?\s*\(");
        if (point is not null)
            return Search(point.Document, declaration, point.StartLine, lookBack: 12) ?? point;
        IEnumerable<Document> documents = DocumentsOf(method.DeclaringType);
        if (!documents.Any())
            documents = method.Module.GetTypes().SelectMany(DocumentsOf).GroupBy(d => d.Url).Select(g => g.First());
        foreach (Document document in documents)
        {
            if (Search(document, declaration, startLine: int.MaxValue, lookBack: int.MaxValue) is { } found)
                return found;
        }
        return null;
    }

    /// <summary>Where an assembly attribute is written, found by <paramref name="pattern"/> in the module's source files.</summary>
    public static SequencePoint? OfAssemblyAttribute(ModuleDefinition module, Regex pattern)
    {
        foreach (Document document in module.GetTypes().SelectMany(DocumentsOf).Distinct())
        {
            if (Search(document, pattern, startLine: int.MaxValue, lookBack: int.MaxValue) is { } found)
                return found;
        }
        return null;
    }

    private static IEnumerable<Document> DocumentsOf(TypeDefinition type) =>
        type.Methods.Where(m => m.DebugInformation?.HasSequencePoints == true)
            .SelectMany(m => m.DebugInformation.SequencePoints.Select(p => p.Document))
            .GroupBy(d => d.Url).Select(g => g.First());

    /// <summary>
    /// Where source files are, for symbols written with deterministic paths (ContinuousIntegrationBuild maps the
    /// repository root to "/_/"): set by the weaver to the project folder.
    /// </summary>
    public static string? ProjectDirectory { get; set; }

    /// <summary>The file a document names, on this machine: as written, or a mapped path resolved under an ancestor of the project folder.</summary>
    private static string? LocalPath(Document document)
    {
        if (File.Exists(document.Url))
            return document.Url;
        string relative = document.Url.TrimStart('/', '\\');
        if (relative.StartsWith("_/", StringComparison.Ordinal) || relative.StartsWith("_\\", StringComparison.Ordinal))
            relative = relative.Substring(2);
        for (DirectoryInfo? folder = ProjectDirectory is null ? null : new DirectoryInfo(ProjectDirectory); folder is not null; folder = folder.Parent)
        {
            string candidate = Path.Combine(folder.FullName, relative);
            if (File.Exists(candidate))
                return candidate;
        }
        return null;
    }

    /// <summary>The last line matching <paramref name="pattern"/> at or above <paramref name="startLine"/>, within <paramref name="lookBack"/> lines.</summary>
    private static SequencePoint? Search(Document document, Regex pattern, int startLine, int lookBack)
    {
        string? path = LocalPath(document);
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

    /// <summary>The first sequence point of a method that is not hidden, or null without symbols.</summary>
    internal static SequencePoint? FirstVisible(MethodDefinition method) =>
        method.DebugInformation?.HasSequencePoints == true ? method.DebugInformation.SequencePoints.FirstOrDefault(p => !p.IsHidden) : null;

    /// <summary>The compiler-generated state machine of an async method or iterator, or null.</summary>
    public static TypeDefinition? StateMachineOf(MethodDefinition method) =>
        (StateMachineAttribute(method)?.ConstructorArguments[0].Value as TypeReference)?.Resolve();

    /// <summary>"async", "an iterator", "an async iterator", or null for an ordinary method.</summary>
    public static string? StateMachineKind(MethodDefinition method) =>
        StateMachineAttribute(method)?.AttributeType.Name switch
        {
            "AsyncStateMachineAttribute" => "async",
            "IteratorStateMachineAttribute" => "an iterator",
            "AsyncIteratorStateMachineAttribute" => "an async iterator",
            _ => null,
        };

    private static CustomAttribute? StateMachineAttribute(MethodDefinition method) =>
        method.CustomAttributes.FirstOrDefault(a => a.AttributeType.Namespace == "System.Runtime.CompilerServices"
            && a.AttributeType.Name is "AsyncStateMachineAttribute" or "IteratorStateMachineAttribute" or "AsyncIteratorStateMachineAttribute");

    public static string Parameters(MethodDefinition method) =>
        "(" + string.Join(", ", method.Parameters.Select(p => p.ParameterType.Name)) + ")";
}
