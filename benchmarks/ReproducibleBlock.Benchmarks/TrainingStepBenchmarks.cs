using BenchmarkDotNet.Attributes;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ReproducibleBlock.Benchmarks;

/// <summary>
/// One training step of a model shaped like examples/ReproducibleTraining's (forward, cross-entropy, backward, an SGD
/// step with momentum, on a batch of 32 3×12×12 images), with and without a continuing block around each module's
/// forward: the network, the feature extractor, the classifier and the classifier's dropout, four blocks per step,
/// as the example's assembly rule weaves them. This project has no assembly rule: the blocks are written by hand, as the
/// weaver writes them from 0.3 (each forward's output handed to <see cref="WovenCode.RecordOutput{T}"/>). And the same
/// step traced (to the null device), without and with modules' output tensors (REPRODUCIBLEBLOCK_TRACE_TENSORS=1).
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[MinColumn]
public class TrainingStepBenchmarks
{
    private StepNet _plain = null!, _continuing = null!;
    private SGD _plainOptimizer = null!, _continuingOptimizer = null!;
    private Tensor _images = null!, _labels = null!;

    [GlobalSetup]
    public void SetUp()
    {
        Reproducible.SetSeed(42);
        _images = torch.randn(32, 3, 12, 12);
        _labels = torch.randint(0, 4, [32]);
        _plain = new StepNet(continuing: false);
        _continuing = new StepNet(continuing: true);
        _plain.train();
        _continuing.train();
        _plainOptimizer = optim.SGD(_plain.parameters(), 0.05, momentum: 0.9);
        _continuingOptimizer = optim.SGD(_continuing.parameters(), 0.05, momentum: 0.9);
        // The streams exist and the momentum buffers too: what follows is the steady state.
        Step(_plain, _plainOptimizer);
        Step(_continuing, _continuingOptimizer);
    }

    [GlobalCleanup]
    public void CleanUp()
    {
        _plainOptimizer.Dispose();
        _continuingOptimizer.Dispose();
        _plain.Dispose();
        _continuing.Dispose();
        _images.Dispose();
        _labels.Dispose();
    }

    [Benchmark(Baseline = true)]
    public void TrainingStep_Plain() => Step(_plain, _plainOptimizer);

    [Benchmark]
    public void TrainingStep_ContinuingBlocks() => Step(_continuing, _continuingOptimizer);

    [Benchmark]
    public void TrainingStep_ContinuingBlocks_Traced() => Step(_continuing, _continuingOptimizer);

    [Benchmark]
    public void TrainingStep_ContinuingBlocks_TracedWithTensors() => Step(_continuing, _continuingOptimizer);

    // A targeted set-up replaces the general one for its benchmarks: each sets up as SetUp does, then starts the trace.
    [GlobalSetup(Targets = [nameof(TrainingStep_ContinuingBlocks_Traced)])]
    public void SetUpTraced()
    {
        SetUp();
        BlockTrace.Start(System.OperatingSystem.IsWindows() ? "NUL" : "/dev/null", tensors: false);
    }

    [GlobalSetup(Targets = [nameof(TrainingStep_ContinuingBlocks_TracedWithTensors)])]
    public void SetUpTracedWithTensors()
    {
        SetUp();
        BlockTrace.Start(System.OperatingSystem.IsWindows() ? "NUL" : "/dev/null", tensors: true);
    }

    [GlobalCleanup(Targets = [nameof(TrainingStep_ContinuingBlocks_Traced), nameof(TrainingStep_ContinuingBlocks_TracedWithTensors)])]
    public void CleanUpTraced()
    {
        BlockTrace.Stop();
        CleanUp();
    }

    private void Step(StepNet model, SGD optimizer)
    {
        using (NewDisposeScope())
        {
            optimizer.zero_grad();
            Tensor loss = nn.functional.cross_entropy(model.forward(_images), _labels);
            loss.backward();
            optimizer.step();
        }
    }
}

/// <summary>A module whose forward runs in its continuing block, or not: what the rule's ContinuingForward weaves, by hand.</summary>
internal abstract class StepModule(string name, bool continuing) : nn.Module<Tensor, Tensor>(name)
{
    protected bool Continuing { get; } = continuing;

    public sealed override Tensor forward(Tensor input)
    {
        if (!Continuing)
            return Forward(input);
        BlockScope scope = WovenCode.EnterContinuingBlock(this, GetType().FullName + ".forward");
        try
        {
            Tensor output = Forward(input);
            WovenCode.RecordOutput(scope, output);
            return output;
        }
        finally
        {
            ((System.IDisposable)scope).Dispose();
        }
    }

    protected abstract Tensor Forward(Tensor input);
}

/// <summary>The example's SmallCnn: a feature extractor, then a classifier.</summary>
internal sealed class StepNet : StepModule
{
    private readonly StepFeatures _features;
    private readonly StepClassifier _classifier;

    public StepNet(bool continuing) : base(nameof(StepNet), continuing)
    {
        _features = new StepFeatures(continuing);
        _classifier = new StepClassifier(continuing);
        RegisterComponents();
    }

    protected override Tensor Forward(Tensor input) => _classifier.forward(_features.forward(input));
}

/// <summary>Two 3×3 conv layers with max pooling: 3×12×12 in, 16×3×3 out.</summary>
internal sealed class StepFeatures : StepModule
{
    private readonly Sequential _layers;

    public StepFeatures(bool continuing) : base(nameof(StepFeatures), continuing)
    {
        _layers = nn.Sequential(
            ("conv1", nn.Conv2d(3, 8, 3, padding: 1)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool2d(2)),
            ("conv2", nn.Conv2d(8, 16, 3, padding: 1)), ("relu2", nn.ReLU()), ("pool2", nn.MaxPool2d(2)));
        RegisterComponents();
    }

    protected override Tensor Forward(Tensor input) => _layers.forward(input);
}

/// <summary>Flatten, dropout (a module of its own, as in the example), a hidden layer and the output layer.</summary>
internal sealed class StepClassifier : StepModule
{
    private readonly StepDropout _dropout;
    private readonly Linear _hidden;
    private readonly Linear _output;

    public StepClassifier(bool continuing) : base(nameof(StepClassifier), continuing)
    {
        _dropout = new StepDropout(continuing);
        _hidden = nn.Linear(16 * 3 * 3, 32);
        _output = nn.Linear(32, 4);
        RegisterComponents();
    }

    protected override Tensor Forward(Tensor input) =>
        _output.forward(nn.functional.relu(_hidden.forward(_dropout.forward(input.flatten(1)))));
}

/// <summary>Dropout with p = 0.3 drawn as the example's RecordedDropout draws it (without recording).</summary>
internal sealed class StepDropout(bool continuing) : StepModule(nameof(StepDropout), continuing)
{
    private const double P = 0.3;

    protected override Tensor Forward(Tensor input)
    {
        using Tensor mask = torch.empty_like(input).bernoulli_(1 - P);
        using Tensor scaled = mask.div(1 - P);
        return input.mul(scaled);
    }
}
