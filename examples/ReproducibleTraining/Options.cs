using System;
using System.Globalization;
using System.IO;

namespace ReproducibleBlock.Training;

/// <summary>
/// A point of the run, epochs counted from 1: <c>E:0</c> before the first batch of epoch E, <c>E:B</c> after its batch B,
/// <c>E:end</c> after its end-of-epoch step.
/// </summary>
/// <param name="Epoch">The epoch, from 1.</param>
/// <param name="Batch">Batches of the epoch trained (0 before the first); with <paramref name="EpochEnded"/>, all of them.</param>
/// <param name="EpochEnded">Whether the epoch's end-of-epoch step has run.</param>
internal readonly record struct TrainingPoint(int Epoch, int Batch, bool EpochEnded = false) : IComparable<TrainingPoint>
{
    public static TrainingPoint EndOf(int epoch) => new(epoch, 0, EpochEnded: true);

    public int CompareTo(TrainingPoint other) =>
        (Epoch, EpochEnded ? int.MaxValue : Batch).CompareTo((other.Epoch, other.EpochEnded ? int.MaxValue : other.Batch));

    public override string ToString() => EpochEnded ? $"{Epoch}:end" : $"{Epoch}:{Batch}";

    /// <summary>The point in words: "after epoch 2, batch 3", "before epoch 2's first batch", "after epoch 2's end-of-epoch step".</summary>
    public string Describe() =>
        EpochEnded ? $"after epoch {Epoch}'s end-of-epoch step" : Batch == 0 ? $"before epoch {Epoch}'s first batch" : $"after epoch {Epoch}, batch {Batch}";

    public static bool TryParse(string? text, out TrainingPoint point)
    {
        point = default;
        string[] parts = text?.Split(':') ?? [];
        if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int epoch) || epoch < 1)
            return false;
        if (parts[1] == "end")
        {
            point = EndOf(epoch);
            return true;
        }
        if (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int batch))
            return false;
        point = new TrainingPoint(epoch, batch);
        return true;
    }
}

/// <summary>The example's command line.</summary>
internal sealed record Options(
    long Seed,
    int Epochs,
    int Workers,
    int BatchSize,
    bool DropLast,
    bool Cuda,
    bool Deterministic,
    bool ExtractorDropout,
    string? MaskLog,
    TrainingPoint? StopAfter,
    string? CheckpointDirectory,
    int CheckpointEvery,
    string? ResumeDirectory,
    DataParallel? Ranks = null,
    string? SampleLog = null)
{
    public const long DefaultSeed = 42;
    public const int DefaultEpochs = 3;
    public const int DefaultWorkers = 2;
    public const int DefaultBatchSize = 32;

    /// <summary>
    /// This process's rank and the world size when the run is one of several processes (<c>--world-size</c> and
    /// <c>--rank</c>, or the launcher's <c>RANK</c> and <c>WORLD_SIZE</c>): the sampler then takes this rank's shard of
    /// every global batch of <see cref="BatchSize"/>. Null when neither says (one process, unsharded: the run as before).
    /// </summary>
    public DataParallel? Ranks { get; init; } = Ranks;

    /// <summary><c>--sample-log FILE</c>: a line per sample this process trains on (see <see cref="RunRecord.LogSamples"/>), or null.</summary>
    public string? SampleLog { get; init; } = SampleLog;

    /// <summary>Batches (global batches, with <see cref="Ranks"/>) in an epoch: the last one short, or left out with <see cref="DropLast"/>.</summary>
    public int BatchesPerEpoch => DropLast ? Trainer.Samples / BatchSize : (Trainer.Samples + BatchSize - 1) / BatchSize;

    /// <summary>The folder the run writes its checkpoints to and resumes from: <c>--checkpoint DIR</c>, else <c>--resume DIR</c>.</summary>
    public string? RunDirectory => CheckpointDirectory ?? ResumeDirectory;

    /// <summary>What <c>--help</c> prints, on standard output, and what a wrong option prints, on standard error.</summary>
    public const string Usage = """
        Usage: dotnet run --project examples/ReproducibleTraining -c Release [-- <options>]
           or: dotnet ReproducibleTraining.dll [<options>]

        Trains a small CNN on 200 synthetic 3x12x12 images (random crop, flip and noise per sample, dropout, a shuffled
        DataLoader with parallel workers, SGD with momentum, a random validation subset at the end of each epoch),
        reproducibly: the same seed gives the same weights with any number of workers, and a run stopped at any point
        and resumed from its checkpoint, in a new process, ends with the uninterrupted run's weights. Every module of the
        network (the feature extractor, the classifier, the classifier's dropout) draws from a stream of its own that
        continues from call to call, so a dropout added to the feature extractor changes neither the classifier's masks
        nor the data order.

        A finished run prints four lines on standard output, each a name and an XXH64 (seed 0) in 16 hex digits:
          classifier-masks: every dropout mask the classifier drew, in order; a mask is one byte per element,
                            1 = kept, 0 = dropped, row-major ([batch, 144]: 4,608 bytes for a batch of 32)
          data-order:       every epoch's sample order as the sampler handed it to the DataLoader, each index an
                            int64 little-endian, epoch after epoch
          epoch-end:        every permutation of the 200 sample indices the end-of-epoch step drew from the global
                            generator (its first 40 are the epoch's validation subset), each index an int64
                            little-endian, epoch after epoch
          weights:          every parameter's bytes, in named_parameters() order; always the last line
        A run resumed from a checkpoint prints the uninterrupted run's four lines: the checkpoint carries the bytes.

        Options:
          --seed S                   root seed (default 42; a resumed run needs the checkpoint's)
          --epochs E                 epochs to train (default 3)
          --workers N                DataLoader workers, threads that load and augment samples (default 2)
          --batch-size N             samples per batch, 1 to 200 (default 32: 7 batches per epoch, the last of 8)
          --drop-last                leave out each epoch's last batch when it is short (default 32: 6 batches)
          --device cpu|cuda          where the network trains (default cpu); augmentation is drawn on CPU
          --no-deterministic         leave libtorch's deterministic algorithms off (they are on by default)
          --extractor-dropout        add a Dropout(p=0.1) to the feature extractor
          --mask-log FILE            write a line per training step, with the classifier's dropout mask this process
                                     drew there, to FILE: "EPOCH:BATCH HASH", HASH the XXH64 of the mask's bytes
          --sample-log FILE          write a line per sample this process trains on to FILE: "STEP INDEX HASH", STEP
                                     the global step (global batches from the run's start, from 0), INDEX the sample's
                                     index, HASH the XXH64 of the augmented image's float32 bytes (little-endian)
          --world-size W             train as one of W processes (ranks) on shards of one data order: --batch-size is
                                     the global batch, W must divide it, and each rank's DataLoader batch is 1/W of it
                                     (default: the launcher's WORLD_SIZE, else one process, unsharded; --world-size 1
                                     is one rank of a sharded run, which resumes a checkpoint of several ranks)
          --rank R                   this process's rank, 0 to W-1 (default: the launcher's RANK, else 0). Ranks share
                                     --checkpoint DIR (one part per rank) and --resume DIR, on any W dividing the
                                     batch size (on another W, every rank resumes from rank 0's part); --stop-after
                                     and --checkpoint-every count global batches. Each rank trains its own copy of the
                                     model on its shards only (TorchSharp has no collective operations: no gradient
                                     averaging here), and its four lines are its own
          --stop-after POINT         stop at POINT, write a checkpoint and print none of the four lines. POINT is
                                     E:0 (before the first batch of epoch E), E:B (after batch B of epoch E, up to
                                     the epoch's last) or E:end (after epoch E's end-of-epoch step); epochs and
                                     batches counted from 1
          --checkpoint DIR           where checkpoints are written (needed by --stop-after and --checkpoint-every,
                                     unless --resume names the folder); it keeps the newest two
          --checkpoint-every N       also write a checkpoint every N batches, counted over the whole run; the run
                                     goes on to the end and prints what it prints without
          --resume DIR               continue from the newest checkpoint in DIR to the end of --epochs (or to
                                     --stop-after); later checkpoints go to DIR too (--checkpoint, when given,
                                     must name DIR). The checkpoint's --batch-size, --drop-last and
                                     --extractor-dropout must be given again
          -h, --help                 print this text and exit

        Exit status: 0 when done (trained, or stopped with a checkpoint written); 1 when --resume DIR holds no
        checkpoint or its newest cannot be resumed from (damaged, or written by another run: another seed, model or
        dataset; the message names the file and what differs); 2 for a wrong option (or a --mask-log FILE that cannot
        be created, a --batch-size, --drop-last or --extractor-dropout that differs from the checkpoint's, a
        --stop-after that is not after the checkpoint, a checkpoint past --epochs, a --world-size that does not divide
        --batch-size, or RANK and WORLD_SIZE that do not parse) or when --device cuda finds no CUDA.
        """;

    /// <summary>Reads the arguments.</summary>
    /// <returns>The options, or null when the program should stop with <paramref name="exitCode"/> (help or a wrong option).</returns>
    public static Options? Parse(string[] args, TextWriter output, TextWriter error, out int exitCode)
    {
        long seed = DefaultSeed;
        int epochs = DefaultEpochs, workers = DefaultWorkers, batchSize = DefaultBatchSize, checkpointEvery = 0;
        bool cudaDevice = false, deterministic = true, extractorDropout = false, dropLast = false;
        int? worldSize = null, rank = null;
        TrainingPoint? stopAfter = null;
        string? checkpoint = null, resume = null, maskLog = null, sampleLog = null;
        string? problem = null;
        for (int i = 0; i < args.Length && problem is null; i++)
        {
            string? value = i + 1 < args.Length ? args[i + 1] : null;
            bool isPath = value is not null && !value.StartsWith('-');
            switch (args[i])
            {
                case "-h" or "--help":
                    output.WriteLine(Usage);
                    exitCode = 0;
                    return null;
                case "--seed" when long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out long s):
                    (seed, i) = (s, i + 1);
                    break;
                case "--seed":
                    problem = "--seed needs an integer after it";
                    break;
                case "--epochs" when TryPositive(value, out int e):
                    (epochs, i) = (e, i + 1);
                    break;
                case "--epochs":
                    problem = "--epochs needs a positive integer after it";
                    break;
                case "--workers" when TryPositive(value, out int n):
                    (workers, i) = (n, i + 1);
                    break;
                case "--workers":
                    problem = "--workers needs a positive integer after it";
                    break;
                case "--batch-size" when TryPositive(value, out int b) && b <= Trainer.Samples:
                    (batchSize, i) = (b, i + 1);
                    break;
                case "--batch-size":
                    problem = $"--batch-size needs an integer from 1 to {Trainer.Samples} (the dataset's size) after it";
                    break;
                case "--drop-last":
                    dropLast = true;
                    break;
                case "--device" when value is "cpu" or "cuda":
                    (cudaDevice, i) = (value == "cuda", i + 1);
                    break;
                case "--device":
                    problem = "--device needs cpu or cuda after it";
                    break;
                case "--no-deterministic":
                    deterministic = false;
                    break;
                case "--extractor-dropout":
                    extractorDropout = true;
                    break;
                case "--mask-log" when isPath:
                    (maskLog, i) = (value, i + 1);
                    break;
                case "--mask-log":
                    problem = "--mask-log needs a file after it";
                    break;
                case "--sample-log" when isPath:
                    (sampleLog, i) = (value, i + 1);
                    break;
                case "--sample-log":
                    problem = "--sample-log needs a file after it";
                    break;
                case "--world-size" when TryPositive(value, out int w):
                    (worldSize, i) = (w, i + 1);
                    break;
                case "--world-size":
                    problem = "--world-size needs a positive integer after it";
                    break;
                case "--rank" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int r):
                    (rank, i) = (r, i + 1);
                    break;
                case "--rank":
                    problem = "--rank needs an integer of 0 or more after it";
                    break;
                case "--stop-after" when TrainingPoint.TryParse(value, out TrainingPoint point):
                    (stopAfter, i) = (point, i + 1);
                    break;
                case "--stop-after":
                    problem = "--stop-after needs E:0, E:B or E:end after it (epochs and batches counted from 1, e.g. 2:3)";
                    break;
                case "--checkpoint" when isPath:
                    (checkpoint, i) = (value, i + 1);
                    break;
                case "--checkpoint":
                    problem = "--checkpoint needs a directory after it";
                    break;
                case "--checkpoint-every" when TryPositive(value, out int every):
                    (checkpointEvery, i) = (every, i + 1);
                    break;
                case "--checkpoint-every":
                    problem = "--checkpoint-every needs a positive number of batches after it";
                    break;
                case "--resume" when isPath:
                    (resume, i) = (value, i + 1);
                    break;
                case "--resume":
                    problem = "--resume needs a directory after it";
                    break;
                default:
                    problem = $"unknown option '{args[i]}'";
                    break;
            }
        }
        DataParallel? ranks = null;
        if (problem is null)
            (ranks, problem) = RanksOf(worldSize, rank);
        var options = new Options(seed, epochs, workers, batchSize, dropLast, cudaDevice, deterministic, extractorDropout, maskLog,
            stopAfter, checkpoint, checkpointEvery, resume, ranks, sampleLog);
        problem ??= options.Problem();
        if (problem is not null)
        {
            error.WriteLine($"ReproducibleTraining: {problem}.");
            error.WriteLine();
            error.WriteLine(Usage);
            exitCode = 2;
            return null;
        }
        exitCode = 0;
        return options;
    }

    /// <summary>
    /// The rank and world size: <c>--world-size</c> and <c>--rank</c> when either is given (the other 1 or 0), else the
    /// launcher's environment variables (<see cref="DataParallel.FromEnvironment"/>); null when neither says.
    /// </summary>
    private static (DataParallel? Ranks, string? Problem) RanksOf(int? worldSize, int? rank)
    {
        if (worldSize is null && rank is null)
        {
            bool launched = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("RANK")) || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("WORLD_SIZE"));
            try
            {
                return (launched ? DataParallel.FromEnvironment() : null, null);
            }
            catch (FormatException e)
            {
                return (null, $"{e.Message.TrimEnd('.')} (or give --world-size W and --rank R)");
            }
        }
        int w = worldSize ?? 1, r = rank ?? 0;
        return r < w ? (new DataParallel(r, w), null) : (null, $"--rank {r} is not below --world-size {w}: ranks go from 0 to {w - 1}");
    }

    /// <summary>What is wrong with options that each parsed, together.</summary>
    private string? Problem()
    {
        if (RunDirectory is null && StopAfter is not null)
            return "--stop-after needs --checkpoint DIR, where the checkpoint goes";
        if (RunDirectory is null && CheckpointEvery > 0)
            return "--checkpoint-every needs --checkpoint DIR, where the checkpoints go";
        if (CheckpointDirectory is not null && StopAfter is null && CheckpointEvery == 0)
            return "--checkpoint needs --stop-after POINT or --checkpoint-every N, which say when to write one";
        if (CheckpointDirectory is not null && ResumeDirectory is not null
            && Path.GetFullPath(CheckpointDirectory).TrimEnd('/', '\\') != Path.GetFullPath(ResumeDirectory).TrimEnd('/', '\\'))
        {
            return "--resume and --checkpoint name two folders: a resumed run writes its checkpoints into the folder it resumed from";
        }
        if (StopAfter is { } stop && stop.Epoch > Epochs)
            return $"--stop-after {stop} is after the last epoch ({Epochs})";
        if (StopAfter is { EpochEnded: false } point && point.Batch > BatchesPerEpoch)
            return $"--stop-after {point}: an epoch has {BatchesPerEpoch} batches of {BatchSize}{(DropLast ? " with --drop-last" : "")}";
        if (Ranks is { } ranks && BatchSize % ranks.WorldSize != 0)
        {
            return $"--batch-size {BatchSize} is not a multiple of --world-size {ranks.WorldSize}: the batch size is the global batch, "
                + $"and each rank's share of it is one DataLoader batch of the same size. Use a batch size that {ranks.WorldSize} divides, "
                + $"or a world size that divides {BatchSize}";
        }
        if (Ranks is { } shards && StopAfter is { EpochEnded: false, Batch: > 0 } last && last.Batch == BatchesPerEpoch
            && Trainer.Samples % BatchSize is var rest and > 0 && !DropLast && shards.Rank >= rest)
        {
            // The library's limitation: a rank with no share of the partial last global batch gets no batch for it, so
            // no batch body where a checkpoint could be asked for.
            return $"--stop-after {last}: the epoch's last global batch has {rest} sample(s), none of them for {shards}, which cannot checkpoint inside "
                + $"that batch. Stop after batch {last.Batch - 1} or at {last.Epoch}:end";
        }
        return null;
    }

    private static bool TryPositive(string? text, out int value) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value > 0;
}
