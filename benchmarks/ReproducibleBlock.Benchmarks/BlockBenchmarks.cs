using System;
using BenchmarkDotNet.Attributes;
using TorchSharp;
using static TorchSharp.torch;

namespace ReproducibleBlock.Benchmarks;

/// <summary>
/// Entering and leaving blocks, against what TorchSharp itself needs to read and write the generator state.
/// One class, so every number comes from the same run on the same machine and the ratios hold.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class BlockBenchmarks
{
    private Generator _generator = null!;

    [GlobalSetup(Targets = [nameof(Baseline_GetSetState), nameof(Baseline_ManualSeed), nameof(Keyed_Seed0), nameof(Keyed_Seed64),
        nameof(Keyed_Seed1000), nameof(Keyed_Seed1000000), nameof(Keyed_Nested3), nameof(Keyed_RestoreOnExit),
        nameof(Woven_MethodCall), nameof(Manual_UsingScope), nameof(Woven_ModuleConstructor), nameof(Plain_ModuleConstructor)])]
    public void SetUpKeyed()
    {
        _generator = Generator.Default;
        Reproducible.SetSeed(42);
    }

    [GlobalSetup(Targets = [nameof(ResetAndAdvance_Seed0), nameof(ResetAndAdvance_Seed64), nameof(ResetAndAdvance_Seed1000), nameof(ResetAndAdvance_Seed1000000)])]
    public void SetUpResetAndAdvance()
    {
        _generator = Generator.Default;
        Reproducible.SetSeed(42, BlockDerivation.ResetAndAdvance);
    }

    /// <summary>The floor: one get_state and one set_state on a cached default generator.</summary>
    [Benchmark(Baseline = true)]
    public void Baseline_GetSetState()
    {
        using Tensor state = _generator.get_state();
        _generator.set_state(state);
    }

    [Benchmark]
    public void Baseline_ManualSeed() => _generator.manual_seed(42);

    // One method per seed (not [Arguments]) so that every row shares the baseline and shows its ratio.
    [Benchmark] public void Keyed_Seed0() => Enter(0);
    [Benchmark] public void Keyed_Seed64() => Enter(64);
    [Benchmark] public void Keyed_Seed1000() => Enter(1000);
    [Benchmark] public void Keyed_Seed1000000() => Enter(1_000_000);

    [Benchmark] public void ResetAndAdvance_Seed0() => Enter(0);
    [Benchmark] public void ResetAndAdvance_Seed64() => Enter(64);
    [Benchmark] public void ResetAndAdvance_Seed1000() => Enter(1000);
    [Benchmark] public void ResetAndAdvance_Seed1000000() => Enter(1_000_000);

    private static void Enter(long blockSeed)
    {
        using (Reproducible.Block(blockSeed)) { }
    }

    [Benchmark]
    public void Keyed_Nested3()
    {
        using (Reproducible.Block(1))
        using (Reproducible.Block(2))
        using (Reproducible.Block(3)) { }
    }

    [Benchmark]
    public void Keyed_RestoreOnExit()
    {
        using (Reproducible.Block(64, restoreOnExit: true)) { }
    }

    [Benchmark]
    public void Woven_MethodCall() => Targets.Woven();

    [Benchmark]
    public void Manual_UsingScope() => Targets.Manual();

    [Benchmark]
    public void Woven_ModuleConstructor()
    {
        using var module = new WovenModule();
    }

    [Benchmark]
    public void Plain_ModuleConstructor()
    {
        using var module = new PlainModule();
    }
}

public static class Targets
{
    [ReproducibleBlock(5)]
    public static void Woven() { }

    public static void Manual()
    {
        using (Reproducible.Block(5)) { }
    }
}

/// <summary>Woven through its attribute: its constructor, field initialiser included, is an instance block.</summary>
[ReproducibleBlock(6)]
public sealed class WovenModule : nn.Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.Linear _linear = nn.Linear(4, 4);
    public WovenModule() : base(nameof(WovenModule)) => RegisterComponents();
    public override Tensor forward(Tensor input) => _linear.forward(input);
}

/// <summary>The same code, not woven.</summary>
public sealed class PlainModule : nn.Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.Linear _linear = nn.Linear(4, 4);
    public PlainModule() : base(nameof(PlainModule)) => RegisterComponents();
    public override Tensor forward(Tensor input) => _linear.forward(input);
}
