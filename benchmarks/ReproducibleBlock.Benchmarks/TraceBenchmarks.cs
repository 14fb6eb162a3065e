using BenchmarkDotNet.Attributes;
using ReproducibleBlock.State;

namespace ReproducibleBlock.Benchmarks;

/// <summary>
/// What tracing costs. Off: a block's entry and exit as users call them (with the tracing check) against the same code
/// compiled without the check (the baseline). BenchmarkDotNet's Error column is half the 99.9% confidence interval of
/// the mean: the check costs nothing measurable when the two intervals overlap. On: a named block (as woven code
/// enters it) and a hand-written one (named from the stack: the whole stack walked once per call site, then one frame
/// looked at per entry), each writing two events with fingerprints (two state reads: the enclosing state and the exit
/// state; the entry state is the one just written).
/// The trace goes to the null device (/dev/null, NUL on Windows), so that millions of iterations do not fill the disk: the cost measured is reading,
/// hashing and formatting, and the batched writes' system calls, without the page cache's.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class TraceBenchmarks
{
    private readonly BlockRuntime _runtime = BlockRuntime.Shared;

    [GlobalSetup(Targets = [nameof(Off_BlockWithoutTracingCheck), nameof(Off_Block)])]
    public void TracingOff()
    {
        BlockTrace.Stop();
        Reproducible.SetSeed(42);
    }

    [GlobalSetup(Targets = [nameof(On_WovenBlock), nameof(On_HandWrittenBlock)])]
    public void TracingOn()
    {
        Reproducible.SetSeed(42);
        BlockTrace.Start(System.OperatingSystem.IsWindows() ? "NUL" : "/dev/null");
    }

    [GlobalCleanup]
    public void CleanUp()
    {
        BlockTrace.Stop();
    }

    [Benchmark(Baseline = true)]
    public void Off_BlockWithoutTracingCheck()
    {
        BlockScope scope = _runtime.EnterSkippingTraceCheck(5, restoreOnExit: false, instance: false);
        _runtime.ExitSkippingTraceCheck(scope);
    }

    [Benchmark]
    public void Off_Block()
    {
        using (Reproducible.Block(5)) { }
    }

    [Benchmark]
    public void On_WovenBlock()
    {
        using (WovenCode.EnterBlock(5, restoreOnExit: false, "Benchmarks.TraceBenchmarks.On_WovenBlock")) { }
    }

    [Benchmark]
    public void On_HandWrittenBlock()
    {
        using (Reproducible.Block(5)) { }
    }
}
