using System.Globalization;
using System.IO;
using System.Text;
using BenchmarkDotNet.Attributes;
using ReproducibleBlock.Tool.Diff;
using ReproducibleBlock.Tool.Show;
using ReproducibleBlock.Tool.Traces;

namespace ReproducibleBlock.Benchmarks;

/// <summary>
/// <c>reproducible-block diff</c> and <c>show</c> (their logic, without printing) on a trace of N blocks entered one
/// after another, as N threads would, then all left: newest first (each exit closes the innermost block, the baseline)
/// or oldest first (each exit closes the outermost). Matching an exit to its block must not depend on the order: before
/// 0.3, oldest first searched the open blocks on every exit, N²/2 comparisons, and 20,000 took 39.5 s in <c>diff</c>.
/// The traces are made once, in memory, so the disk is not measured.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class ToolBenchmarks
{
    private byte[] _newestFirst = [];
    private byte[] _oldestFirst = [];

    /// <summary>The blocks open at once.</summary>
    [Params(20_000)]
    public int Blocks { get; set; }

    [GlobalSetup]
    public void SetUp()
    {
        _newestFirst = Trace(Blocks, oldestFirst: false);
        _oldestFirst = Trace(Blocks, oldestFirst: true);
    }

    [Benchmark(Baseline = true)]
    public TraceDiff Diff_ExitsNewestFirst() => Diff(_newestFirst);

    [Benchmark]
    public TraceDiff Diff_ExitsOldestFirst() => Diff(_oldestFirst);

    [Benchmark]
    public TraceSummary Show_ExitsNewestFirst() => Show(_newestFirst);

    [Benchmark]
    public TraceSummary Show_ExitsOldestFirst() => Show(_oldestFirst);

    private static TraceDiff Diff(byte[] trace)
    {
        using var a = new TraceReader(new MemoryStream(trace, writable: false), "a.jsonl");
        using var b = new TraceReader(new MemoryStream(trace, writable: false), "b.jsonl");
        return TraceDiffer.Diff(a, b);
    }

    private static TraceSummary Show(byte[] trace)
    {
        using var reader = new TraceReader(new MemoryStream(trace, writable: false), "t.jsonl");
        return TraceSummary.Read(reader);
    }

    /// <summary>The trace format's lines, as the library writes them.</summary>
    private static byte[] Trace(int blocks, bool oldestFirst)
    {
        var text = new StringBuilder();
        long seq = 0;
        const string States = "{\"cpu\":\"8d1f0c9a52e3b771\",\"managed\":\"04c2aa9d1e7f3360\",\"cuda\":null}";
        text.Append("{\"ev\":\"trace\",\"format\":1,\"library\":\"0.3.0\",\"pid\":1,\"started\":\"2026-12-01T00:00:00.000Z\"}\n");
        text.Append(CultureInfo.InvariantCulture, $"{{\"ev\":\"seed\",\"seq\":{seq++},\"rootSeed\":42,\"derivation\":\"Keyed\",\"environment\":{{}}}}\n");
        for (int i = 1; i <= blocks; i++)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"{{\"ev\":\"enter\",\"seq\":{seq++},\"path\":\"{i}#0\",\"name\":\"Worker.Step\",\"kind\":\"block\",\"restore\":true,\"before\":{States},\"state\":{States}}}\n");
        }
        for (int k = 0; k < blocks; k++)
        {
            int i = oldestFirst ? k + 1 : blocks - k;
            text.Append(CultureInfo.InvariantCulture, $"{{\"ev\":\"exit\",\"seq\":{seq++},\"path\":\"{i}#0\",\"name\":\"Worker.Step\",\"state\":{States}}}\n");
        }
        text.Append(CultureInfo.InvariantCulture, $"{{\"ev\":\"end\",\"seq\":{seq}}}\n");
        return Encoding.UTF8.GetBytes(text.ToString());
    }
}
