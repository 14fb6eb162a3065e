using System;
using BenchmarkDotNet.Attributes;
using ReproducibleBlock.State;
using TorchSharp;
using static TorchSharp.torch;

namespace ReproducibleBlock.Benchmarks;

/// <summary>
/// A continuing block's entry and exit (one state read and one write in, one read and one write out), against the
/// bare get_state + set_state pair, the library's own state read + write (the generator's memory where it is verified,
/// else the same tensors), and a plain block; and a small module's forward with and without one.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class ContinuingBenchmarks
{
    private readonly object _owner = new();
    private Generator _generator = null!;
    private nn.Module<Tensor, Tensor> _model = null!;
    private Tensor _input = null!;
    private TorchCpuGenerator _cpu = null!;
    private readonly byte[] _state = new byte[CpuGeneratorState.Size];

    [GlobalSetup]
    public void SetUp()
    {
        _generator = Generator.Default;
        _cpu = new TorchCpuGenerator();
        Console.WriteLine($"CPU generator state access: {_cpu.Access}{(_cpu.WhyTensorCopies is { } why ? $" ({why})" : "")}");
        Reproducible.SetSeed(42);
        _model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(64, 10));
        _model.train();
        _input = torch.randn(32, 64);
        using (Reproducible.ContinuingBlock(_owner)) { } // the stream exists: what follows is the steady state
    }

    [GlobalCleanup]
    public void CleanUp()
    {
        _model.Dispose();
        _input.Dispose();
    }

    [Benchmark(Baseline = true)]
    public void Baseline_GetSetState()
    {
        using Tensor state = _generator.get_state();
        _generator.set_state(state);
    }

    /// <summary>One state read and one write as blocks make them (<see cref="TorchCpuGenerator"/>).</summary>
    [Benchmark]
    public void Library_ReadWrite()
    {
        _cpu.Read(_state);
        _cpu.WriteReadBack(_state);
    }

    [Benchmark]
    public void Keyed_Block()
    {
        using (Reproducible.Block(5)) { }
    }

    [Benchmark]
    public void Continuing_Block()
    {
        using (Reproducible.ContinuingBlock(_owner)) { }
    }

    [Benchmark]
    public void Forward_Plain()
    {
        using Tensor output = _model.forward(_input);
    }

    [Benchmark]
    public void Forward_InContinuingBlock()
    {
        using (Reproducible.ContinuingBlock(_model))
        {
            using Tensor output = _model.forward(_input);
        }
    }
}
