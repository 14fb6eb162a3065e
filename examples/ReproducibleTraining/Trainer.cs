using System;
using System.Collections.Generic;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ReproducibleBlock.Training;

/// <summary>How far to train, and where to stop early with a checkpoint.</summary>
internal sealed record TrainingPlan(int Epochs, TrainingPoint? StopAfter, string? CheckpointDirectory);

/// <summary>One epoch, or the part of it this process trained: batches, mean loss and accuracy on the augmented batches.</summary>
internal sealed record EpochSummary(int Epoch, int Batches, double MeanLoss, double Accuracy);

/// <summary>What <see cref="Trainer.Train"/> did: the epochs it trained, and where it stopped when it wrote a checkpoint.</summary>
internal sealed record TrainingOutcome(IReadOnlyList<EpochSummary> Epochs, TrainingPoint? StoppedAt);

internal static class Trainer
{
    public const int Samples = 192, BatchSize = 32;
    public const double LearningRate = 0.05, Momentum = 0.9;

    public static int BatchesPerEpoch => BatchesIn(Samples);

    /// <summary>How many batches hold <paramref name="samples"/> samples (the last one may be short).</summary>
    public static int BatchesIn(long samples) => (int)((samples + BatchSize - 1) / BatchSize);

    /// <summary>
    /// Trains to the end of <see cref="TrainingPlan.Epochs"/>, or until <see cref="TrainingPlan.StopAfter"/>, where it
    /// writes a checkpoint and returns. A block of its own (woven): each epoch's data order depends only on the root
    /// seed and this block's seed, not on what was drawn before the call. The dropout masks come from the modules' own
    /// continuing streams (the assembly rule), which no other module's draws and nothing in this block shift.
    /// </summary>
    /// <param name="record">Receives every index the sampler hands out (through the loader's shuffler) and is told
    /// which batch is being trained, for the mask log; the classifier's dropout adds its masks to it.</param>
    /// <remarks>
    /// There is no resume parameter. A resumed run puts the model, optimizer and sampler back before the call, and hands
    /// the generators' snapshot to <see cref="Reproducible.Resume"/> at the top level: the snapshot was captured inside
    /// this block, so it applies the moment this method enters block 128 again. The sampler then continues the epoch it
    /// stopped in, and this method starts counting from that epoch.
    /// </remarks>
    [ReproducibleBlock(128)]
    public static TrainingOutcome Train(
        SmallCnn model,
        SGD optimizer,
        DataLoader loader,
        ReproducibleSampler sampler,
        RunRecord record,
        TrainingPlan plan,
        Action<TrainingPoint, double>? afterBatch = null)
    {
        model.train();
        var epochs = new List<EpochSummary>();

        // The epoch the sampler's next enumeration gives, counted from 1: after LoadState, the unfinished epoch it stopped in.
        int first = (int)sampler.NextEpoch + 1;
        for (int epoch = first; epoch <= plan.Epochs; epoch++)
        {
            double lossSum = 0;
            long correct = 0, seen = 0;
            int batches = 0;
            foreach (Dictionary<string, Tensor> batch in loader) // the DataLoader disposes each batch's tensors
            {
                // The sampler has handed out this batch's indices: its position says which batch this is.
                var reached = new TrainingPoint(epoch, BatchesIn(sampler.PositionInEpoch));
                record.Step = reached;
                using (NewDisposeScope())
                {
                    Tensor images = batch["image"], labels = batch["label"];
                    optimizer.zero_grad();
                    Tensor logits = model.forward(images);
                    Tensor loss = nn.functional.cross_entropy(logits, labels);
                    loss.backward();
                    optimizer.step();
                    lossSum += loss.item<float>();
                    correct += logits.argmax(1).eq(labels).sum().item<long>();
                    seen += labels.shape[0];
                    batches++;
                }
                afterBatch?.Invoke(reached, lossSum / batches);
                if (reached == plan.StopAfter)
                {
                    epochs.Add(new EpochSummary(epoch, batches, lossSum / batches, (double)correct / seen));
                    // Captured here, inside block 128: Reproducible.Resume in the resumed process applies it when
                    // block 128 is entered again, as if this call had never returned.
                    Checkpoint.Write(plan.CheckpointDirectory!, model, optimizer, Reproducible.Capture(), sampler, record, reached);
                    return new TrainingOutcome(epochs, reached);
                }
            }
            epochs.Add(new EpochSummary(epoch, batches, batches == 0 ? double.NaN : lossSum / batches, seen == 0 ? double.NaN : (double)correct / seen));
        }
        return new TrainingOutcome(epochs, null);
    }

    /// <summary>The share of the un-augmented images the model classifies right (evaluation mode: no dropout, no draws).</summary>
    public static double Accuracy(SmallCnn model, SyntheticImages data, Device device)
    {
        model.eval();
        using (NewDisposeScope())
        using (no_grad())
        {
            (Tensor images, Tensor labels) = data.Clean;
            Tensor predicted = model.forward(images.to(device)).argmax(1).cpu();
            return predicted.eq(labels).to_type(ScalarType.Float64).mean().item<double>();
        }
    }
}
