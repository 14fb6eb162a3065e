using System.Globalization;
using System.IO.Hashing;
using ReproducibleBlock;
using ReproducibleTrainingApp;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

// dotnet run [-- --seed N] [--epochs N] [--workers N] [--stop-after EPOCH:BATCH --checkpoint DIR] [--resume DIR]
if (Options.Parse(args, out int exitCode) is not { } options)
    return exitCode; // --help: 0; a wrong option: 2

// The run owns the reproducibility: the seed, deterministic kernels, the sampler's order, the loop's position and every
// random stream. Build what a checkpoint holds, track it, resume, then loop over run.Epochs and run.Batches.
TrainingRun run = StartRun(options.Seed, options.CheckpointDirectory ?? options.ResumeDirectory);
ReproducibleSampler sampler = run.Sampler(SyntheticData.Samples); // a fresh order each epoch, a stream per sample
using SyntheticData data = SyntheticData.Generate(sampler);       // block 7
using Net model = Net.Create();                                   // block 1, each module's constructor a block inside it
using SGD optimizer = optim.SGD(model.parameters(), 0.05, momentum: 0.9);
using var loader = new DataLoader(data, 32, sampler, num_worker: options.Workers, disposeDataset: false);
run.Track(model).Track(optimizer);
if (options.ResumeDirectory is { } resumeFrom)
{
    if (!run.Resume())
    {
        Console.Error.WriteLine($"--resume {resumeFrom}: the folder holds no checkpoint.");
        return 1;
    }
    Console.Error.WriteLine($"Resumed from {run.LastCheckpoint}.");
}

if (Train())
{
    Console.Error.WriteLine($"Stopped after epoch {options.StopAfter!.Value.Epoch}, batch {options.StopAfter.Value.Batch}: checkpoint {run.LastCheckpoint}.");
    return 0;
}

// Accuracy on the un-augmented images (evaluation mode: no dropout, nothing drawn).
model.eval();
using (NewDisposeScope())
using (no_grad())
{
    (Tensor images, Tensor labels) = data.Clean;
    double accuracy = model.forward(images).argmax(1).eq(labels).to_type(ScalarType.Float64).mean().item<double>();
    Console.WriteLine($"accuracy: {(100 * accuracy).ToString("0.0", CultureInfo.InvariantCulture)}%");
}

// The result, always the last line: XXH64 (seed 0) of every parameter's raw bytes, in named_parameters() order. Two runs
// with the same seed print the same line; so does a run stopped with --stop-after and finished with --resume.
var hash = new XxHash64(0);
foreach ((string _, Parameter parameter) in model.named_parameters())
{
    using Tensor onCpu = parameter.detach().cpu().contiguous();
    hash.Append(onCpu.bytes);
}
Console.WriteLine($"weights: {hash.GetCurrentHashAsUInt64():x16}");
return 0;

// The training loop. Returns true when it stopped at --stop-after, with a checkpoint written.
bool Train()
{
    foreach (long epoch in run.Epochs(options.Epochs))
    {
        model.train();
        if (StopsAt((int)epoch + 1, 0))
            return true; // the checkpoint is of the point before the epoch's first batch
        double lossSum = 0;
        int batches = 0;
        foreach (Dictionary<string, Tensor> batch in run.Batches(loader))
        {
            using (NewDisposeScope())
            {
                optimizer.zero_grad();
                Tensor loss = nn.functional.cross_entropy(model.forward(batch["image"]), batch["label"]);
                loss.backward();
                optimizer.step();
                lossSum += loss.item<float>();
                batches++;
            }
            if (StopsAt((int)epoch + 1, (int)run.BatchInEpoch + 1))
                return true; // the last statement of the body: the checkpoint is of the point after this batch
        }
        Console.WriteLine($"epoch {epoch + 1}: {batches} batches, mean loss {(lossSum / Math.Max(batches, 1)).ToString("0.0000", CultureInfo.InvariantCulture)}");
    }
    return false;
}

// Asks the run for a checkpoint when the loop reaches --stop-after; it is written as the loop is left.
bool StopsAt(int epoch, int batch)
{
    if (options.StopAfter != (epoch, batch))
        return false;
    run.Checkpoint();
    return true;
}

// Seeds every generator and turns deterministic algorithms on, where the loaded libtorch lets us.
static TrainingRun StartRun(long seed, string? checkpoints)
{
    try
    {
        return new TrainingRun(seed, checkpoints);
    }
    catch (PlatformNotSupportedException e)
    {
        Console.Error.WriteLine($"Training without deterministic algorithms: {e.Message}");
        return new TrainingRun(seed, checkpoints, deterministic: false);
    }
}

/// <summary>The command line.</summary>
internal sealed record Options(long Seed, int Epochs, int Workers, (int Epoch, int Batch)? StopAfter, string? CheckpointDirectory, string? ResumeDirectory)
{
    private const string Usage = """
        Options:
          --seed N                the run's seed (default 42)
          --epochs N              epochs to train (default 3)
          --workers N             DataLoader threads (default 1): the result does not depend on it
          --stop-after E:B        stop after batch B of epoch E (from 1; B = 0: before its first batch) and write a checkpoint
          --checkpoint DIR        where checkpoints are written (needed by --stop-after unless --resume names one)
          --resume DIR            continue from the newest checkpoint in DIR
        """;

    public static Options? Parse(string[] args, out int exitCode)
    {
        exitCode = 2;
        var options = new Options(42, 3, 1, null, null, null);
        for (int i = 0; i < args.Length; i++)
        {
            string name = args[i];
            if (name is "-h" or "--help")
            {
                Console.WriteLine(Usage);
                exitCode = 0;
                return null;
            }
            string? value = i + 1 < args.Length ? args[++i] : null;
            Options? next = name switch
            {
                "--seed" when long.TryParse(value, CultureInfo.InvariantCulture, out long seed) => options with { Seed = seed },
                "--epochs" when int.TryParse(value, CultureInfo.InvariantCulture, out int epochs) && epochs > 0 => options with { Epochs = epochs },
                "--workers" when int.TryParse(value, CultureInfo.InvariantCulture, out int workers) && workers > 0 => options with { Workers = workers },
                "--stop-after" when ParsePoint(value) is { } point => options with { StopAfter = point },
                "--checkpoint" when !string.IsNullOrEmpty(value) => options with { CheckpointDirectory = value },
                "--resume" when !string.IsNullOrEmpty(value) => options with { ResumeDirectory = value },
                _ => null,
            };
            if (next is null)
                return Fail($"{name} {value}: not an option, or not a value it takes.");
            options = next;
        }
        if (options.StopAfter is not null && options.CheckpointDirectory is null && options.ResumeDirectory is null)
            return Fail("--stop-after needs --checkpoint DIR (or --resume DIR) to write its checkpoint to.");
        return options;
    }

    private static (int, int)? ParsePoint(string? text) =>
        text?.Split(':') is [var e, var b] && int.TryParse(e, CultureInfo.InvariantCulture, out int epoch) && epoch > 0
            && int.TryParse(b, CultureInfo.InvariantCulture, out int batch) && batch >= 0 ? (epoch, batch) : null;

    private static Options? Fail(string message)
    {
        Console.Error.WriteLine(message);
        Console.Error.WriteLine(Usage);
        return null;
    }
}
