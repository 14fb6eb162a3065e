using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.Tests.Shared;

namespace ReproducibleBlock.Packaging.Tests;

public sealed partial class ConsumerTests
{
    /// <summary>
    /// The template package, installed from the fresh feed into a template hive of the workspace (DOTNET_CLI_HOME), creates
    /// a project that references the packages of its own pack, builds as it is, prints the same weights on two runs, and a
    /// run stopped with --stop-after and finished with --resume prints them too.
    /// </summary>
    [TestMethod]
    public void Template_CreatesATrainingProject_ThatRepeatsItsWeightsAndResumesToThem()
    {
        string cliHome = Path.Combine(s_workspace, "cli-home");
        Directory.CreateDirectory(cliHome);
        var hive = new Dictionary<string, string> { ["DOTNET_CLI_HOME"] = cliHome, ["DOTNET_NOLOGO"] = "1" };
        string template = Path.Combine(s_packages, $"ReproducibleBlock.Templates.{s_version}.nupkg");
        Succeed(Repository.Dotnet(s_workspace, hive, "new", "install", template), "dotnet new install");
        Succeed(Repository.Dotnet(s_workspace, hive, "new", "reproducible-training", "-n", "MyRun"), "dotnet new reproducible-training");

        string project = Path.Combine(s_workspace, "MyRun");
        string csproj = File.ReadAllText(Path.Combine(project, "MyRun.csproj"));
        foreach (string reference in new[] { $"\"ReproducibleBlock.Core\" Version=\"{s_version}\"", $"\"ReproducibleBlock.Fody\" Version=\"{s_version}\"", "\"TorchSharp-cpu\" Version=\"0.107.0\"" })
            StringAssert.Contains(csproj, "<PackageReference Include=" + reference, "the packages of the template's own pack");
        StringAssert.Contains(File.ReadAllText(Path.Combine(project, "FodyWeavers.xml")), "<ReproducibleBlock />");
        StringAssert.Contains(File.ReadAllText(Path.Combine(project, "Model.cs")), "[assembly: ReproducibleConstructors(typeof(torch.nn.Module))]");
        StringAssert.Contains(File.ReadAllText(Path.Combine(project, "SyntheticData.cs")), "_sampler.Resolve(index)");
        StringAssert.Contains(File.ReadAllText(Path.Combine(project, "README.md")), "REPRODUCIBLEBLOCK_TRACE=", "tracing, documented");
        Assert.IsFalse(Directory.EnumerateFiles(project, "*", SearchOption.AllDirectories).Any(f => File.ReadAllText(f).Contains("ReproducibleTrainingApp", StringComparison.Ordinal)),
            "the template's source name is replaced everywhere");

        Stopwatch build = Stopwatch.StartNew();
        (int buildExit, string buildOutput) = Repository.Dotnet(project, hive, "build", "-c", "Release", "-v:n");
        Assert.AreEqual(0, buildExit, buildOutput);
        StringAssert.Contains(buildOutput, "Fody/ReproducibleBlock: ReproducibleBlock: wove");
        Console.WriteLine($"template project: restore and build {build.Elapsed.TotalSeconds:0.0} s");

        string dll = Path.Combine(project, "bin", "Release", "net10.0", "MyRun.dll");
        Stopwatch first = Stopwatch.StartNew();
        string weights = Weights(dll);
        Console.WriteLine($"template project: one run {first.Elapsed.TotalSeconds:0.0} s, {weights}");
        Assert.AreEqual(weights, Weights(dll), "two runs, the same weights");

        string checkpoints = Path.Combine(project, "checkpoints");
        AppRun stopped = Repository.RunApp(dll, ["--stop-after", "2:3", "--checkpoint", checkpoints]);
        Assert.AreEqual(0, stopped.ExitCode, stopped.Output + stopped.Error);
        Assert.IsFalse(stopped.Output.Contains("weights:", StringComparison.Ordinal), "a stopped run prints no result");
        Assert.AreEqual(1, Directory.GetFiles(checkpoints).Length, "one checkpoint");
        Assert.AreEqual(weights, Weights(dll, "--resume", checkpoints), "the resumed run ends with the uninterrupted run's weights");
    }

    // Runs the created program and returns its last line, "weights: <16 hex digits>".
    private static string Weights(string dll, params string[] arguments)
    {
        AppRun run = Repository.RunApp(dll, arguments, timeout: TimeSpan.FromMinutes(1));
        Assert.AreEqual(0, run.ExitCode, run.Output + run.Error);
        string last = run.Output.TrimEnd().Split('\n')[^1].TrimEnd('\r');
        Assert.IsTrue(Regex.IsMatch(last, "^weights: [0-9a-f]{16}$"), $"the last line is the weights:\n{run.Output}");
        return last;
    }
}
