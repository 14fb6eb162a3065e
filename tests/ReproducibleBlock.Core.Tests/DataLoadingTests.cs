using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;

namespace ReproducibleBlock.Tests;

/// <summary>
/// With TorchSharp's real <c>DataLoader</c> on 1 to 8 workers: a <c>Dataset.GetTensor</c> that draws from its sample's
/// stream gives the same batches on any worker count; one that draws from torch's global generator, directly or
/// through a woven (here: continuing-block) module, is refused every time, naming the dataset or the module and the fix.
/// </summary>
[TestClass]
public sealed class DataLoadingTests : RuntimeTest
{
    private const int Samples = 16, BatchSize = 4;

    public enum Augmentation
    {
        /// <summary>Noise from the sample's stream: the right way.</summary>
        SampleStream,
        /// <summary>Noise from torch's global generator (torch.randn without generator:).</summary>
        GlobalGenerator,
        /// <summary>A module, woven as the assembly rule weaves it, whose forward draws (dropout in training mode).</summary>
        DrawingModule,
        /// <summary>The same module without the dropout: it draws nothing.</summary>
        QuietModule,
    }

    /// <summary>Stands in for a woven augmentation module: its forward runs in its continuing block.</summary>
    private sealed class Augmenter(bool draws)
    {
        public Tensor Forward(Tensor x)
        {
            using (Reproducible.ContinuingBlock(this))
                return draws ? nn.functional.dropout(x, 0.5, training: true) : x * 2;
        }
    }

    private sealed class AugmentedImages(ReproducibleSampler sampler, Augmentation augmentation) : utils.data.Dataset
    {
        private readonly Augmenter _augmenter = new(draws: augmentation == Augmentation.DrawingModule);

        public override long Count => Samples;

        public override Dictionary<string, Tensor> GetTensor(long index)
        {
            SampleStream sample = sampler.Resolve(index);
            Tensor x = torch.full(8, (float)index);
            Tensor augmented = augmentation switch
            {
                Augmentation.SampleStream => x + torch.randn(8, generator: sample.Generator),
                Augmentation.GlobalGenerator => x + torch.randn(8),
                _ => _augmenter.Forward(x),
            };
            return new() { ["x"] = augmented };
        }
    }

    /// <summary>One epoch's batches, loaded inside the training method's block, as a training loop does.</summary>
    private static List<float[]> Epoch(int workers, Augmentation augmentation)
    {
        Reproducible.SetSeed(11);
        var sampler = new ReproducibleSampler(Samples);
        using var dataset = new AugmentedImages(sampler, augmentation);
        using var loader = new TorchSharp.Modules.DataLoader(dataset, BatchSize, sampler, num_worker: workers, disposeDataset: false);
        var batches = new List<float[]>();
        using (Reproducible.Block(128))
        {
            foreach (Dictionary<string, Tensor> batch in loader)
                batches.Add(batch["x"].data<float>().ToArray());
        }
        return batches;
    }

    private static InvalidOperationException Refusal(Action load)
    {
        Exception thrown = Assert.Throws<Exception>(load);
        InvalidOperationException? refusal = thrown is AggregateException aggregate
            ? aggregate.Flatten().InnerExceptions.OfType<InvalidOperationException>().FirstOrDefault()
            : thrown as InvalidOperationException;
        Assert.IsNotNull(refusal, $"expected a refusal, got {thrown}");
        return refusal;
    }

    [TestMethod]
    public void SampleStreams_GiveTheSameBatchesOnAnyNumberOfWorkers()
    {
        List<float[]> one = Epoch(1, Augmentation.SampleStream);
        foreach (int workers in new[] { 2, 4, 8 })
        {
            List<float[]> many = Epoch(workers, Augmentation.SampleStream);
            for (int b = 0; b < one.Count; b++)
                CollectionAssert.AreEqual(one[b], many[b], $"batch {b} on {workers} workers");
        }
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    [DataRow(4)]
    [DataRow(8)]
    public void GetTensor_DrawingFromTheGlobalGenerator_IsRefused_NamingTheDataset(int workers)
    {
        InvalidOperationException refusal = Refusal(() => Epoch(workers, Augmentation.GlobalGenerator));
        StringAssert.Contains(refusal.Message, "AugmentedImages.GetTensor drew from it instead of from the sample's stream");
        StringAssert.Contains(refusal.Message, "torch.rand(..., generator: sample.Generator)");
        StringAssert.Contains(refusal.Message, "depends on the number of workers");
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    [DataRow(4)]
    [DataRow(8)]
    public void AWovenModuleThatDrawsInGetTensor_IsRefusedEveryTime(int workers)
    {
        InvalidOperationException refusal = Refusal(() => Epoch(workers, Augmentation.DrawingModule));
        StringAssert.Contains(refusal.Message, "The continuing block of a Augmenter drew random numbers from torch's global generator");
        StringAssert.Contains(refusal.Message, "draw from the sample's own stream");
        Assert.AreEqual(0, Reproducible.Capture().Data.Frames.Count, "the refused epoch left no block open");
    }

    [TestMethod]
    public void AWovenModuleThatDrawsNothingInGetTensor_GivesTheSameBatchesOnAnyNumberOfWorkers()
    {
        List<float[]> one = Epoch(1, Augmentation.QuietModule);
        foreach (int workers in new[] { 2, 4, 8 })
        {
            List<float[]> many = Epoch(workers, Augmentation.QuietModule);
            for (int b = 0; b < one.Count; b++)
                CollectionAssert.AreEqual(one[b], many[b], $"batch {b} on {workers} workers");
        }
    }

    [TestMethod]
    public void TrainingAfterABatchLoads_DrawsInItsStreamsAsUsual()
    {
        // The loading window ends with the batch: the training step's module calls (on the same flow) are not passive.
        Reproducible.SetSeed(11);
        var sampler = new ReproducibleSampler(Samples);
        using var dataset = new AugmentedImages(sampler, Augmentation.SampleStream);
        using var loader = new TorchSharp.Modules.DataLoader(dataset, BatchSize, sampler, num_worker: 4, disposeDataset: false);
        var model = new Augmenter(draws: true);
        var masks = new List<float[]>();
        using (Reproducible.Block(128))
        {
            foreach (Dictionary<string, Tensor> batch in loader)
                masks.Add(model.Forward(torch.ones(8)).data<float>().ToArray());
        }
        Assert.HasCount(Samples / BatchSize, masks);
        Assert.AreEqual(masks.Count, masks.Select(m => string.Join(",", m)).Distinct().Count(), "a fresh mask each step, from the module's stream");
    }

    [TestMethod]
    public void ASampleStreamsRandom_KeptAndUsedAfterTheThreadResolvedAnother_Throws()
    {
        Reproducible.SetSeed(11);
        var sampler = new ReproducibleSampler(Samples);
        using IEnumerator<long> epoch = sampler.GetEnumerator();
        epoch.MoveNext();
        epoch.MoveNext();
        Random first = sampler.Resolve(0).Random;
        first.Next();
        sampler.Resolve(1);
        var refused = Assert.ThrowsExactly<InvalidOperationException>(() => first.Next());
        StringAssert.Contains(refused.Message, "The stream of sample 0 is no longer current");
        Assert.ThrowsExactly<InvalidOperationException>(() => first.NextDouble());
        Assert.ThrowsExactly<InvalidOperationException>(() => first.NextBytes(new byte[3]));
    }

    [TestMethod]
    public void LinqCount_OnTheSampler_StartsNoEpoch()
    {
        Reproducible.SetSeed(11);
        var sampler = new ReproducibleSampler(Samples);
        Assert.AreEqual(Samples, sampler.Count());
        Assert.IsTrue(sampler.Any());
        Assert.AreEqual(0, sampler.EpochsStarted);
        // So a DataLoader that shuffles by itself (shuffle: true) meets the refusal at once, not epoch 0's streams forever.
        var refused = Assert.ThrowsExactly<InvalidOperationException>(() => sampler.Resolve(3));
        StringAssert.Contains(refused.Message, "No epoch has started");
        long[] copied = new long[Samples];
        ((System.Collections.ICollection)sampler).CopyTo(copied, 0);
        Assert.AreEqual(1, sampler.EpochsStarted, "copying the order, like enumerating, starts an epoch");
        CollectionAssert.AreEquivalent(Enumerable.Range(0, Samples).Select(i => (long)i).ToArray(), copied);
    }

    [TestMethod]
    [DataRow(false, DisplayName = "enumerated whole (foreach, ToList)")]
    [DataRow(true, DisplayName = "enumerated in part (Take)")]
    public void ADataLoaderThatShufflesByItself_WithASamplerEnumeratedByHand_IsRefusedInItsFirstBatch(bool inPart)
    {
        Reproducible.SetSeed(11);
        var sampler = new ReproducibleSampler(Samples);
        _ = inPart ? sampler.Take(5).ToList() : sampler.ToList(); // enumerated once by hand
        using var dataset = new AugmentedImages(sampler, Augmentation.SampleStream);
        using var loader = new TorchSharp.Modules.DataLoader(dataset, BatchSize, shuffle: true, seed: 3, num_worker: 2, disposeDataset: false);
        InvalidOperationException refusal = Refusal(() =>
        {
            foreach (Dictionary<string, Tensor> _ in loader) { }
        });
        StringAssert.Contains(refusal.Message, "the DataLoader does not take its order from this sampler");
        StringAssert.Contains(refusal.Message, "Pass the sampler to the DataLoader as its shuffler argument");
    }
}
