using ReproducibleBlock;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

// One line: each Module's constructor is a block, each part it builds a block within it, each forward its module's stream.
[assembly: ReproducibleConstructors(typeof(torch.nn.Module))]

(float[] Weights, int Steps) Train(int featureLayers, string? folder = null, int stopAfterEpoch = 0)
{
    var run = new TrainingRun(seed: 42, folder);          // seeds CPU, CUDA and Reproducible.Random; deterministic kernels
    ReproducibleSampler sampler = run.Sampler(64);        // a fresh data order each epoch, a random stream per sample
    using var data = new Images(sampler);
    using var model = new Model(featureLayers);
    using var optimizer = optim.SGD(model.parameters(), 0.05);
    run.Track(model).Track(optimizer).Resume();           // continues from the folder's newest checkpoint, if it has one
    using var loader = new TorchSharp.Modules.DataLoader(data, 16, sampler, disposeDataset: false);
    int steps = 0;
    foreach (long epoch in run.Epochs(3))
    {
        foreach (Dictionary<string, Tensor> batch in run.Batches(loader))
            using (NewDisposeScope())
            {
                optimizer.zero_grad();
                functional.cross_entropy(model.forward(batch["image"]), batch["label"]).backward();
                optimizer.step();
                steps++;
            }
        if (epoch + 1 == stopAfterEpoch)
        {
            run.Checkpoint();                             // taken when this epoch's body ends
            return ([], steps);
        }
    }
    return ([.. model.parameters().SelectMany(p => p.data<float>().ToArray())], steps);
}

float[] InitialClassifier(int featureLayers)
{
    _ = new TrainingRun(seed: 42);
    using var model = new Model(featureLayers);
    return [.. model.Classifier.parameters().SelectMany(p => p.data<float>().ToArray())];
}

bool sameStart = InitialClassifier(2).SequenceEqual(InitialClassifier(3));
string folder = Path.Combine(Path.GetTempPath(), "quickstart-" + Guid.NewGuid().ToString("N"));
float[] whole = Train(3).Weights;
Train(3, folder, stopAfterEpoch: 1);
var resumed = Train(3, folder);                           // a new run in the same folder: it resumes after epoch 1
bool sameEnd = resumed.Steps == 8 && resumed.Weights.SequenceEqual(whole);
Directory.Delete(folder, recursive: true);
Console.WriteLine($"The classifier starts from the same weights with 2 or 3 feature layers: {sameStart}");
Console.WriteLine($"Stopped after epoch 1, resumed for epochs 2 and 3, training ends with the uninterrupted run's weights: {sameEnd}");
return sameStart && sameEnd ? 0 : 1;

public sealed class Images(ReproducibleSampler sampler) : torch.utils.data.Dataset
{
    private readonly Tensor _images = randn(64, 3, 8, 8), _labels = randint(0, 10, [64]);
    public override long Count => 64;
    public override Dictionary<string, Tensor> GetTensor(long index)
    {
        SampleStream sample = sampler.Resolve(index);      // this sample's stream in this epoch, on any worker thread
        Tensor image = _images[index] + 0.1f * randn([3, 8, 8], generator: sample.Generator);
        return new() { ["image"] = image, ["label"] = _labels[index] };
    }
}

public sealed class Model : Module<Tensor, Tensor>
{
    public Model(int featureLayers) : base(nameof(Model))
    {
        Features = Sequential(Enumerable.Range(0, featureLayers).Select(i => Linear(i == 0 ? 3 * 8 * 8 : 32, 32)));
        Classifier = Sequential(Linear(32, 16), ReLU(), Dropout(0.5), Linear(16, 10));
        RegisterComponents();
    }
    public TorchSharp.Modules.Sequential Features { get; }
    public TorchSharp.Modules.Sequential Classifier { get; }
    public override Tensor forward(Tensor x) => Classifier.forward(Features.forward(x.flatten(1)));
}
