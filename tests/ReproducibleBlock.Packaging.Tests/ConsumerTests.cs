using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.Tests.Shared;

namespace ReproducibleBlock.Packaging.Tests;

/// <summary>
/// The path a user takes: pack the solution, then, in a brand-new console project outside the repository, add
/// ReproducibleBlock.Fody and TorchSharp-cpu, build, run, and check what the program prints; install the tool as a local
/// tool from the same feed and compare two traced runs.
/// </summary>
/// <remarks>
/// Our packages get a version no earlier run has used, and the consumer restores into its own packages folder
/// (falling back to the user's for TorchSharp's 200 MB), so a stale cached copy of our packages can never be tested
/// instead of the fresh ones.
/// </remarks>
[TestClass]
public sealed partial class ConsumerTests
{
    private static string s_workspace = null!;
    private static string s_version = null!;
    private static string s_packages = null!;
    private static string s_userPackages = null!;

    [ClassInitialize]
    public static void PackTheSolution(TestContext _)
    {
        s_workspace = Path.Combine(Path.GetTempPath(), "reproducibleblock-consumer-" + Guid.NewGuid().ToString("N")[..12]);
        s_packages = Path.Combine(s_workspace, "feed");
        s_version = "0.1.0-consumer." + DateTime.UtcNow.ToString("yyyyMMddHHmmss");
        Directory.CreateDirectory(s_workspace);
        (int exitCode, string output) = Repository.Dotnet(Repository.Root,
            "pack", "ReproducibleBlock.sln", "-c", Repository.Configuration, "--no-build", "-o", s_packages, $"-p:PackageVersion={s_version}");
        Assert.AreEqual(0, exitCode, output);

        // Every project made here restores through this nuget.config: our packages from the fresh feed into a packages
        // folder of the workspace (shared by the tests, so each package is extracted once), everything else (TorchSharp's
        // 200 MB) from the user's packages folder as a fallback, without copying it.
        s_userPackages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        File.WriteAllText(Path.Combine(s_workspace, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config><add key="globalPackagesFolder" value="{Path.Combine(s_workspace, "packages")}" /></config>
              <packageSources>
                <clear />
                <add key="local" value="{s_packages}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
              <packageSourceMapping>
                <packageSource key="local"><package pattern="ReproducibleBlock.*" /></packageSource>
                <packageSource key="nuget.org"><package pattern="*" /></packageSource>
              </packageSourceMapping>
              <fallbackPackageFolders><add key="user" value="{s_userPackages}" /></fallbackPackageFolders>
            </configuration>
            """);
    }

    [ClassCleanup]
    public static void RemoveTheWorkspace()
    {
        foreach (string folder in new[] { s_workspace, s_workspace + "-recipe" })
        {
            if (Directory.Exists(folder))
                Directory.Delete(folder, recursive: true);
        }
    }

    private static void Succeed((int ExitCode, string Output) result, string step) =>
        Assert.AreEqual(0, result.ExitCode, $"{step} failed:\n{result.Output}");

    [TestMethod]
    public void Packages_HaveTheExpectedLayoutAndMetadata()
    {
        string[] packages = Directory.GetFiles(s_packages, "*.nupkg").Select(Path.GetFileName).Order().ToArray()!;
        CollectionAssert.AreEqual(new[] { $"ReproducibleBlock.Core.{s_version}.nupkg", $"ReproducibleBlock.Fody.{s_version}.nupkg",
            $"ReproducibleBlock.Templates.{s_version}.nupkg", $"ReproducibleBlock.Tool.{s_version}.nupkg" }, packages, "no test or example project is packed");

        // The .NET tool: reproducible-block, framework-dependent, its readme packed.
        using var tool = System.IO.Compression.ZipFile.OpenRead(Path.Combine(s_packages, packages[3]));
        string[] toolEntries = tool.Entries.Select(e => e.FullName).ToArray();
        CollectionAssert.IsSubsetOf(new[] { "tools/net10.0/any/ReproducibleBlock.Tool.dll", "tools/net10.0/any/DotnetToolSettings.xml", "README.md" }, toolEntries);
        string settings = new StreamReader(tool.GetEntry("tools/net10.0/any/DotnetToolSettings.xml")!.Open()).ReadToEnd();
        StringAssert.Contains(settings, "Name=\"reproducible-block\"");
        string toolNuspec = new StreamReader(tool.GetEntry("ReproducibleBlock.Tool.nuspec")!.Open()).ReadToEnd();
        StringAssert.Contains(toolNuspec, "<packageType name=\"DotnetTool\"");

        using var fody = System.IO.Compression.ZipFile.OpenRead(Path.Combine(s_packages, packages[1]));
        string[] entries = fody.Entries.Select(e => e.FullName).ToArray();
        CollectionAssert.IsSubsetOf(new[] { "build/ReproducibleBlock.Fody.props", "build/ReproducibleBlock.Fody.targets", "build/ReproducibleBlockWeavingCheck.cs",
            "weaver/ReproducibleBlock.Fody.dll", "lib/net8.0/ReproducibleBlock.Aspects.dll", "README.md",
            "analyzers/dotnet/cs/ReproducibleBlock.Analyzers.dll", "analyzers/dotnet/cs/ReproducibleBlock.Analyzers.CodeFixes.dll" }, entries);
        string nuspec = new StreamReader(fody.GetEntry("ReproducibleBlock.Fody.nuspec")!.Open()).ReadToEnd();
        StringAssert.Contains(nuspec, "<dependency id=\"Fody\"");
        StringAssert.Contains(nuspec, $"<dependency id=\"ReproducibleBlock.Core\" version=\"[{s_version}]\"");
        StringAssert.Contains(nuspec, "<license type=\"expression\">MIT</license>");

        using var core = System.IO.Compression.ZipFile.OpenRead(Path.Combine(s_packages, packages[0]));
        string[] coreEntries = core.Entries.Select(e => e.FullName).ToArray();
        CollectionAssert.IsSubsetOf(new[] { "lib/net8.0/ReproducibleBlock.Core.dll", "buildTransitive/ReproducibleBlock.Core.targets", "buildTransitive/ReproducibleBlockGlibcxxTask.cs", "README.md" }, coreEntries);
        string coreNuspec = new StreamReader(core.GetEntry("ReproducibleBlock.Core.nuspec")!.Open()).ReadToEnd();
        StringAssert.Contains(coreNuspec, "<dependency id=\"TorchSharp\" version=\"0.107.0\"");
        Assert.IsFalse(coreNuspec.Contains("TorchSharp-cpu", StringComparison.Ordinal), "the application chooses its libtorch backend");
    }

    [TestMethod]
    public void NewConsoleProject_WithThePackages_WeavesAndIsolates()
    {
        string app = Path.Combine(s_workspace, "App");
        Succeed(Repository.Dotnet(s_workspace, "new", "console", "-o", app), "dotnet new console");
        Succeed(Repository.Dotnet(app, "add", "package", "ReproducibleBlock.Fody", "--version", s_version), "dotnet add package ReproducibleBlock.Fody");
        Succeed(Repository.Dotnet(app, "add", "package", "TorchSharp-cpu", "--version", "0.107.0"), "dotnet add package TorchSharp-cpu");
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Consumer", "Program.cs.txt"), Path.Combine(app, "Program.cs"), overwrite: true);
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Consumer", "SharedSeeds.cs.txt"), Path.Combine(app, "SharedSeeds.cs"), overwrite: true);

        (int buildExit, string build) = Repository.Dotnet(app, "build", "-v:n");
        Assert.AreEqual(0, buildExit, build);
        string weavers = Path.Combine(app, "FodyWeavers.xml");
        Assert.IsTrue(File.Exists(weavers), "Fody creates FodyWeavers.xml on the first build");
        StringAssert.Contains(File.ReadAllText(weavers), "<ReproducibleBlock />");
        StringAssert.Contains(build, "Fody/ReproducibleBlock: ReproducibleBlock: wove");
        // The package's analyzer runs in the consumer's compiler (built against Roslyn 4.8, loaded by the SDK's newer one).
        StringAssert.Contains(build, "SharedSeeds.cs(7,41): warning RB0009: Block seed 4242 of the hand-written Reproducible.Block(4242) at SharedSeeds.cs:7");
        Assert.IsFalse(build.Contains("CS8032", StringComparison.Ordinal), "the analyzer loads: " + build);
        string[] extracted = Directory.GetDirectories(Path.Combine(s_workspace, "packages")).Select(Path.GetFileName).ToArray()!;
        CollectionAssert.IsSubsetOf(new[] { "reproducibleblock.core", "reproducibleblock.fody" }, extracted);
        Assert.IsTrue(extracted.All(name => name.StartsWith("reproducibleblock.", StringComparison.Ordinal)),
            "only our packages come from the fresh feed: " + string.Join(", ", extracted));

        // On Debian 12 or Ubuntu 22.04 this run also proves that the libstdc++ build step reached the consumer through
        // ReproducibleBlock.Core's buildTransitive folder: without it TorchSharp does not load there.
        (int runExit, string run) = Repository.Dotnet(app, "run", "--no-build");
        Assert.AreEqual(0, runExit, run);
        foreach (string line in new[] { "classifier-same-with-extra-feature-layer: True", "train-same-on-every-call: True", "instances-differ: True", "woven: True" })
            StringAssert.Contains(run, line);

        // Without <ReproducibleBlock /> in FodyWeavers.xml the app would build unwoven: the package's targets fail that
        // build (RB1001), unless ReproducibleBlockRequireWeaving is false.
        string woven = File.ReadAllText(weavers);
        File.WriteAllText(weavers, "<Weavers />");
        (int unwovenExit, string unwoven) = Repository.Dotnet(app, "build", "-v:n");
        Assert.AreNotEqual(0, unwovenExit, unwoven);
        StringAssert.Contains(unwoven, "FodyWeavers.xml : error RB1001: The assembly App uses ReproducibleBlock's attributes");
        Succeed(Repository.Dotnet(app, "build", "-p:ReproducibleBlockRequireWeaving=false"), "dotnet build of the unwoven app, allowed");
        File.WriteAllText(weavers, woven);
        Succeed(Repository.Dotnet(app, "build"), "dotnet build of the woven app again");

        // The tool, installed as a local tool from the same feed, compares two traced runs of the app: they agree.
        Succeed(Repository.Dotnet(app, "new", "tool-manifest"), "dotnet new tool-manifest");
        Succeed(Repository.Dotnet(app, "tool", "install", "ReproducibleBlock.Tool", "--version", s_version), "dotnet tool install ReproducibleBlock.Tool");
        foreach (string name in new[] { "a", "b" })
        {
            var traced = new Dictionary<string, string> { ["REPRODUCIBLEBLOCK_TRACE"] = Path.Combine(app, name + ".jsonl") };
            Succeed(Repository.Dotnet(app, traced, "run", "--no-build"), $"traced run {name}");
        }
        (int diffExit, string diff) = Repository.Dotnet(app, "tool", "run", "reproducible-block", "diff", "a.jsonl", "b.jsonl");
        Assert.AreEqual(0, diffExit, diff);
        StringAssert.Contains(File.ReadAllText(Path.Combine(app, "a.jsonl")), "\"ev\":\"end\"", "a complete trace of the app");
    }
}
