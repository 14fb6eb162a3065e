using BenchmarkDotNet.Attributes;
using ReproducibleBlock.State;
using ReproducibleBlock.Tracing;
using TorchSharp;

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
/// Outputs (0.3): a continuing block as a woven <c>forward</c> enters it, with and without handing its output (a 32 × 128
/// float tensor, 16 KB) to <see cref="WovenCode.RecordOutput{T}"/>, and a <c>Dropout</c>'s call with and without the typed
/// output hook that TorchSharp's random modules get: off, the difference is what tracing tensors costs a run that does
/// not trace them; on with tensors, what fingerprinting the output adds (a copy and an XXH3 of 16 KB, the exit's longer line).
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class TraceBenchmarks
{
    private const string ForwardName = "ReproducibleBlock.Benchmarks.TraceBenchmarks.forward";
    private static readonly string NullDevice = System.OperatingSystem.IsWindows() ? "NUL" : "/dev/null";
    private readonly BlockRuntime _runtime = BlockRuntime.Shared;
    private readonly object _owner = new();
    private torch.Tensor _output = null!;
    private TorchSharp.Modules.Dropout _dropout = null!, _hookedDropout = null!;
    private DropoutHolder _holder = null!;

    [GlobalSetup(Targets = [nameof(Off_BlockWithoutTracingCheck), nameof(Off_Block), nameof(Off_ContinuingBlock), nameof(Off_ContinuingBlockWithOutput),
        nameof(Off_DropoutCall), nameof(Off_DropoutCallWithOutputHook), nameof(Off_RandomModuleCall)])]
    public void TracingOff()
    {
        BlockTrace.Stop();
        Reproducible.SetSeed(42);
        MakeTensorsAndModules();
    }

    [GlobalSetup(Targets = [nameof(On_WovenBlock), nameof(On_HandWrittenBlock), nameof(On_ContinuingBlockWithOutput), nameof(On_RandomModuleCall)])]
    public void TracingOn()
    {
        Reproducible.SetSeed(42);
        MakeTensorsAndModules();
        BlockTrace.Start(NullDevice, tensors: false);
    }

    [GlobalSetup(Targets = [nameof(OnWithTensors_ContinuingBlockWithOutput), nameof(OnWithTensors_RandomModuleCall)])]
    public void TracingOnWithTensors()
    {
        Reproducible.SetSeed(42);
        MakeTensorsAndModules();
        BlockTrace.Start(NullDevice, tensors: true);
    }

    private void MakeTensorsAndModules()
    {
        _output = torch.randn(32, 128);
        _dropout = torch.nn.Dropout(0.3);
        _hookedDropout = torch.nn.Dropout(0.3);
        // The output hook of a random module in a woven model, alone: what 0.3 adds to each of their calls.
        OutputHooks.Add(_hookedDropout, static (module, output) => BlockRuntime.Shared.TraceModuleOutput(module, output));
        _holder = new DropoutHolder();
    }

    [GlobalCleanup]
    public void CleanUp()
    {
        BlockTrace.Stop();
        _output?.Dispose();
        _dropout?.Dispose();
        _hookedDropout?.Dispose();
        _holder?.Dispose();
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

    [Benchmark]
    public void Off_ContinuingBlock()
    {
        using (WovenCode.EnterContinuingBlock(_owner, ForwardName)) { }
    }

    [Benchmark]
    public void Off_ContinuingBlockWithOutput() => ContinuingBlockWithOutput();

    [Benchmark]
    public void Off_DropoutCall()
    {
        using torch.Tensor dropped = _dropout.call(_output);
    }

    [Benchmark]
    public void Off_DropoutCallWithOutputHook()
    {
        using torch.Tensor dropped = _hookedDropout.call(_output);
    }

    [Benchmark]
    public void On_ContinuingBlockWithOutput() => ContinuingBlockWithOutput();

    [Benchmark]
    public void OnWithTensors_ContinuingBlockWithOutput() => ContinuingBlockWithOutput();

    /// <summary>A dropout of a registered model called: its hooks enter its path stream, see its output, leave the stream.</summary>
    [Benchmark]
    public void Off_RandomModuleCall() => CallHeldDropout();

    [Benchmark]
    public void On_RandomModuleCall() => CallHeldDropout();

    [Benchmark]
    public void OnWithTensors_RandomModuleCall() => CallHeldDropout();

    private void CallHeldDropout()
    {
        using torch.Tensor dropped = _holder.Dropout.call(_output);
    }

    /// <summary>What a woven continuing forward does around its body: enter, hand the output over, leave.</summary>
    private void ContinuingBlockWithOutput()
    {
        BlockScope scope = WovenCode.EnterContinuingBlock(_owner, ForwardName);
        WovenCode.RecordOutput(scope, _output);
        scope.Dispose();
    }
}

/// <summary>A model as the rule weaves it, around one dropout: the dropout gets a path stream and the forward hooks.</summary>
internal sealed class DropoutHolder : torch.nn.Module<torch.Tensor, torch.Tensor>
{
    private readonly TorchSharp.Modules.Dropout _dropout = torch.nn.Dropout(0.3);

    public DropoutHolder() : base(nameof(DropoutHolder))
    {
        using (Reproducible.InstanceBlock(61, restoreOnExit: true))
        {
            RegisterComponents();
            WovenCode.RegisterStream(this); // what a woven constructor ends with
        }
    }

    public TorchSharp.Modules.Dropout Dropout => _dropout;

    public override torch.Tensor forward(torch.Tensor input) => _dropout.call(input);
}
