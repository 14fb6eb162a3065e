using System;
using System.Diagnostics;
using System.IO;
using System.Text.Json;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.Tests.Shared;

namespace ReproducibleBlock.Tool.Tests;

/// <summary>
/// The tool as a user runs it: its built dll (src/ReproducibleBlock.Tool/bin/&lt;configuration&gt;/net10.0, built first by
/// this project's reference) in a process of its own, so the exit codes are the process's.
/// </summary>
[TestClass]
public sealed class ToolProcessTests : TraceFileTest
{
    private static readonly string ToolDll = Path.Combine(Repository.Root, "src", "ReproducibleBlock.Tool", "bin",
        Repository.Configuration, "net10.0", "ReproducibleBlock.Tool.dll");

    [TestMethod]
    public void ExitCodes_AreTheProcessExitCodes()
    {
        string same = Write(Programs.Training(), "same.jsonl");
        string other = Write(Programs.Training(augmentExit: "racing"), "other.jsonl");
        string broken = Write(new TraceBuilder().Raw("{\"ev\":\"seed\",\"seq\":0}"), "broken.jsonl");

        ToolRun agree = Start("diff", same, same);
        Assert.AreEqual(0, agree.ExitCode, agree.Describe());
        StringAssert.Contains(agree.Output, "Same: the traces agree");

        ToolRun diverged = Start("diff", same, other, "--json");
        Assert.AreEqual(1, diverged.ExitCode, diverged.Describe());
        using (JsonDocument document = JsonDocument.Parse(diverged.Output))
            Assert.AreEqual("inside", document.RootElement.GetProperty("divergence").GetProperty("kind").GetString());

        ToolRun unreadable = Start("diff", same, broken);
        Assert.AreEqual(2, unreadable.ExitCode, unreadable.Describe());
        StringAssert.StartsWith(unreadable.Error, $"reproducible-block: {broken}:2: seed event: property 'rootSeed' is missing");

        ToolRun usage = Start("diff", same);
        Assert.AreEqual(3, usage.ExitCode, usage.Describe());
        StringAssert.Contains(usage.Error, "Usage: reproducible-block");
    }

    /// <summary>
    /// The trace, a name with an escaped lone surrogate, as a process: it ended with exit 134 (an unhandled
    /// InvalidOperationException) and nothing on standard output; FuzzTests covers many more inputs in-process.
    /// </summary>
    [TestMethod]
    public void AnEscapedLoneSurrogate_ExitsTwo_NotAnUnhandledException()
    {
        string bad = Write(new TraceBuilder().Seed()
            .Raw("""{"ev":"enter","seq":1,"path":"1#0","name":"bad\ud800name","kind":"block","restore":true,"before":{"cpu":null,"managed":null,"cuda":null},"state":{"cpu":null,"managed":null,"cuda":null}}"""), "bad.jsonl");
        ToolRun show = Start("show", "--json", bad);
        Assert.AreEqual(2, show.ExitCode, show.Describe());
        using (JsonDocument document = JsonDocument.Parse(show.Output))
            Assert.AreEqual("unreadable", document.RootElement.GetProperty("result").GetString());
        ToolRun diff = Start("diff", bad, bad);
        Assert.AreEqual(2, diff.ExitCode, diff.Describe());
        StringAssert.StartsWith(diff.Error, $"reproducible-block: {bad}:3: not Unicode text: \\ud800");
    }

    /// <summary>
    /// A run still going holds its trace with FileShare.None (an advisory lock on Linux and macOS that .NET honours):
    /// the tool reads it anyway. Windows enforces the writer's share mode for every reader, so there it cannot.
    /// </summary>
    [TestMethod]
    public void ATraceStillBeingWritten_IsRead()
    {
        if (OperatingSystem.IsWindows())
            Assert.Inconclusive("Windows enforces the writer's FileShare.None.");
        string path = Write(Programs.Training(end: false), "running.jsonl");
        using var writer = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.None); // as TraceWriter holds it
        ToolRun run = Start("show", path);
        Assert.AreEqual(0, run.ExitCode, run.Describe());
        StringAssert.Contains(run.Output, "Incomplete: no end event");
    }

    private static ToolRun Start(params string[] arguments)
    {
        Assert.IsTrue(File.Exists(ToolDll), $"The tool is not built at {ToolDll}: build this test project, which builds it first.");
        AppRun run = Repository.RunApp(ToolDll, arguments, timeout: TimeSpan.FromMinutes(1));
        return new ToolRun(string.Join(' ', arguments), run.ExitCode, run.Output, run.Error);
    }
}
