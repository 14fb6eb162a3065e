using BenchmarkDotNet.Attributes;
using static TorchSharp.torch;

namespace ReproducibleBlock.Benchmarks;

/// <summary>
/// The per-sample set-up of <see cref="ReproducibleSampler.Resolve"/>: deriving a whole 5,056-byte CPU generator state
/// for the sample, one <c>set_state</c> on the thread's <c>torch.Generator</c>, and the managed generator's state;
/// against what seeding a generator the usual ways costs. One class, so the ratios come from the same run.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class SampleBenchmarks
{
    private const int Samples = 1024;

    private ReproducibleSampler _sampler = null!;
    private Generator _kept = null!;
    private Tensor _state = null!;
    private long _next;

    [GlobalSetup]
    public void SetUp()
    {
        Reproducible.SetSeed(42);
        _sampler = new ReproducibleSampler(Samples);
        // Starting the epoch (what the DataLoader does on the main thread when a foreach begins) is not part of a sample's set-up.
        _sampler.GetEnumerator().Dispose();
        for (long index = 0; index < Samples; index++)
            _sampler.Resolve(index); // the positions table and this thread's generators exist from here on
        _kept = new Generator(7);
        _state = _kept.get_state().DetachFromDisposeScope();
    }

    [GlobalCleanup]
    public void CleanUp()
    {
        _state.Dispose();
        _kept.Dispose();
    }

    /// <summary>A sample's set-up: one resolve, a different sample each call, as a DataLoader's workers ask.</summary>
    [Benchmark]
    public long Sampler_Resolve()
    {
        long index = _next;
        _next = index + 1 == Samples ? 0 : index + 1;
        return _sampler.Resolve(index).Position;
    }

    /// <summary>A generator per sample, seeded the usual way (32 bits of the seed reach its state).</summary>
    [Benchmark(Baseline = true)]
    public void Baseline_NewGenerator()
    {
        using var generator = new Generator(12345);
    }

    /// <summary>Re-seeding one kept generator per sample (32 bits of the seed reach its state).</summary>
    [Benchmark]
    public void Baseline_ManualSeed() => _kept.manual_seed(12345);

    /// <summary>The native floor of the resolve: one set_state of a kept state tensor on a kept generator.</summary>
    [Benchmark]
    public void Baseline_SetState() => _kept.set_state(_state);
}
