using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ReproducibleBlock.Demo;

/// <summary>What one epoch looked like: its mean loss, and fingerprints of its data order and first dropout mask.</summary>
public sealed record EpochResult(double Loss, string DataOrder, string DropoutMask);

/// <summary>
/// 256 small 3×8×8 noisy images in 4 classes, each class with its own mean colour. Drawn once, in a block of its own,
/// so every variant trains on the same data.
/// </summary>
public sealed class SyntheticData : torch.utils.data.Dataset
{
    private readonly Tensor _inputs;
    private readonly Tensor _labels;

    public SyntheticData(Device device)
    {
        using (Reproducible.Block(7))
        {
            using Tensor colours = randn(4, 3, 1, 1);
            Tensor labels = randint(0, 4, new long[] { 256 });
            using Tensor noise = randn(256, 3, 8, 8);
            using Tensor means = colours.index_select(0, labels);
            _inputs = (noise + means).to(device).DetachFromDisposeScope();
            _labels = labels.to(device).DetachFromDisposeScope();
        }
    }

    public override long Count => _inputs.shape[0];

    public override Dictionary<string, Tensor> GetTensor(long index) =>
        new() { ["input"] = _inputs[index], ["label"] = _labels[index] };
}

/// <summary>
/// Shuffles as PyTorch's RandomSampler does: a permutation from torch's default generator at each epoch. That is the
/// behaviour blocks must tame; TorchSharp's own shuffle uses System.Random(seed) and repeats one order every epoch.
/// </summary>
public sealed class TorchGeneratorShuffler(long count) : IEnumerable<long>
{
    public IEnumerator<long> GetEnumerator()
    {
        using Tensor order = randperm(count);
        return ((IEnumerable<long>)order.data<long>().ToArray()).GetEnumerator();
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>Remembers the order another shuffler gave, so the tables can show it.</summary>
public sealed class RecordingShuffler(IEnumerable<long> inner) : IEnumerable<long>
{
    public long[] LastOrder { get; private set; } = [];

    public IEnumerator<long> GetEnumerator()
    {
        LastOrder = inner.ToArray();
        return ((IEnumerable<long>)LastOrder).GetEnumerator();
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

public static class Trainer
{
    public const int Epochs = 6;

    /// <summary>Training as most code does it: data order and dropout follow whatever state the generators are in.</summary>
    public static List<EpochResult> WithoutBlocks(Network network, SyntheticData data, Device device, Action onEpoch) =>
        Run(network, data, new TorchGeneratorShuffler(data.Count), device, onEpoch);

    /// <summary>Training in a block of its own: data order and dropout masks depend only on the block seed.</summary>
    [ReproducibleBlock(128)]
    public static List<EpochResult> InBlock(Network network, SyntheticData data, Device device, Action onEpoch) =>
        Run(network, data, new BlockShuffler(data.Count), device, onEpoch);

    private static List<EpochResult> Run(Network network, SyntheticData data, IEnumerable<long> shuffler, Device device, Action onEpoch)
    {
        var recorder = new RecordingShuffler(shuffler);
        using var loader = new TorchSharp.Modules.DataLoader(data, batchSize: 32, shuffler: recorder, device: device);
        using var optimizer = optim.SGD(network.parameters(), learningRate: 0.1);
        network.train();
        var epochs = new List<EpochResult>();
        for (int epoch = 0; epoch < Epochs; epoch++)
        {
            double total = 0;
            int batches = 0;
            string? firstMask = null;
            foreach (Dictionary<string, Tensor> batch in loader)
            {
                using var scope = NewDisposeScope();
                optimizer.zero_grad();
                Tensor loss = functional.cross_entropy(network.forward(batch["input"]), batch["label"]);
                loss.backward();
                optimizer.step();
                firstMask ??= network.Classifier.LastDropoutMask;
                total += loss.item<float>();
                batches++;
            }
            epochs.Add(new EpochResult(total / batches, Fingerprint.Of(recorder.LastOrder), firstMask ?? "-"));
            onEpoch();
        }
        return epochs;
    }
}
