using System.Text.Json;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace ReproducibleBlock.Tool.Tests;

/// <summary>
/// Input no run of the library writes, as a user might still hand it over (an edited trace, another tool's output):
/// each command ends with one of its documented exit codes and says what it made of the input, never with an
/// unhandled exception (exit 134 and nothing on standard output). <see cref="FuzzTests"/> generates many more.
/// </summary>
[TestClass]
public sealed class HostileInputTests : TraceFileTest
{
    /// <summary>The trace: a block name with an escaped lone surrogate, which System.Text.Json parses and then refuses to read.</summary>
    private string LoneSurrogateTrace() => Write(new TraceBuilder().Seed()
        .Raw("""{"ev":"enter","seq":1,"path":"1#0","name":"bad\ud800name","kind":"block","restore":true,"before":{"cpu":null,"managed":null,"cuda":null},"state":{"cpu":null,"managed":null,"cuda":null}}"""), "bad.jsonl");

    [TestMethod]
    [DataRow("diff")]
    [DataRow("show")]
    public void EscapedLoneSurrogate_ExitsTwo_NamingFileAndLine(string command)
    {
        string bad = LoneSurrogateTrace();
        ToolRun run = command == "diff" ? Run("diff", Write(Programs.Training(), "good.jsonl"), bad) : Run("show", bad);
        Assert.AreEqual(2, run.ExitCode, run.Describe());
        Assert.AreEqual($"reproducible-block: {bad}:3: not Unicode text: \\ud800 at byte 47 of the line escapes half of a UTF-16 " +
            "surrogate pair without the other half\n", run.Error);
        Assert.AreEqual("", run.Output);
    }

    [TestMethod]
    [DataRow("diff")]
    [DataRow("show")]
    public void EscapedLoneSurrogate_Json_IsTheUnreadableObject(string command)
    {
        string bad = LoneSurrogateTrace();
        ToolRun run = command == "diff" ? Run("diff", "--json", bad, bad) : Run("show", "--json", bad);
        Assert.AreEqual(2, run.ExitCode, run.Describe());
        using JsonDocument document = JsonDocument.Parse(run.Output);
        JsonElement root = document.RootElement;
        Assert.AreEqual("unreadable", root.GetProperty("result").GetString());
        Assert.AreEqual(bad, root.GetProperty("file").GetString());
        Assert.AreEqual(3, root.GetProperty("line").GetInt64());
        StringAssert.StartsWith(root.GetProperty("error").GetString(), $"{bad}:3: not Unicode text: \\ud800");
    }

    [TestMethod]
    public void AnUnknownPropertyWithALoneSurrogateInItsName_ExitsTwo()
    {
        // Not a property the reader asks for: System.Text.Json throws while searching past it for "seq".
        string bad = Write(new TraceBuilder().Raw("""{"ev":"end","\udc00":1,"seq":0}"""), "bad.jsonl");
        ToolRun run = Run("show", bad);
        Assert.AreEqual(2, run.ExitCode, run.Describe());
        StringAssert.StartsWith(run.Error, $"reproducible-block: {bad}:2: not Unicode text: \\udc00 at byte 14");
    }
}
