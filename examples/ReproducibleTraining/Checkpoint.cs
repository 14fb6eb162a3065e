using System;
using System.Globalization;
using System.IO;
using TorchSharp;
using TorchSharp.Modules;

namespace ReproducibleBlock.Training;

/// <summary>
/// A run stopped mid-training, in a directory: the model's parameters, the optimizer's state (SGD's momentum buffers),
/// the generators (<see cref="Reproducible.Capture"/>), the sampler's position (the epoch's order and how much of it
/// was taken), the masks and orders recorded so far (<see cref="RunRecord"/>), the point reached and whether the
/// feature extractor has a dropout layer.
/// </summary>
internal sealed class Checkpoint
{
    private const string ModelFile = "model.bin", OptimizerFile = "optimizer.bin", RngFile = "rng.bin",
        SamplerFile = "sampler.bin", ProgressFile = "progress.txt";

    private Checkpoint(string directory, RngSnapshot snapshot, TrainingPoint reached, bool extractorDropout, RunRecord record)
    {
        Directory = directory;
        Snapshot = snapshot;
        Reached = reached;
        ExtractorDropout = extractorDropout;
        Record = record;
    }

    public string Directory { get; }

    /// <summary>The generators as they were after the last batch trained; its <see cref="RngSnapshot.RootSeed"/> is the run's seed.</summary>
    public RngSnapshot Snapshot { get; }

    /// <summary>The last batch trained.</summary>
    public TrainingPoint Reached { get; }

    /// <summary>Whether the stopped run's feature extractor had a dropout layer: the resumed run must have the same model.</summary>
    public bool ExtractorDropout { get; }

    /// <summary>The classifier's masks and the data orders the stopped run had recorded: the resumed run adds to them.</summary>
    public RunRecord Record { get; }

    /// <summary>How many samples the stopped run had trained, over all its epochs.</summary>
    public static long SamplesTrained(TrainingPoint reached) =>
        ((long)(reached.Epoch - 1) * Trainer.Samples) + Math.Min((long)reached.Batch * Trainer.BatchSize, Trainer.Samples);

    /// <summary>
    /// Writes a checkpoint. Call it between batches, where <paramref name="snapshot"/> was captured: inside the training
    /// block, so that a resumed run's <see cref="Reproducible.Resume"/> applies it when that block is entered again.
    /// </summary>
    public static void Write(
        string directory, SmallCnn model, SGD optimizer, RngSnapshot snapshot, ReproducibleSampler sampler, RunRecord record, TrainingPoint reached)
    {
        System.IO.Directory.CreateDirectory(directory);
        using (var writer = new BinaryWriter(File.Create(Path.Combine(directory, ModelFile))))
            model.save(writer);
        using (var writer = new BinaryWriter(File.Create(Path.Combine(directory, OptimizerFile))))
            optimizer.save_state_dict(writer);
        File.WriteAllBytes(Path.Combine(directory, RngFile), snapshot.ToBytes());
        File.WriteAllBytes(Path.Combine(directory, SamplerFile), sampler.SaveState());
        record.Write(directory);
        File.WriteAllText(Path.Combine(directory, ProgressFile),
            $"epoch={reached.Epoch}\nbatch={reached.Batch}\nextractor-dropout={(model.ExtractorDropout ? "true" : "false")}\n");
    }

    /// <summary>
    /// Reads the snapshot, the point reached and the model's shape, to know the seed before anything is built, and the
    /// recorded masks and orders, checked against the point reached.
    /// </summary>
    /// <exception cref="IOException">A file is missing or unreadable.</exception>
    /// <exception cref="FormatException">A file is not what this example writes, or is damaged.</exception>
    public static Checkpoint Read(string directory)
    {
        RngSnapshot snapshot = RngSnapshot.FromBytes(File.ReadAllBytes(Path.Combine(directory, RngFile)));
        int epoch = 0, batch = 0;
        bool? extractorDropout = null;
        foreach (string line in File.ReadAllLines(Path.Combine(directory, ProgressFile)))
        {
            string[] parts = line.Split('=', 2);
            if (parts.Length == 2 && parts[0] == "epoch")
                epoch = int.Parse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture);
            else if (parts.Length == 2 && parts[0] == "batch")
                batch = int.Parse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture);
            else if (parts.Length == 2 && parts[0] == "extractor-dropout" && parts[1] is "true" or "false")
                extractorDropout = parts[1] == "true";
        }
        if (epoch < 1 || batch < 1 || batch > Trainer.BatchesPerEpoch)
            throw new FormatException($"{ProgressFile} in {directory} does not say which epoch and batch were reached.");
        if (extractorDropout is null)
            throw new FormatException($"{ProgressFile} in {directory} does not say whether the feature extractor has a dropout layer.");
        var reached = new TrainingPoint(epoch, batch);
        RunRecord record = RunRecord.Read(directory, SamplesTrained(reached));
        return new Checkpoint(directory, snapshot, reached, extractorDropout.Value, record);
    }

    /// <summary>
    /// Loads the model, the optimizer and the sampler from the checkpoint. It does not touch the generators: the caller
    /// hands <see cref="Snapshot"/> to <see cref="Reproducible.Resume"/>.
    /// </summary>
    public void LoadInto(SmallCnn model, SGD optimizer, ReproducibleSampler sampler)
    {
        using (var reader = new BinaryReader(File.OpenRead(Path.Combine(Directory, ModelFile))))
            model.load(reader);

        // Outside any torch.NewDisposeScope(), on purpose. load_state_dict creates the momentum buffers; a dispose scope
        // open around it takes them as its own and disposes them when it ends, and the next optimizer.step() then fails
        // with "Tensor invalid -- empty handle". (ReproducibleTrainingExampleTests shows the trap.)
        using (var reader = new BinaryReader(File.OpenRead(Path.Combine(Directory, OptimizerFile))))
            optimizer.load_state_dict(reader);

        // The epoch's order and how much of it the DataLoader had taken: the next enumeration continues it.
        sampler.LoadState(File.ReadAllBytes(Path.Combine(Directory, SamplerFile)));
        if (sampler.EpochsStarted != Reached.Epoch || Trainer.BatchesIn(sampler.PositionInEpoch) != Reached.Batch)
        {
            throw new FormatException(
                $"The sampler state in {Directory} is at epoch {sampler.EpochsStarted}, sample {sampler.PositionInEpoch}; "
                + $"{ProgressFile} says epoch {Reached.Epoch}, batch {Reached.Batch}.");
        }
    }
}
