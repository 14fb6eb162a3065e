using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.IO.Hashing;
using System.Linq;
using System.Text.RegularExpressions;
using ReproducibleBlock;
using ReproducibleBlock.Training;
using Spectre.Console;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

// dotnet run --project examples/ReproducibleTraining -c Release [-- <options>]; --help lists them.
Options? options = Options.Parse(args, Console.Out, Console.Error, out int exitCode);
if (options is null)
    return exitCode;

// Standard output carries four lines at the end of a finished run: "classifier-masks: ...", "data-order: ...",
// "epoch-end: ..." and "weights: ...", always last. Messages go to standard error, and a summary per epoch only on an
// interactive terminal: redirected, two runs print the same.
IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
bool interactive = !Console.IsOutputRedirected && !Console.IsErrorRedirected && console.Profile.Capabilities.Interactive;

if (options.Cuda && !cuda.is_available())
    return Fail(2, "--device cuda: CUDA is not available to TorchSharp here. Give the application a CUDA backend or run on CPU.");
Device device = options.Cuda ? CUDA : CPU;
bool deterministic = options.Deterministic;
if (deterministic && !DeterministicAlgorithmsWork())
    deterministic = false;
// A new run numbers its checkpoints from 0: in a folder of an earlier run's, they would be the oldest (and the first deleted).
// The ranks of one run share the folder and write with no barrier: a rank may find the other ranks' parts already there.
if (options.ResumeDirectory is null && options.CheckpointDirectory is { } folder && Directory.Exists(folder)
    && Directory.EnumerateFileSystemEntries(folder).Any(entry => !IsAnotherRanksPart(Path.GetFileName(entry))))
{
    return Fail(2, $"--checkpoint {folder}: the folder is not empty. A new run writes its checkpoints into an empty folder; "
        + $"resume from these with --resume {folder}.");
}
if (OpenLog("--mask-log", options.MaskLog, out StreamWriter? maskLog) is int maskLogFailed)
    return maskLogFailed;
using StreamWriter? maskLogFile = maskLog; // closed when the program ends
if (OpenLog("--sample-log", options.SampleLog, out StreamWriter? sampleLog) is int sampleLogFailed)
    return sampleLogFailed;
using StreamWriter? sampleLogFile = sampleLog;

// The run owns its reproducibility: the seed, the samplers, the loop's position and every random stream. Build what
// a checkpoint holds (the sampler, the data, the model, the optimizer), track it, resume, then loop over run.Epochs and
// run.Batches: a checkpoint taken anywhere in the loop resumes, in a new process on any number of workers, exactly.
// <training-recipe>
var run = new TrainingRun(options.Seed, options.RunDirectory, deterministic, options.Ranks) { CheckpointEvery = options.CheckpointEvery };
ReproducibleSampler sampler = options.Ranks is null
    ? run.Sampler(Trainer.Samples) // a fresh order each epoch, a stream per sample
    : run.Sampler(Trainer.Samples, globalBatchSize: options.BatchSize, dropLast: options.DropLast); // this rank's shards of it
using SyntheticImages data = SyntheticImages.Generate(Trainer.Samples, sampler); // block 7
using SmallCnn model = SmallCnn.Create(device, options.ExtractorDropout); // block 1, and a stream per module inside it
using SGD optimizer = optim.SGD(model.parameters(), Trainer.LearningRate, momentum: Trainer.Momentum);
var record = new RunRecord(run, maskLog, sampleLog); // what the run draws, for the lines at the end
model.ClassifierDropout.MaskDrawn = record.AddMask;
using var loader = new DataLoader(data, sampler.LocalBatchSize ?? options.BatchSize, record.Recording(sampler), device: device,
    num_worker: options.Workers, drop_last: options.DropLast && sampler.GlobalBatchSize is null, disposeDataset: false);
var settings = new RunSettings(options.BatchSize, options.DropLast, options.ExtractorDropout);
run.Track(model).Track(optimizer)
    .Track("settings", settings.Save, settings.Check) // refuses a checkpoint of another batch size or model
    .Track("record", record.Save, record.Load); // the draws so far: a resumed run's lines cover the whole run
if (options.ResumeDirectory is not null && ResumeFromCheckpoint() is int failed)
    return failed;

TrainingPoint? Train()
{
    foreach (long epoch in run.Epochs(options.Epochs))
    {
        var summary = new EpochSummary((int)epoch + 1);
        model.train();
        if (StopsAt(new TrainingPoint(summary.Epoch, 0)))
            return options.StopAfter;
        foreach (Dictionary<string, Tensor> batch in run.Batches(loader))
        {
            record.LogSamples(batch); // --sample-log: each sample at its global step
            summary.Add(Trainer.Step(model, optimizer, batch));
            if (StopsAt(new TrainingPoint(summary.Epoch, (int)run.BatchInEpoch + 1)))
                return options.StopAfter; // the last statement of the body: the checkpoint is of the point after this batch
        }

        // The end of the epoch draws from the global generator: a random validation subset.
        using Tensor permutation = randperm(Trainer.Samples);
        record.AddEpochEnd(permutation);
        using (Tensor subset = permutation.narrow(0, 0, Trainer.ValidationSize))
            summary.Validation = Trainer.Accuracy(model, data, device, subset);
        if (interactive)
            console.WriteLine(summary.ToString());
        if (StopsAt(TrainingPoint.EndOf(summary.Epoch)))
            return options.StopAfter;
    }
    return null;
}

bool StopsAt(TrainingPoint point)
{
    if (options.StopAfter != point)
        return false;
    run.Checkpoint(); // taken as the loop is left: after the batch's body, before the batch loop, after the epoch's body
    return true;
}
// </training-recipe>

// run.Resume(): from the newest checkpoint in --resume DIR. Returns the exit status when it cannot.
int? ResumeFromCheckpoint()
{
    try
    {
        return run.Resume() ? null : Fail(1, $"--resume {options.ResumeDirectory}: the folder holds no checkpoint.");
    }
    catch (Exception e) when (e is FormatException or InvalidDataException) // damaged, or written by another run
    {
        return Fail(1, $"--resume {options.ResumeDirectory}: {e.Message}");
    }
    catch (RunSettings.MismatchException e)
    {
        return Fail(2, $"--resume {options.ResumeDirectory}: {e.Message}.");
    }
}

if (run.IsResumed)
{
    TrainingPoint resumed = record.Resumed;
    if (resumed.Epoch > options.Epochs)
        return Fail(2, $"the checkpoint {run.LastCheckpoint} is at {resumed}, past --epochs {options.Epochs}.");
    if (options.StopAfter is { } stop && stop.CompareTo(resumed) <= 0)
        return Fail(2, $"--stop-after {stop} is not after the checkpoint's point, {resumed}.");
    Console.Error.WriteLine($"Resumed from {run.LastCheckpoint}, {resumed.Describe()} (seed {run.Seed}).");
}

if (Train() is { } stoppedAt)
{
    Console.Error.WriteLine($"Stopped {stoppedAt.Describe()}; checkpoint written to {run.LastCheckpoint}.");
    return 0;
}
if (interactive)
    console.MarkupLineInterpolated($"Accuracy on the un-augmented images: [bold]{Trainer.Accuracy(model, data, device):P1}[/]");

// What the run drew, over the whole run (a resumed run's record started from the checkpoint's): XXH64 (seed 0) of every
// classifier dropout mask's bytes (one byte per element, 1 = kept, 0 = dropped, row-major), of every epoch's sample
// order and of every permutation the end-of-epoch step drew (int64 little-endian indices); see RunRecord.
Console.Out.WriteLine($"classifier-masks: {record.MasksHash:x16}");
Console.Out.WriteLine($"data-order: {record.OrderHash:x16}");
Console.Out.WriteLine($"epoch-end: {record.EpochEndHash:x16}");

// The result: XXH64 (seed 0) of every parameter's raw bytes, in named_parameters() order. Always the last line.
var hash = new XxHash64(0);
foreach ((string _, Parameter parameter) in model.named_parameters())
{
    using Tensor onCpu = parameter.detach().cpu().contiguous();
    hash.Append(onCpu.bytes);
}
Console.Out.WriteLine($"weights: {hash.GetCurrentHashAsUInt64():x16}");
return 0;

// Opens --mask-log or --sample-log FILE (null when the option is absent). Returns the exit status when it cannot.
static int? OpenLog(string option, string? path, out StreamWriter? log)
{
    log = null;
    try
    {
        log = path is null ? null : new StreamWriter(path, append: false) { NewLine = "\n" };
        return null;
    }
    catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
    {
        return Fail(2, $"{option} {path}: cannot create it: {e.Message}");
    }
}

// Whether a file of the --checkpoint folder is another rank's part of a checkpoint of this world size (or its temporary
// file while that rank writes it): the ranks of one run start side by side into one folder.
bool IsAnotherRanksPart(string name) =>
    options.Ranks is { WorldSize: > 1 } ranks
    && Regex.Match(name, $@"^checkpoint-\d{{10}}\.step-\d{{10}}\.rank-(?<rank>\d+)-of-{ranks.WorldSize}\.rbck(\.tmp-.*)?$") is { Success: true } part
    && part.Groups["rank"].Value != ranks.Rank.ToString(CultureInfo.InvariantCulture);

static int Fail(int code, string message)
{
    Console.Error.WriteLine($"ReproducibleTraining: {message}");
    return code;
}

static bool DeterministicAlgorithmsWork()
{
    try
    {
        Reproducible.UseDeterministicAlgorithms(); // kernels with a deterministic implementation use it, the others throw
        return true;
    }
    catch (PlatformNotSupportedException e)
    {
        Console.Error.WriteLine($"ReproducibleTraining: training without deterministic algorithms: {e.Message}");
        return false;
    }
}
