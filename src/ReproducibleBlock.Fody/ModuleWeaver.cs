using System.Collections.Generic;
using System.IO;
using System.Linq;
using Fody;

namespace ReproducibleBlock.Weaving;

/// <summary>
/// Weaves <c>[ReproducibleBlock]</c> methods and constructors and <c>[assembly: ReproducibleConstructors(...)]</c> rules:
/// each target's whole body runs inside a block of ReproducibleBlock.Core.
/// </summary>
public sealed partial class ModuleWeaver : BaseModuleWeaver
{
    private bool _reportedErrors;
    private SourceLocator _locator = null!;

    public override void Execute()
    {
        _locator = new SourceLocator(ModuleDefinition, ProjectDirectoryPath, CompileListPath());
        FindReferences();
        List<WeaveTarget> targets = FindTargets();
        targets = RejectBadTargets(targets);
        WarnAboutDeferredWork(targets);
        AssignSeeds(targets);
        if (_reportedErrors)
            return;
        var wovenConstructors = new HashSet<Mono.Cecil.MethodDefinition>(targets.Where(t => t.IsConstructor).Select(t => t.Method));
        int sites = 0, moduleCalls = 0;
        foreach (WeaveTarget target in targets)
        {
            var weaver = new BlockWeaver(this, target, wovenConstructors);
            weaver.Weave();
            sites += weaver.Sites;
            moduleCalls += weaver.ModuleCalls;
        }
        MarkAssemblyWoven();
        WriteInfo($"ReproducibleBlock: wove {targets.Count} block(s). Constructor sites: {sites}; module calls in continuing blocks: {moduleCalls}.");
    }

    public override IEnumerable<string> GetAssembliesForScanning()
    {
        yield return "netstandard";
        yield return "mscorlib";
        yield return "System.Runtime";
        yield return CoreAssemblyName;
    }

    /// <summary>The attributes assembly stays referenced: it is an ordinary dependency, not a weaver-only one.</summary>
    public override bool ShouldCleanReference => false;

    /// <summary>
    /// Fody writes the assembly even after errors, and an unchanged rebuild would then succeed with that unwoven
    /// output. Deleting it makes the next build compile and weave again, and fail again.
    /// </summary>
    public override void AfterWeaving()
    {
        if (_reportedErrors && File.Exists(AssemblyFilePath))
            File.Delete(AssemblyFilePath);
    }

    /// <summary>
    /// The list of compiled files the build wrote beside the intermediate assembly (the package's props and this
    /// repository's Directory.Build.targets write it), read only when an assembly attribute must be located.
    /// </summary>
    private string? CompileListPath()
    {
        if (string.IsNullOrEmpty(AssemblyFilePath))
            return null;
        string assembly = string.IsNullOrEmpty(ProjectDirectoryPath) ? AssemblyFilePath : Path.Combine(ProjectDirectoryPath, AssemblyFilePath);
        return Path.Combine(Path.GetDirectoryName(assembly) ?? "", SourceLocator.CompileListFileName);
    }

    /// <summary>Where a message about <paramref name="method"/> points: its declaration in source, when it can be found.</summary>
    internal Mono.Cecil.Cil.SequencePoint? LocationOf(Mono.Cecil.MethodDefinition method) => _locator.Of(method);

    private void Warning(string message, Mono.Cecil.Cil.SequencePoint? location)
    {
        if (location is null)
            WriteWarning(message);
        else
            WriteWarning(message, location);
    }

    private void Error(string message, Mono.Cecil.Cil.SequencePoint? location)
    {
        _reportedErrors = true;
        if (location is null)
            WriteError(message);
        else
            WriteError(message, location);
    }
}
