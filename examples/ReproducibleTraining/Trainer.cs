using System.Collections.Generic;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ReproducibleBlock.Training;

/// <summary>One epoch, or the part of it this process trained: batches, mean loss and accuracy on the augmented batches, and on the validation subset.</summary>
internal sealed class EpochSummary(int epoch)
{
    private double _lossSum;
    private long _correct, _seen;

    public int Epoch => epoch;

    public int Batches { get; private set; }

    public double Validation { get; set; } = double.NaN;

    public void Add((double Loss, long Correct, long Seen) step)
    {
        Batches++;
        _lossSum += step.Loss;
        _correct += step.Correct;
        _seen += step.Seen;
    }

    public override string ToString() =>
        $"epoch {Epoch}: {Batches} batches, loss {(Batches == 0 ? double.NaN : _lossSum / Batches):0.0000}, "
        + $"accuracy {(_seen == 0 ? double.NaN : (double)_correct / _seen):P1} (augmented), validation {Validation:P1}";
}

/// <summary>The training step, and accuracy on the un-augmented images.</summary>
internal static class Trainer
{
    /// <summary>The dataset's size: the default batch size, 32, does not divide it (6 batches of 32, then one of 8).</summary>
    public const int Samples = 200;

    /// <summary>The images each end-of-epoch step validates on, drawn at random.</summary>
    public const int ValidationSize = 40;

    public const double LearningRate = 0.05, Momentum = 0.9;

    /// <summary>One step of SGD on <paramref name="batch"/>.</summary>
    /// <returns>The batch's loss, and how many of its samples the model classified right.</returns>
    public static (double Loss, long Correct, long Seen) Step(SmallCnn model, SGD optimizer, Dictionary<string, Tensor> batch)
    {
        using (NewDisposeScope())
        {
            Tensor images = batch["image"], labels = batch["label"];
            optimizer.zero_grad();
            Tensor logits = model.forward(images);
            Tensor loss = nn.functional.cross_entropy(logits, labels);
            loss.backward();
            optimizer.step();
            return (loss.item<float>(), logits.argmax(1).eq(labels).sum().item<long>(), labels.shape[0]);
        }
    }

    /// <summary>
    /// The share of the un-augmented images the model classifies right (evaluation mode: no dropout, no draws), of all of
    /// them or of those <paramref name="indices"/> name.
    /// </summary>
    public static double Accuracy(SmallCnn model, SyntheticImages data, Device device, Tensor? indices = null)
    {
        model.eval();
        using (NewDisposeScope())
        using (no_grad())
        {
            (Tensor images, Tensor labels) = data.Clean;
            if (indices is not null)
                (images, labels) = (images.index_select(0, indices), labels.index_select(0, indices));
            Tensor predicted = model.forward(images.to(device)).argmax(1).cpu();
            return predicted.eq(labels).to_type(ScalarType.Float64).mean().item<double>();
        }
    }
}
