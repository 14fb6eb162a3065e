using System;
using System.IO;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace ReproducibleBlock.Tool.Tests;

/// <summary>What one run of the tool printed, and how it ended.</summary>
internal sealed record ToolRun(string Arguments, int ExitCode, string Output, string Error)
{
    public string Describe() => $"reproducible-block {Arguments} exited with {ExitCode}.\nstdout:\n{Output}\nstderr:\n{Error}";
}

/// <summary>Base for tests that write trace files: a directory of their own, removed afterwards.</summary>
public abstract class TraceFileTest
{
    private string? _directory;

    /// <summary>This test's directory, made on first use.</summary>
    protected string Directory
    {
        get
        {
            if (_directory is null)
            {
                _directory = Path.Combine(Path.GetTempPath(), "rb-tool-" + Guid.NewGuid().ToString("N"));
                System.IO.Directory.CreateDirectory(_directory);
            }
            return _directory;
        }
    }

    [TestCleanup]
    public void RemoveDirectory()
    {
        if (_directory is not null && System.IO.Directory.Exists(_directory))
            System.IO.Directory.Delete(_directory, recursive: true);
    }

    /// <summary>Writes <paramref name="trace"/> as <paramref name="name"/> in this test's directory.</summary>
    internal string Write(TraceBuilder trace, string name) => trace.WriteTo(Directory, name);

    /// <summary>Runs the tool in-process through <see cref="Cli.Run"/>, capturing both outputs.</summary>
    internal static ToolRun Run(params string[] args)
    {
        using var output = new StringWriter { NewLine = "\n" };
        using var error = new StringWriter { NewLine = "\n" };
        int exitCode = Cli.Run(args, output, error);
        return new ToolRun(string.Join(' ', args), exitCode, output.ToString(), error.ToString());
    }

    /// <summary>Writes both traces (as a.jsonl and b.jsonl) and runs <c>diff</c> on them with <paramref name="options"/>.</summary>
    internal ToolRun RunDiff(TraceBuilder a, TraceBuilder b, params string[] options) =>
        Run(["diff", Write(a, "a.jsonl"), Write(b, "b.jsonl"), .. options]);
}
