using System;
using System.Globalization;
using System.IO;
using TorchSharp;
using TorchSharp.Modules;

namespace ReproducibleBlock.Training;

/// <summary>
/// A run stopped mid-training, in a directory: the model's parameters, the optimizer's state (SGD's momentum buffers),
/// the generators (<see cref="Reproducible.Capture"/>), the sampler's position (the epoch's order and how much of it
/// was taken) and the point reached.
/// </summary>
internal sealed class Checkpoint
{
    private const string ModelFile = "model.bin", OptimizerFile = "optimizer.bin", RngFile = "rng.bin",
        SamplerFile = "sampler.bin", ProgressFile = "progress.txt";

    private Checkpoint(string directory, RngSnapshot snapshot, TrainingPoint reached)
    {
        Directory = directory;
        Snapshot = snapshot;
        Reached = reached;
    }

    public string Directory { get; }

    /// <summary>The generators as they were after the last batch trained; its <see cref="RngSnapshot.RootSeed"/> is the run's seed.</summary>
    public RngSnapshot Snapshot { get; }

    /// <summary>The last batch trained.</summary>
    public TrainingPoint Reached { get; }

    /// <summary>
    /// Writes a checkpoint. Call it between batches, where <paramref name="snapshot"/> was captured: inside the training
    /// block, so that a resumed run's <see cref="Reproducible.Resume"/> applies it when that block is entered again.
    /// </summary>
    public static void Write(string directory, SmallCnn model, SGD optimizer, RngSnapshot snapshot, ReproducibleSampler sampler, TrainingPoint reached)
    {
        System.IO.Directory.CreateDirectory(directory);
        using (var writer = new BinaryWriter(File.Create(Path.Combine(directory, ModelFile))))
            model.save(writer);
        using (var writer = new BinaryWriter(File.Create(Path.Combine(directory, OptimizerFile))))
            optimizer.save_state_dict(writer);
        File.WriteAllBytes(Path.Combine(directory, RngFile), snapshot.ToBytes());
        File.WriteAllBytes(Path.Combine(directory, SamplerFile), sampler.SaveState());
        File.WriteAllText(Path.Combine(directory, ProgressFile), $"epoch={reached.Epoch}\nbatch={reached.Batch}\n");
    }

    /// <summary>Reads the snapshot and the point reached, to know the seed before anything is built.</summary>
    /// <exception cref="IOException">A file is missing or unreadable.</exception>
    /// <exception cref="FormatException">A file is not what this example writes.</exception>
    public static Checkpoint Read(string directory)
    {
        RngSnapshot snapshot = RngSnapshot.FromBytes(File.ReadAllBytes(Path.Combine(directory, RngFile)));
        int epoch = 0, batch = 0;
        foreach (string line in File.ReadAllLines(Path.Combine(directory, ProgressFile)))
        {
            string[] parts = line.Split('=', 2);
            if (parts.Length == 2 && parts[0] == "epoch")
                epoch = int.Parse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture);
            else if (parts.Length == 2 && parts[0] == "batch")
                batch = int.Parse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture);
        }
        if (epoch < 1 || batch < 1)
            throw new FormatException($"{ProgressFile} in {directory} does not say which epoch and batch were reached.");
        return new Checkpoint(directory, snapshot, new TrainingPoint(epoch, batch));
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
