using System.Linq;
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

    /// <summary>A path of <paramref name="depth"/> frames: blocks nested that deep (a recursive method that opens one per call).</summary>
    private static string Nested(int depth) => string.Join("/", Enumerable.Repeat("1#0", depth));

    [TestMethod]
    [DataRow(600, DisplayName = "600 deep: deeper than the JSON writer's default 1,000 levels")]
    [DataRow(100_000, DisplayName = "100,000 deep: the tree's nodes made one call per level")]
    public void Show_APathNestedDeeperThanTheTreeIsDrawn_ExitsZero_WithAWarning(int depth)
    {
        string path = Nested(depth);
        string trace = Write(new TraceBuilder().Seed().Enter(path, "Tree.Visit", States.Of("b"), States.Of("s"))
            .Mark(path, "leaf", Fp.Of("leaf")).Exit(path, "Tree.Visit", States.Of("e")).End(), "deep.jsonl");
        string warning = $"{trace}:3: a path {depth} blocks deep: the tree stops at {Show.TraceSummary.MaxTreeDepth} levels " +
            "and leaves out the 3 events below them (this is the first)";

        ToolRun text = Run("show", trace);
        Assert.AreEqual(0, text.ExitCode, text.Describe());
        StringAssert.Contains(text.Output, "warning: " + warning);

        ToolRun json = Run("show", "--json", trace);
        Assert.AreEqual(0, json.ExitCode, json.Describe());
        using JsonDocument document = JsonDocument.Parse(json.Output, new JsonDocumentOptions { MaxDepth = 2 * Show.TraceSummary.MaxTreeDepth + 8 });
        JsonElement root = document.RootElement;
        Assert.AreEqual(Show.TraceSummary.MaxTreeDepth, root.GetProperty("paths").GetInt64(), "the paths drawn");
        Assert.AreEqual(warning, root.GetProperty("warnings")[0].GetString());
        JsonElement node = root.GetProperty("blocks")[0];
        for (int level = 1; level < Show.TraceSummary.MaxTreeDepth; level++)
            node = node.GetProperty("children")[0];
        Assert.AreEqual(Nested(Show.TraceSummary.MaxTreeDepth), node.GetProperty("path").GetString());
        Assert.AreEqual(0, node.GetProperty("children").GetArrayLength());

        ToolRun diff = Run("diff", trace, trace);
        Assert.AreEqual(0, diff.ExitCode, diff.Describe());
    }
}
