using System.Globalization;
using System.IO;

namespace ReproducibleBlock.Training;

/// <summary>Where a run stops: after batch <see cref="Batch"/> of epoch <see cref="Epoch"/>, both counted from 1.</summary>
internal readonly record struct TrainingPoint(int Epoch, int Batch)
{
    public override string ToString() => $"{Epoch}:{Batch}";
}

/// <summary>The example's command line.</summary>
internal sealed record Options(
    long? Seed,
    int Epochs,
    int Workers,
    bool Cuda,
    bool Deterministic,
    bool ExtractorDropout,
    string? MaskLog,
    TrainingPoint? StopAfter,
    string? CheckpointDirectory,
    string? ResumeDirectory)
{
    public const long DefaultSeed = 42;
    public const int DefaultEpochs = 3;
    public const int DefaultWorkers = 2;

    /// <summary>What <c>--help</c> prints, on standard output, and what a wrong option prints, on standard error.</summary>
    public const string Usage = """
        Usage: dotnet run --project examples/ReproducibleTraining -c Release [-- <options>]
           or: dotnet ReproducibleTraining.dll [<options>]

        Trains a small CNN on synthetic 3x12x12 images (random crop, flip and noise per sample, dropout, a shuffled
        DataLoader with parallel workers, SGD with momentum), reproducibly: the same seed gives the same weights with
        any number of workers, and a run stopped and resumed from a checkpoint ends with the uninterrupted run's weights.
        Every module of the network (the feature extractor, the classifier, the classifier's dropout) draws from a
        stream of its own that continues from call to call, so a dropout added to the feature extractor changes neither
        the classifier's masks nor the data order.

        A finished run prints three lines on standard output, each a name and an XXH64 (seed 0) in 16 hex digits:
          classifier-masks: every dropout mask the classifier drew, in order; a mask is one byte per element,
                            1 = kept, 0 = dropped, row-major ([batch, 144]: 4,608 bytes for a batch of 32)
          data-order:       every epoch's sample order as the sampler handed it to the DataLoader, each index an
                            int64 little-endian, epoch after epoch
          weights:          every parameter's bytes, in named_parameters() order; always the last line
        A run resumed from a checkpoint prints the uninterrupted run's three lines: the checkpoint carries the bytes.

        Options:
          --seed S                   root seed (default 42; with --resume, the checkpoint's)
          --epochs E                 epochs to train (default 3, of 6 batches each)
          --workers N                DataLoader workers, threads that load and augment samples (default 2)
          --device cpu|cuda          where the network trains (default cpu); augmentation is drawn on CPU
          --no-deterministic         leave libtorch's deterministic algorithms off (they are on by default)
          --extractor-dropout        add a Dropout(p=0.1) to the feature extractor (a resumed run needs the
                                     checkpoint's choice)
          --mask-log FILE            write a line per classifier dropout mask this process draws to FILE:
                                     "EPOCH:BATCH HASH", HASH the XXH64 of that mask's bytes (as above)
          --stop-after EPOCH:BATCH   stop after that batch (counted from 1) and write a checkpoint; none of the
                                     three lines
          --checkpoint DIR           where --stop-after writes the checkpoint (needed with it)
          --resume DIR               continue from the checkpoint in DIR to the end of --epochs
          -h, --help                 print this text and exit

        Exit status: 0 when done (trained, or stopped with a checkpoint written), 1 when a checkpoint cannot be
        read, 2 for a wrong option (or a --mask-log FILE that cannot be created, or --extractor-dropout that
        differs from the checkpoint's) or when --device cuda finds no CUDA.
        """;

    /// <summary>Reads the arguments.</summary>
    /// <returns>The options, or null when the program should stop with <paramref name="exitCode"/> (help or a wrong option).</returns>
    public static Options? Parse(string[] args, TextWriter output, TextWriter error, out int exitCode)
    {
        long? seed = null;
        int epochs = DefaultEpochs, workers = DefaultWorkers;
        bool cudaDevice = false, deterministic = true, extractorDropout = false;
        TrainingPoint? stopAfter = null;
        string? checkpoint = null, resume = null, maskLog = null;
        string? problem = null;
        for (int i = 0; i < args.Length && problem is null; i++)
        {
            string? value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "-h" or "--help":
                    output.WriteLine(Usage);
                    exitCode = 0;
                    return null;
                case "--seed" when long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out long s):
                    seed = s;
                    i++;
                    break;
                case "--seed":
                    problem = "--seed needs an integer after it";
                    break;
                case "--epochs" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int e) && e > 0:
                    epochs = e;
                    i++;
                    break;
                case "--epochs":
                    problem = "--epochs needs a positive integer after it";
                    break;
                case "--workers" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0:
                    workers = n;
                    i++;
                    break;
                case "--workers":
                    problem = "--workers needs a positive integer after it";
                    break;
                case "--device" when value is "cpu" or "cuda":
                    cudaDevice = value == "cuda";
                    i++;
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
                case "--mask-log" when value is not null && !value.StartsWith('-'):
                    maskLog = value;
                    i++;
                    break;
                case "--mask-log":
                    problem = "--mask-log needs a file after it";
                    break;
                case "--stop-after" when TryParsePoint(value, out TrainingPoint point):
                    stopAfter = point;
                    i++;
                    break;
                case "--stop-after":
                    problem = "--stop-after needs EPOCH:BATCH after it (both counted from 1, e.g. 2:3)";
                    break;
                case "--checkpoint" when value is not null && !value.StartsWith('-'):
                    checkpoint = value;
                    i++;
                    break;
                case "--checkpoint":
                    problem = "--checkpoint needs a directory after it";
                    break;
                case "--resume" when value is not null && !value.StartsWith('-'):
                    resume = value;
                    i++;
                    break;
                case "--resume":
                    problem = "--resume needs a directory after it";
                    break;
                default:
                    problem = $"unknown option '{args[i]}'";
                    break;
            }
        }
        if (problem is null && stopAfter is not null && checkpoint is null)
            problem = "--stop-after needs --checkpoint DIR, where the checkpoint goes";
        if (problem is null && checkpoint is not null && stopAfter is null)
            problem = "--checkpoint needs --stop-after EPOCH:BATCH, which says when to write it";
        if (problem is null && stopAfter is { } stop && stop.Epoch > epochs)
            problem = $"--stop-after {stop} is after the last epoch ({epochs})";
        if (problem is not null)
        {
            error.WriteLine($"ReproducibleTraining: {problem}.");
            error.WriteLine();
            error.WriteLine(Usage);
            exitCode = 2;
            return null;
        }
        exitCode = 0;
        return new Options(seed, epochs, workers, cudaDevice, deterministic, extractorDropout, maskLog, stopAfter, checkpoint, resume);
    }

    private static bool TryParsePoint(string? text, out TrainingPoint point)
    {
        point = default;
        string[] parts = text?.Split(':') ?? [];
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int epoch)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int batch)
            || epoch < 1 || batch < 1)
        {
            return false;
        }
        point = new TrainingPoint(epoch, batch);
        return true;
    }
}
