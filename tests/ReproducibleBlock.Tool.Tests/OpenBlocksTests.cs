using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.Tool.Traces;

namespace ReproducibleBlock.Tool.Tests;

/// <summary>
/// The open blocks as <c>diff</c> and <c>show</c> follow them: exits match the latest open block of their path, in any
/// order, and the work per event does not grow with the blocks open (counted, not timed, so the test cannot be flaky).
/// </summary>
[TestClass]
public sealed class OpenBlocksTests : TraceFileTest
{
    private static readonly GeneratorFingerprints NoState = new(null, null, null);
    private long _line;

    private EnterEvent Enter(string path, string? name = null) =>
        new(++_line, _line - 1, path, name ?? "N" + path, BlockKind.Block, true, NoState, NoState);

    private ExitEvent Exit(string path) => new(++_line, _line - 1, path, "N" + path, NoState);

    [TestMethod]
    public void NestedBlocks_CloseInnermostFirst()
    {
        var open = new OpenBlocks();
        EnterEvent outer = Enter("1#0"), inner = Enter("1#0/2#0");
        open.Follow(outer);
        open.Follow(inner);
        Assert.AreSame(inner, open.Innermost);
        Assert.AreEqual(2, open.Count);
        Assert.AreSame(inner, open.Follow(Exit("1#0/2#0")));
        Assert.AreSame(outer, open.Innermost);
        Assert.AreSame(outer, open.Follow(Exit("1#0")));
        Assert.IsNull(open.Innermost);
        Assert.AreEqual("outside any block", open.DescribeWhere());
    }

    [TestMethod]
    public void AnExit_ClosesTheLatestOpenBlockOfItsPath()
    {
        // One path entered twice (two threads in the same block): the exit takes the later one, the older stays open.
        var open = new OpenBlocks();
        EnterEvent first = Enter("3#0"), other = Enter("4#0"), second = Enter("3#0");
        open.Follow(first);
        open.Follow(other);
        open.Follow(second);
        Assert.AreSame(second, open.Find("3#0"));
        Assert.AreSame(second, open.Follow(Exit("3#0")));
        Assert.AreSame(first, open.Find("3#0"));
        CollectionAssert.AreEqual(new[] { first, other }, open.ToList().ToArray());
        Assert.AreSame(first, open.Follow(Exit("3#0")));
        Assert.IsNull(open.Find("3#0"));
        Assert.IsNull(open.Follow(Exit("3#0")), "no open block of that path is left");
        Assert.AreSame(other, open.Innermost);
    }

    [TestMethod]
    public void InterleavedThreads_CloseInAnyOrder_AndTheListKeepsEntryOrder()
    {
        var open = new OpenBlocks();
        EnterEvent a = Enter("1#0"), b = Enter("2#0"), c = Enter("3#0"), d = Enter("4#0");
        foreach (EnterEvent enter in new[] { a, b, c, d })
            open.Follow(enter);
        Assert.AreSame(b, open.Follow(Exit("2#0")), "a block in the middle");
        CollectionAssert.AreEqual(new[] { a, c, d }, open.ToList().ToArray());
        Assert.AreSame(a, open.Follow(Exit("1#0")), "the oldest");
        Assert.AreSame(d, open.Innermost);
        Assert.AreSame(d, open.Follow(Exit("4#0")), "the newest");
        Assert.AreSame(c, open.Innermost);
        StringAssert.StartsWith(open.DescribeWhere(), "inside N3#0 (3#0), entered on line 3");
        Assert.AreEqual(1, open.Count);
    }

    [TestMethod]
    public void OtherEvents_ChangeNothing()
    {
        var open = new OpenBlocks();
        open.Follow(Enter("1#0"));
        Assert.IsNull(open.Follow(new MarkEvent(9, 8, "1#0", "loss", "77c1d0e2a9b83f45")));
        Assert.IsNull(open.Follow(new EndEvent(10, 9)));
        Assert.AreEqual(1, open.Count);
    }

    [TestMethod]
    [DataRow(true, DisplayName = "exits in first-in-first-out order")]
    [DataRow(false, DisplayName = "exits in last-in-first-out order")]
    public void NBlocksClosed_TakeWorkLinearInN_InEitherOrder(bool firstInFirstOut)
    {
        // Path comparisons and hashes, counted: a search of the open blocks on each exit makes N²/2 of them in
        // first-in-first-out order (50 million here), a constant number per event makes a few N.
        const int N = 10_000;
        var paths = new CountingComparer();
        var open = new OpenBlocks(paths);
        var entered = new List<EnterEvent>();
        for (int i = 0; i < N; i++)
        {
            EnterEvent enter = Enter($"{i + 1}#0");
            entered.Add(enter);
            open.Follow(enter);
        }
        for (int k = 0; k < N; k++)
        {
            EnterEvent expected = entered[firstInFirstOut ? k : N - 1 - k];
            Assert.AreSame(expected, open.Follow(Exit(expected.Path)));
        }
        Assert.AreEqual(0, open.Count);
        Assert.IsLessThanOrEqualTo(8L * N, paths.Calls, $"{paths.Calls:N0} path comparisons and hashes for {N:N0} blocks");
    }

    [TestMethod]
    [Timeout(180_000, CooperativeCancellation = true)]
    public void Diff_ManyBlocksLeftInEntryOrder_TakesAboutAsLongAsInReverseOrder()
    {
        // End to end, with the bound: 3 times the reverse order's time plus 2 s, both measured here so a busy
        // machine slows both. With a search of the open blocks on each exit, 50,000 blocks closed oldest first took
        // 25.6 s on this project's 2-core machine against 1.2 s newest first (20,000: 2.6 s against 0.65 s, inside the
        // bound's 2 s, hence the larger N); with each exit found directly both take about as long. show follows its
        // blocks with the same class (NBlocksClosed_TakeWorkLinearInN_InEitherOrder).
        const int N = 50_000;
        string fifo = Write(ManyBlocks(N, firstInFirstOut: true), "fifo.jsonl");
        string lifo = Write(ManyBlocks(N, firstInFirstOut: false), "lifo.jsonl");
        string small = Write(ManyBlocks(100, firstInFirstOut: true), "small.jsonl");
        Assert.AreEqual(0, Run("diff", small, small).ExitCode); // the tool's code compiled before either is timed

        TimeSpan lifoTime = Time(() => Assert.AreEqual(0, Run("diff", lifo, lifo).ExitCode));
        TimeSpan fifoTime = Time(() => Assert.AreEqual(0, Run("diff", fifo, fifo).ExitCode));
        Assert.IsLessThan(3 * lifoTime + TimeSpan.FromSeconds(2), fifoTime,
            $"{N:N0} blocks left oldest first took {fifoTime.TotalSeconds:F1} s, newest first {lifoTime.TotalSeconds:F1} s");
    }

    /// <summary><paramref name="n"/> blocks entered one after another (as by <paramref name="n"/> threads), then all left.</summary>
    internal static TraceBuilder ManyBlocks(int n, bool firstInFirstOut)
    {
        var trace = new TraceBuilder().Seed();
        for (int i = 1; i <= n; i++)
            trace.Enter($"{i}#0", "Worker.Step", States.Of("before"), States.Of("enter"));
        for (int k = 0; k < n; k++)
        {
            int i = firstInFirstOut ? k + 1 : n - k;
            trace.Exit($"{i}#0", "Worker.Step", States.Of("exit"));
        }
        return trace.End();
    }

    private static TimeSpan Time(Action action)
    {
        var watch = Stopwatch.StartNew();
        action();
        return watch.Elapsed;
    }

    /// <summary>Ordinal comparison that counts every call: what a path lookup costs, without a clock.</summary>
    private sealed class CountingComparer : IEqualityComparer<string>
    {
        public long Calls { get; private set; }

        public bool Equals(string? x, string? y)
        {
            Calls++;
            return string.Equals(x, y, StringComparison.Ordinal);
        }

        public int GetHashCode(string obj)
        {
            Calls++;
            return StringComparer.Ordinal.GetHashCode(obj);
        }
    }
}
