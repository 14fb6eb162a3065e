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

    public override void Execute()
    {
        Locations.ProjectDirectory = ProjectDirectoryPath;
        FindReferences();
        List<WeaveTarget> targets = FindTargets();
        targets = RejectBadTargets(targets);
        AssignSeeds(targets);
        if (_reportedErrors)
            return;
        var wovenConstructors = new HashSet<Mono.Cecil.MethodDefinition>(targets.Where(t => t.IsConstructor).Select(t => t.Method));
        foreach (WeaveTarget target in targets)
            new BlockWeaver(this, target, wovenConstructors).Weave();
        WriteInfo($"ReproducibleBlock: wove {targets.Count} block(s).");
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

    private void Error(string message, Mono.Cecil.Cil.SequencePoint? location)
    {
        _reportedErrors = true;
        if (location is null)
            WriteError(message);
        else
            WriteError(message, location);
    }
}
