using System;
using System.IO;
using System.IO.Hashing;
using ReproducibleBlock;
using ReproducibleBlock.Training;
using Spectre.Console;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

// dotnet run --project examples/ReproducibleTraining -c Release [-- --seed S] [--epochs E] [--workers N] [--device cpu|cuda]
//     [--no-deterministic] [--extractor-dropout] [--mask-log FILE] [--stop-after EPOCH:BATCH --checkpoint DIR] [--resume DIR] [--help]
Options? options = Options.Parse(args, Console.Out, Console.Error, out int exitCode);
if (options is null)
    return exitCode;

// Standard output carries three lines at the end of a finished run, "classifier-masks: ...", "data-order: ..." and
// "weights: ...", always last. Progress and tables go to standard error, and only on an interactive terminal:
// redirected, there are none, and two runs print the same.
IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
bool interactive = !Console.IsOutputRedirected && !Console.IsErrorRedirected && console.Profile.Capabilities.Interactive;

int Fail(int code, string message)
{
    Console.Error.WriteLine($"ReproducibleTraining: {message}");
    return code;
}

Device device;
if (options.Cuda)
{
    if (!cuda.is_available())
        return Fail(2, "--device cuda: CUDA is not available to TorchSharp here. Give the application a CUDA backend or run on CPU.");
    device = CUDA;
}
else
{
    device = CPU;
}

// 1. Deterministic algorithms: kernels that have a deterministic implementation use it, the others throw.
if (options.Deterministic)
{
    try
    {
        Reproducible.UseDeterministicAlgorithms();
    }
    catch (PlatformNotSupportedException e)
    {
        Console.Error.WriteLine($"ReproducibleTraining: training without deterministic algorithms: {e.Message}");
    }
}

// A resumed run reads its checkpoint first: the seed is the checkpoint's.
Checkpoint? checkpoint = null;
if (options.ResumeDirectory is { } resumeDirectory)
{
    try
    {
        checkpoint = Checkpoint.Read(resumeDirectory);
    }
    catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or ArgumentException or OverflowException)
    {
        return Fail(1, $"--resume {resumeDirectory}: cannot read the checkpoint: {e.Message}");
    }
    if (options.Seed is { } given && given != checkpoint.Snapshot.RootSeed)
        return Fail(2, $"--seed {given} differs from the seed of the checkpoint in {resumeDirectory} ({checkpoint.Snapshot.RootSeed}).");
    if (options.ExtractorDropout != checkpoint.ExtractorDropout)
    {
        return Fail(2, $"the checkpoint in {resumeDirectory} was trained {(checkpoint.ExtractorDropout ? "with" : "without")} --extractor-dropout: "
            + "resume with the same model.");
    }
    if (checkpoint.Reached.Epoch > options.Epochs)
        return Fail(2, $"the checkpoint in {resumeDirectory} is at {checkpoint.Reached}, past --epochs {options.Epochs}.");
}
if (options.StopAfter is { } stop)
{
    if (stop.Batch > Trainer.BatchesPerEpoch)
        return Fail(2, $"--stop-after {stop}: an epoch has {Trainer.BatchesPerEpoch} batches.");
    if (checkpoint is not null && (stop.Epoch, stop.Batch).CompareTo((checkpoint.Reached.Epoch, checkpoint.Reached.Batch)) <= 0)
        return Fail(2, $"--stop-after {stop} is not after the checkpoint's {checkpoint.Reached}.");
}

// What the run draws, for the classifier-masks and data-order lines: from the start, or from the checkpoint's record.
RunRecord runRecord = checkpoint?.Record ?? new RunRecord();
StreamWriter? maskLog = null;
if (options.MaskLog is { } maskLogPath)
{
    try
    {
        maskLog = new StreamWriter(maskLogPath, append: false) { NewLine = "\n" };
    }
    catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
    {
        return Fail(2, $"--mask-log {maskLogPath}: cannot create it: {e.Message}");
    }
}
using var maskLogFile = maskLog; // closed when the program ends
runRecord.MaskLog = maskLog;

// 2. One seed for everything, then blocks: the data, the model and the training each draw from a state of their own.
long seed = checkpoint?.Snapshot.RootSeed ?? options.Seed ?? Options.DefaultSeed;
Reproducible.SetSeed(seed, checkpoint?.Snapshot.Derivation ?? BlockDerivation.Keyed);

// 3. The sampler orders each epoch and gives every sample of it a stream of its own, whatever the number of workers.
var sampler = new ReproducibleSampler(Trainer.Samples);
using SyntheticImages data = SyntheticImages.Generate(Trainer.Samples, sampler); // block 7
using SmallCnn model = SmallCnn.Create(device, options.ExtractorDropout); // block 1, and a block per module inside it
model.ClassifierDropout.MaskDrawn = runRecord.AddMask;
using SGD optimizer = optim.SGD(model.parameters(), Trainer.LearningRate, momentum: Trainer.Momentum);
using var loader = new DataLoader(data, Trainer.BatchSize, runRecord.Recording(sampler), device: device, num_worker: options.Workers, disposeDataset: false);

// 4. Resuming: the model, the optimizer and the sampler are loaded here...
if (checkpoint is not null)
{
    try
    {
        checkpoint.LoadInto(model, optimizer, sampler);
    }
    catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or ArgumentException)
    {
        return Fail(1, $"--resume {checkpoint.Directory}: cannot load the checkpoint: {e.Message}");
    }

    // ...and the generators' snapshot is NOT passed into Train. It was captured inside Train's block 128; Resume, called
    // here at the top level, keeps it until block 128 is entered again (by the woven Train below) and restores it there,
    // exactly as the stopped run left it. Train's signature does not change for resuming.
    Reproducible.Resume(checkpoint.Snapshot);
    Console.Error.WriteLine($"Resumed from {checkpoint.Directory} after epoch {checkpoint.Reached.Epoch}, batch {checkpoint.Reached.Batch} (seed {seed}).");
}

var plan = new TrainingPlan(options.Epochs, options.StopAfter, options.CheckpointDirectory);
TrainingOutcome outcome;
if (interactive)
{
    TrainingPoint end = options.StopAfter ?? new TrainingPoint(options.Epochs, Trainer.BatchesPerEpoch);
    static double Done(TrainingPoint point) => ((point.Epoch - 1) * Trainer.BatchesPerEpoch) + point.Batch;
    outcome = console.Progress().AutoClear(true)
        .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
        .Start(context =>
        {
            ProgressTask task = context.AddTask($"seed {seed}, {options.Workers} worker(s)", maxValue: Done(end));
            task.Value = checkpoint is null ? 0 : Done(checkpoint.Reached);
            return Trainer.Train(model, optimizer, loader, sampler, runRecord, plan, (point, meanLoss) =>
            {
                task.Description = $"epoch {point.Epoch}, batch {point.Batch}: loss {meanLoss:0.0000}";
                task.Value = Done(point);
            });
        });
}
else
{
    outcome = Trainer.Train(model, optimizer, loader, sampler, runRecord, plan);
}
if (Reproducible.IsResumePending)
    return Fail(1, "the checkpoint's generator snapshot was never applied (block 128 was not entered again).");

if (interactive)
{
    var table = new Table().Title($"seed {seed}, {options.Workers} worker(s), device {device.type}")
        .AddColumn("epoch").AddColumn("batches trained").AddColumn("mean loss").AddColumn("accuracy (augmented)");
    foreach (EpochSummary epoch in outcome.Epochs)
        table.AddRow(epoch.Epoch.ToString(), epoch.Batches.ToString(), epoch.MeanLoss.ToString("0.0000"), epoch.Accuracy.ToString("P1"));
    console.Write(table);
}
if (outcome.StoppedAt is { } stoppedAt)
{
    Console.Error.WriteLine($"Stopped after epoch {stoppedAt.Epoch}, batch {stoppedAt.Batch}; checkpoint written to {options.CheckpointDirectory}.");
    return 0;
}
if (interactive)
    console.MarkupLineInterpolated($"Accuracy on the un-augmented images: [bold]{Trainer.Accuracy(model, data, device):P1}[/]");

// What the run drew, over the whole run (a resumed run's record started from the checkpoint's): XXH64 (seed 0) of every
// classifier dropout mask's bytes (one byte per element, 1 = kept, 0 = dropped, row-major; RunRecord) and of every
// epoch's sample order (int64 little-endian indices as the sampler handed them out, epoch after epoch).
Console.Out.WriteLine($"classifier-masks: {runRecord.MasksHash:x16}");
Console.Out.WriteLine($"data-order: {runRecord.OrderHash:x16}");

// The result: XXH64 (seed 0) of every parameter's raw bytes, in named_parameters() order. Always the last line.
var hash = new XxHash64(0);
foreach ((string _, Parameter parameter) in model.named_parameters())
{
    using Tensor onCpu = parameter.detach().cpu().contiguous();
    hash.Append(onCpu.bytes);
}
Console.Out.WriteLine($"weights: {hash.GetCurrentHashAsUInt64():x16}");
return 0;
