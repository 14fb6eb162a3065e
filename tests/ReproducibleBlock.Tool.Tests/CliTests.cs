using System.IO;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace ReproducibleBlock.Tool.Tests;

/// <summary>The command line itself: help, version, usage errors (exit 3), and <c>--</c>.</summary>
[TestClass]
public sealed class CliTests : TraceFileTest
{
    [TestMethod]
    [DataRow("--help")]
    [DataRow("-h")]
    [DataRow("help")]
    [DataRow("diff", "--help")]
    [DataRow("show", "x", "-h")]
    public void Help_PrintsUsageOnStandardOutput_AndExitsZero(params string[] args)
    {
        ToolRun run = Run(args);
        Assert.AreEqual(0, run.ExitCode, run.Describe());
        StringAssert.StartsWith(run.Output, "Usage: reproducible-block diff A B [--json]");
        StringAssert.Contains(run.Output, "3  a usage error");
        Assert.AreEqual("", run.Error);
    }

    [TestMethod]
    public void Version_PrintsTheToolsVersion()
    {
        ToolRun run = Run("--version");
        Assert.AreEqual(0, run.ExitCode, run.Describe());
        // The informational version starts with the assembly version's three parts (VersionPrefix, Directory.Build.props).
        System.Version version = typeof(ReproducibleBlock.Tool.Cli).Assembly.GetName().Version!;
        StringAssert.StartsWith(run.Output, $"reproducible-block {version.Major}.{version.Minor}.{version.Build}");
    }

    [TestMethod]
    [DataRow("no command: diff or show")]
    [DataRow("unknown command 'compare': diff or show", "compare", "a", "b")]
    [DataRow("diff takes two trace files, A and B; none given", "diff")]
    [DataRow("diff takes two trace files, A and B; 1 given", "diff", "a")]
    [DataRow("diff takes two trace files, A and B; 3 given", "diff", "a", "b", "c")]
    [DataRow("show takes one trace file; none given", "show", "--json")]
    [DataRow("show takes one trace file; 2 given", "show", "a", "b")]
    [DataRow("unknown option '--colour'", "diff", "a", "b", "--colour")]
    [DataRow("unknown option '-j'", "show", "a", "-j")]
    public void UsageError_ExitsThree_WithTheProblemAndTheUsageOnStandardError(string problem, params string[] args)
    {
        ToolRun run = Run(args);
        Assert.AreEqual(3, run.ExitCode, run.Describe());
        StringAssert.StartsWith(run.Error, $"reproducible-block: {problem}.\n\nUsage: reproducible-block diff A B [--json]", run.Describe());
        Assert.AreEqual("", run.Output);
    }

    [TestMethod]
    public void DoubleDash_MakesTheNextArgumentAFile()
    {
        ToolRun run = Run("show", "--", "--json");
        Assert.AreEqual(2, run.ExitCode, run.Describe());
        Assert.AreEqual("reproducible-block: --json: no such file\n", run.Error);
    }

    [TestMethod]
    public void OptionsMayComeBeforeTheFiles()
    {
        string a = Write(Programs.Training(), "a.jsonl");
        ToolRun run = Run("--json", "diff", a, a);
        Assert.AreEqual(0, run.ExitCode, run.Describe());
        StringAssert.Contains(run.Output, "\"result\": \"same\"");
    }

    [TestMethod]
    public void ADirectory_IsNotATrace()
    {
        ToolRun run = Run("show", Directory);
        Assert.AreEqual(2, run.ExitCode, run.Describe());
        Assert.AreEqual($"reproducible-block: {Directory}: is a directory, not a trace file\n", run.Error);
    }

    [TestMethod]
    public void NullArguments_AreRefused()
    {
        Assert.Throws<System.ArgumentNullException>(() => Cli.Run(null!, TextWriter.Null, TextWriter.Null));
        Assert.Throws<System.ArgumentNullException>(() => Cli.Run([], null!, TextWriter.Null));
        Assert.Throws<System.ArgumentNullException>(() => Cli.Run([], TextWriter.Null, null!));
    }
}
