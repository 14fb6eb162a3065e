using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.Tracing;

namespace ReproducibleBlock.Tests;

/// <summary>
/// How a hand-written block is named in a trace, on real TorchSharp with tracing on: by the line that opened it, whatever
/// path of the library's entry points led there, and with the whole stack walked once per call site, not once per entry.
/// </summary>
[TestClass]
public sealed class CallSiteNameTests : RuntimeTest
{
    private string _path = null!;

    [TestInitialize]
    public void StartTracing()
    {
        _path = Path.Combine(Path.GetTempPath(), $"rb-names-{Guid.NewGuid():N}.jsonl");
        Reproducible.SetSeed(11);
        BlockTrace.Start(_path);
    }

    [TestCleanup]
    public void StopAndDelete()
    {
        BlockTrace.Stop();
        File.Delete(_path);
    }

    private static string Here([CallerFilePath] string file = "", [CallerLineNumber] int line = 0) => $"{BlockNames.Relative(file)}:{line}";

    /// <summary>The names of the <c>enter</c> events, in order.</summary>
    private List<string?> EnteredNames()
    {
        BlockTrace.Stop();
        return File.ReadLines(_path)
            .Select(line => JsonDocument.Parse(line).RootElement)
            .Where(e => e.GetProperty("ev").GetString() == "enter")
            .Select(e => e.GetProperty("name").GetString())
            .ToList();
    }

    [TestMethod]
    public void ManyEntriesFromTwoCallSites_WalkTheWholeStackOncePerSite()
    {
        const int Rounds = 200;
        long before = BlockNames.FullWalks;
        string first = "", second = "";
        for (int i = 0; i < Rounds; i++)
        {
            using (Reproducible.Block(3)) first = Here();
            using (Reproducible.Block(4)) second = Here();
        }
        long walks = BlockNames.FullWalks - before;

        List<string?> names = EnteredNames();
        Assert.HasCount(2 * Rounds, names);
        for (int i = 0; i < Rounds; i++)
            Assert.AreEqual((first, second), (names[2 * i], names[2 * i + 1]), $"round {i}");
        // Once per site, and again where the JIT's inlining of the library's own frames (tier-up while the loop runs)
        // moves the caller to another depth: a few walks, never one per entry.
        Assert.IsLessThanOrEqualTo(10L, walks, $"{walks} full stack walks for {2 * Rounds} entries from two call sites");
    }

    [TestMethod]
    public void EveryEntryPoint_NamesTheLineThatCalledIt_AsTheCallersDepthChanges()
    {
        // Entries whose library frames differ in number (Block, InstanceBlock, the older woven constructor entry that
        // calls an overload) and callers at different depths (a helper, a delegate that sometimes opens the block
        // itself and sometimes calls the helper), interleaved: a name cached for one must never answer for another.
        string helperLine = "";
        BlockScope Helper(long seed, bool restore)
        {
            helperLine = Here(); return Reproducible.Block(seed, restore);
        }
        // Each entry and the line it expects are on one line: the name is the line of the call. A delegate's call is
        // named from the IL offset the optimized code reports for it, which need not be its own line: those entries
        // expect null here, and the same name each time, not any other entry's.
        var expected = new List<string?>();
        for (int i = 0; i < 60; i++)
        {
            Func<long, bool, BlockScope> open = i % 3 == 0 ? Reproducible.Block : Helper;
            using (open(20, false)) expected.Add(i % 3 == 0 ? null : helperLine);
            using (Reproducible.InstanceBlock(21)) expected.Add(Here());
            using (Helper(22, false)) expected.Add(helperLine);
            if (i % 4 == 0)
            {
                using (WovenCode.EnterConstructorBlock(23, restoreOnExit: false)) expected.Add(Here());
            }
            using (Reproducible.Block(24)) { expected.Add(Here()); using (Helper(25, true)) expected.Add(helperLine); }
        }

        List<string?> names = EnteredNames();
        Assert.HasCount(expected.Count, names);
        string? delegateCall = names[0];
        Assert.IsNotNull(delegateCall);
        CollectionAssert.DoesNotContain(expected, delegateCall, "the delegate's call is named apart from every other entry");
        for (int i = 0; i < expected.Count; i++)
            Assert.AreEqual(expected[i] ?? delegateCall, names[i], $"entry {i}");
    }
}
