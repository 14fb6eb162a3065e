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
    /// <summary>The one pack line README.md's install recipe gives, run in the repository's root.</summary>
    private const string RecipePackLine = "dotnet pack ReproducibleBlock.sln -c Release -o ~/reproducibleblock-feed -p:Version=$(bash tools/package-version.sh)";

    /// <summary>
    /// README.md's install recipe, between its install-recipe markers, run as written: every bash block after the pack
    /// line, in order, in one shell, in a brand-new folder, with HOME and DOTNET_CLI_HOME in a temporary folder (so the
    /// recipe's ~/reproducibleblock-feed, user NuGet.Config, tool manifest and template hive are all there). It ends with a
    /// program that uses the packages built and run, and the tool's --help (dotnet tool run reproducible-block -- --help).
    /// </summary>
    /// <remarks>
    /// The pack line itself is not run: run as written it would build the whole solution (tests, benchmarks, examples) in
    /// Release, minutes on two cores. It must be exactly <see cref="RecipePackLine"/>, the command this class runs once for
    /// every test (with --no-build, after the test build, and a fixed prerelease version in place of
    /// tools/package-version.sh's, a prerelease too); that feed is copied to ~/reproducibleblock-feed.
    /// </remarks>
    [TestMethod]
    public void InstallRecipe_InTheReadme_WorksAsWritten()
    {
        string readme = File.ReadAllText(Path.Combine(Repository.Root, "README.md")).Replace("\r\n", "\n", StringComparison.Ordinal);
        int begin = readme.IndexOf("<!-- install-recipe:begin -->", StringComparison.Ordinal), end = readme.IndexOf("<!-- install-recipe:end -->", StringComparison.Ordinal);
        Assert.IsTrue(begin >= 0 && end > begin, "README.md has the install recipe between its markers");
        string[] blocks = Regex.Matches(readme[begin..end], "^```(?:bash|sh|shell)\n(.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline)
            .Select(m => m.Groups[1].Value).ToArray();
        Assert.IsTrue(blocks.Length >= 2, "a pack block and the blocks that use the feed");
        Assert.AreEqual(RecipePackLine, blocks[0].Trim(), "the recipe packs as this test does (see the remarks)");
        string script = string.Join("\n", blocks[1..]);
        Assert.IsFalse(script.Contains("dotnet pack", StringComparison.Ordinal), "one pack line");

        // Outside the workspace, whose nuget.config would otherwise apply to the recipe's folders.
        string root = s_workspace + "-recipe", home = Path.Combine(root, "home"), folder = Path.Combine(root, "work");
        string feed = Path.Combine(home, "reproducibleblock-feed");
        Directory.CreateDirectory(feed);
        Directory.CreateDirectory(folder);
        foreach (string package in Directory.GetFiles(s_packages, "*.nupkg"))
            File.Copy(package, Path.Combine(feed, Path.GetFileName(package)));
        // The user's NuGet.Config in the temporary HOME, as a user's would be (nuget.org), extracting into the workspace's
        // packages folder and reading what the machine's user folder already holds (TorchSharp) from there as a fallback.
        Directory.CreateDirectory(Path.Combine(home, ".nuget", "NuGet"));
        File.WriteAllText(Path.Combine(home, ".nuget", "NuGet", "NuGet.Config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config><add key="globalPackagesFolder" value="{Path.Combine(s_workspace, "packages")}" /></config>
              <packageSources>
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" protocolVersion="3" />
              </packageSources>
              <fallbackPackageFolders><add key="user" value="{s_userPackages}" /></fallbackPackageFolders>
            </configuration>
            """);

        var start = new ProcessStartInfo("bash", ["-e", "-o", "pipefail", "-c", script])
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["HOME"] = home;
        start.Environment["DOTNET_CLI_HOME"] = home;
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment.Remove("NUGET_PACKAGES");
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        start.Environment["UseSharedCompilation"] = "false";
        Stopwatch elapsed = Stopwatch.StartNew();
        using Process bash = Process.Start(start)!;
        var error = bash.StandardError.ReadToEndAsync();
        var output = bash.StandardOutput.ReadToEndAsync();
        if (!bash.WaitForExit(TimeSpan.FromMinutes(4)))
        {
            bash.Kill(entireProcessTree: true);
            Assert.Fail("the recipe did not finish in 4 minutes:\n" + output.Result + error.Result);
        }
        bash.WaitForExit();
        string printed = output.Result + error.Result;
        Console.WriteLine($"install recipe: {elapsed.Elapsed.TotalSeconds:0.0} s");
        Assert.AreEqual(0, bash.ExitCode, "the recipe, as written:\n" + printed);
        StringAssert.Contains(printed, "reproducible-block diff", "the tool's --help");
        Assert.IsTrue(Regex.IsMatch(printed, "^weights: [0-9a-f]{16}$", RegexOptions.Multiline), "the template's program ran:\n" + printed);
        Assert.IsTrue(File.Exists(Path.Combine(folder, "MyApp", "obj", "project.assets.json")), "the console project restored the packages");
    }
}
