extern alias woven;
extern alias unisolated;

using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Plain = ReproducibleBlock.Benchmarks.Models;
using Unisolated = unisolated::ReproducibleBlock.Benchmarks.Models;
using Woven = woven::ReproducibleBlock.Benchmarks.Models;

namespace ReproducibleBlock.Benchmarks;

/// <summary>
/// What the one-line rule costs a training step, side by side in one run: a ResNet-18-shaped model (3×16×16 images,
/// batch 8) and a model shaped like the example's (3×12×12, batch 32), each compiled three times from the same source
/// (Models/): not woven (the baseline), woven by <c>[assembly: ReproducibleConstructors(typeof(torch.nn.Module))]</c>
/// (sites in every constructor, every forward in its continuing block, TorchSharp's dropouts in path streams, direct
/// forward calls wrapped), and woven with <c>IsolateParts = false</c> (0.2's streams). A step is forward,
/// cross-entropy, backward and an SGD step with momentum. Also the cost of building the ResNet: with sites, without
/// (IsolateParts = false), not woven.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[MinColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class WovenTrainingBenchmarks
{
    private Step _plainResNet = null!, _wovenResNet = null!, _unisolatedResNet = null!;
    private Step _plainCnn = null!, _wovenCnn = null!, _unisolatedCnn = null!;

    /// <summary>A model, its optimizer and one batch.</summary>
    internal sealed class Step(nn.Module<Tensor, Tensor> model, Tensor images, Tensor labels)
    {
        private readonly SGD _optimizer = optim.SGD(model.parameters(), 0.05, momentum: 0.9);

        public void Run()
        {
            using (NewDisposeScope())
            {
                _optimizer.zero_grad();
                nn.functional.cross_entropy(model.forward(images), labels).backward();
                _optimizer.step();
            }
        }

        public void Dispose()
        {
            _optimizer.Dispose();
            model.Dispose();
        }
    }

    internal static Step Prepare(nn.Module<Tensor, Tensor> model, long batch, long size, long classes)
    {
        model.train();
        var step = new Step(model, torch.rand(batch, 3, size, size), torch.randint(0, classes, [batch]));
        step.Run(); // the streams and the momentum buffers exist: what follows is the steady state
        return step;
    }

    [GlobalSetup]
    public void SetUp()
    {
        Reproducible.SetSeed(42);
        _plainResNet = Prepare(Plain.BenchResNet.ResNet18(10), 8, 16, 10);
        _wovenResNet = Prepare(Woven.BenchResNet.ResNet18(10), 8, 16, 10);
        _unisolatedResNet = Prepare(Unisolated.BenchResNet.ResNet18(10), 8, 16, 10);
        _plainCnn = Prepare(new Plain.BenchSmallCnn(), 32, 12, 4);
        _wovenCnn = Prepare(new Woven.BenchSmallCnn(), 32, 12, 4);
        _unisolatedCnn = Prepare(new Unisolated.BenchSmallCnn(), 32, 12, 4);
    }

    [GlobalCleanup]
    public void CleanUp()
    {
        foreach (Step step in new[] { _plainResNet, _wovenResNet, _unisolatedResNet, _plainCnn, _wovenCnn, _unisolatedCnn })
            step.Dispose();
    }

    [Benchmark(Baseline = true), BenchmarkCategory("ResNet-18 step")]
    public void ResNetStep_NotWoven() => _plainResNet.Run();

    [Benchmark, BenchmarkCategory("ResNet-18 step")]
    public void ResNetStep_Woven() => _wovenResNet.Run();

    [Benchmark, BenchmarkCategory("ResNet-18 step")]
    public void ResNetStep_WovenWithoutIsolatedParts() => _unisolatedResNet.Run();

    [Benchmark(Baseline = true), BenchmarkCategory("Example step")]
    public void ExampleStep_NotWoven() => _plainCnn.Run();

    [Benchmark, BenchmarkCategory("Example step")]
    public void ExampleStep_Woven() => _wovenCnn.Run();

    [Benchmark, BenchmarkCategory("Example step")]
    public void ExampleStep_WovenWithoutIsolatedParts() => _unisolatedCnn.Run();

    [Benchmark(Baseline = true), BenchmarkCategory("ResNet-18 construction")]
    public void BuildResNet_NotWoven() => Plain.BenchResNet.ResNet18(10).Dispose();

    [Benchmark, BenchmarkCategory("ResNet-18 construction")]
    public void BuildResNet_WovenWithSites() => Woven.BenchResNet.ResNet18(10).Dispose();

    [Benchmark, BenchmarkCategory("ResNet-18 construction")]
    public void BuildResNet_WovenWithoutSites() => Unisolated.BenchResNet.ResNet18(10).Dispose();
}
