using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;

namespace ReproducibleBlock.Tests;

/// <summary>
/// What a trace must also carry (issue 21): the deterministic switch turned on after SetSeed, Restore and Resume, the
/// thread a woven call ran on when it was not the blocks' own, a Dataset.GetTensor that drew from the global generator,
/// and a module's continuing block named by its path in the model.
/// </summary>
public sealed partial class TraceTests
{
    private static string Ev(JsonElement e) => e.GetProperty("ev").GetString()!;

    private static IEnumerable<JsonElement> OfKind(IEnumerable<JsonElement> events, string ev) => events.Where(e => Ev(e) == ev);

    [TestMethod]
    public void TheDeterministicSwitch_TurnedOnAfterSetSeed_IsRecorded_AsIsTurningItOff()
    {
        BlockTrace.Start(_path);
        Reproducible.SetSeed(42); // the README's order: SetSeed, then the switch
        try
        {
            Reproducible.UseDeterministicAlgorithms();
            using (Reproducible.Block(3))
            {
            }
        }
        finally
        {
            Reproducible.UseDeterministicAlgorithms(false);
        }
        List<JsonElement> events = Events();
        Assert.AreEqual("False", events.Last(e => Ev(e) == "seed").GetProperty("environment").GetProperty("DeterministicAlgorithms").GetString());
        JsonElement[] changes = OfKind(events, "environment").ToArray();
        Assert.HasCount(2, changes, string.Join("\n", events));
        Assert.AreEqual("True", changes[0].GetProperty("changed").GetProperty("DeterministicAlgorithms").GetString());
        Assert.AreEqual("False", changes[1].GetProperty("changed").GetProperty("DeterministicAlgorithms").GetString());
        Assert.IsTrue(events.IndexOf(changes[0]) < events.FindIndex(e => Ev(e) == "enter"), "recorded when it happened, before the block");
    }

    [TestMethod]
    public void RestoreAndResume_WriteSeedEvents_WithWhereAndTheStateTheyPutBack()
    {
        Reproducible.SetSeed(5);
        Draws.Torch(2);
        RngSnapshot atTop = Reproducible.Capture();
        RngSnapshot inBlock;
        using (Reproducible.Block(7))
        {
            Draws.Torch(3);
            inBlock = Reproducible.Capture();
        }
        BlockTrace.Start(_path);
        Draws.Torch(4);
        Reproducible.Restore(atTop);
        string restoredCpu = CpuFingerprint();
        Reproducible.Resume(atTop); // captured where it is called: applied at once
        Reproducible.Resume(inBlock); // waits for block 7
        string resumedCpu;
        using (Reproducible.Block(7))
            resumedCpu = CpuFingerprint();

        List<JsonElement> events = Events();
        JsonElement[] seeds = OfKind(events, "seed").ToArray();
        Assert.HasCount(4, seeds, "the seeding in force when the trace started, Restore, Resume, and the Resume applied at block 7");
        Assert.IsFalse(seeds[0].TryGetProperty("restored", out _));
        Assert.AreEqual(("Restore", "", 5L), (seeds[1].GetProperty("restored").GetString(), seeds[1].GetProperty("path").GetString(), seeds[1].GetProperty("rootSeed").GetInt64()));
        Assert.AreEqual(restoredCpu, seeds[1].GetProperty("state").GetProperty("cpu").GetString());
        Assert.AreEqual(("Resume", ""), (seeds[2].GetProperty("restored").GetString(), seeds[2].GetProperty("path").GetString()));
        Assert.AreEqual(("Resume", "7#0"), (seeds[3].GetProperty("restored").GetString(), seeds[3].GetProperty("path").GetString()));
        Assert.AreEqual(resumedCpu, seeds[3].GetProperty("state").GetProperty("cpu").GetString());
        int enter = events.FindIndex(e => Ev(e) == "enter");
        Assert.AreEqual(enter + 1, events.IndexOf(seeds[3]), "the block's entry applied it: right after its enter event");
    }

    /// <summary>A model as the rule weaves it: a constructor block that registers the stream, two Sequentials, a dropout in each.</summary>
    private sealed class Net : nn.Module<Tensor, Tensor>
    {
        private readonly TorchSharp.Modules.Sequential _features, _classifier;

        public Net() : base(nameof(Net))
        {
            using (Reproducible.InstanceBlock(51, restoreOnExit: true))
            {
                _features = nn.Sequential(nn.Linear(8, 8), nn.Dropout(0.3));
                _classifier = nn.Sequential(nn.Identity(), nn.Dropout(0.5));
                RegisterComponents();
                WovenCode.RegisterStream(this); // what every woven constructor ends with
            }
        }

        public override Tensor forward(Tensor input)
        {
            using (Reproducible.ContinuingBlock(this))
                return _classifier.forward(_features.forward(input));
        }
    }

    [TestMethod]
    public void AModulesContinuingBlocks_AreNamedByTheirPathsInTheModel_NotByTheirKeys()
    {
        Reproducible.SetSeed(3);
        BlockTrace.Start(_path);
        using (var net = new Net())
        {
            net.train();
            using Tensor output = net.forward(ones(2, 8));
        }
        string[] names = [.. Events().Where(e => Ev(e) == "enter" && e.GetProperty("kind").GetString() == "continuing")
            .Select(e => e.GetProperty("name").GetString()!)];
        CollectionAssert.AreEqual(new[] { "Net", "Net._features.1", "Net._classifier.1" }, names);
    }

    private sealed class NoisyImages(ReproducibleSampler sampler) : utils.data.Dataset
    {
        public override long Count => 8;

        public override Dictionary<string, Tensor> GetTensor(long index)
        {
            sampler.Resolve(index);
            return new() { ["x"] = torch.full(4, (float)index) + torch.randn(4) }; // the global generator: refused
        }
    }

    [TestMethod]
    public void AGetTensorThatDrewFromTheGlobalGenerator_IsADrawEvent_NamingTheDataset()
    {
        Reproducible.SetSeed(11);
        BlockTrace.Start(_path);
        var sampler = new ReproducibleSampler(8);
        using var dataset = new NoisyImages(sampler);
        using var loader = new TorchSharp.Modules.DataLoader(dataset, 4, sampler, num_worker: 2, disposeDataset: false);
        Exception refused = Assert.Throws<Exception>(() =>
        {
            using (Reproducible.Block(128))
            {
                foreach (Dictionary<string, Tensor> batch in loader)
                    batch["x"].Dispose();
            }
        });
        JsonElement draw = Events().Single(e => Ev(e) == "draw");
        Assert.AreEqual(typeof(NoisyImages).FullName + ".GetTensor", draw.GetProperty("name").GetString(), refused.ToString());
        Assert.AreEqual(("DataLoading", "batch 0 of epoch 0", "128#0"),
            (draw.GetProperty("reason").GetString(), draw.GetProperty("detail").GetString(), draw.GetProperty("path").GetString()));
        Assert.IsTrue(draw.GetProperty("thread").GetInt32() > 0);
    }

    [TestMethod]
    public void AWovenCallOnAThreadThatDoesNotOwnTheBlocks_IsRecordedWithItsThread_AndOneThatDrewAsADraw()
    {
        Reproducible.SetSeed(9);
        BlockTrace.Start(_path);
        var quiet = new object();
        var noisy = new object();
        int worker = 0;
        using (Reproducible.Block(4))
        {
            // On a thread of its own: Task.Run's work can be inlined into Wait on this thread when the pool is slow to
            // start it (after other tests), and then it runs on the blocks' own flow, as it should, and is not passive.
            OnAnotherThread(() =>
            {
                worker = Environment.CurrentManagedThreadId;
                using (Reproducible.ContinuingBlock(quiet))
                {
                }
            }).Wait();
            Assert.ThrowsExactly<AggregateException>(() => OnAnotherThread(() =>
            {
                using (Reproducible.ContinuingBlock(noisy))
                    Draws.Torch(1);
            }).Wait());
        }
        List<JsonElement> events = Events();
        JsonElement passive = events.Single(e => Ev(e) == "passive");
        Assert.AreEqual(("4#0", "Fork"), (passive.GetProperty("path").GetString(), passive.GetProperty("reason").GetString()));
        Assert.AreEqual(worker, passive.GetProperty("thread").GetInt32());
        Assert.AreNotEqual(Environment.CurrentManagedThreadId, worker);
        StringAssert.StartsWith(passive.GetProperty("name").GetString(), "The continuing block of");
        JsonElement draw = events.Single(e => Ev(e) == "draw");
        Assert.AreEqual("Fork", draw.GetProperty("reason").GetString());
        CollectionAssert.AreEqual(new[] { "4#0" }, OfKind(events, "enter").Select(e => e.GetProperty("path").GetString()).ToArray(), "a passive call enters no block");
    }

    /// <summary>Runs <paramref name="action"/> on a new thread, never inlined into a wait on the calling one.</summary>
    private static Task OnAnotherThread(Action action) =>
        Task.Factory.StartNew(action, System.Threading.CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
}
