using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.State;
using static TorchSharp.torch;

namespace ReproducibleBlock.Tests;

/// <summary>
/// Woven calls from threads that do not own the open blocks (inference from many threads, work forked off the
/// training flow) run passively: they work as unwoven code does when they draw nothing, and a draw is refused with a
/// message naming the module. Hand-written blocks there are refused outright.
/// </summary>
[TestClass]
public sealed class ConcurrentCallTests : RuntimeTest
{
    /// <summary>A small model as the rule with ContinuingForward weaves it: its forward runs in its continuing block.</summary>
    private sealed class Net : IDisposable
    {
        private readonly TorchSharp.Modules.Linear _layer;

        public Net(bool dropout)
        {
            Dropout = dropout;
            using (Reproducible.InstanceBlock(31, restoreOnExit: true))
            {
                _layer = nn.Linear(32, 32);
                WovenCode.RegisterStream(this);
            }
        }

        public bool Dropout { get; }

        public float[] Forward(Tensor x)
        {
            using (Reproducible.ContinuingBlock(this))
            using (var scope = NewDisposeScope())
            {
                Tensor y = _layer.forward(x);
                if (Dropout)
                    y = nn.functional.dropout(y, 0.5, training: true);
                return y.data<float>().ToArray();
            }
        }

        public void Dispose() => _layer.Dispose();
    }

    /// <summary>
    /// Runs <paramref name="work"/> on a new thread that inherits this flow (as a task would) while this thread waits
    /// for it: a fork. (A task waited for might run inline on this thread instead, which is no fork at all.)
    /// </summary>
    private static Exception? OnAForkedThread(Action work)
    {
        Exception? thrown = null;
        var thread = new Thread(() =>
        {
            try
            {
                work();
            }
            catch (Exception e)
            {
                thrown = e;
            }
        });
        thread.Start();
        thread.Join();
        return thrown;
    }

    private static Tensor[] Inputs(int n) => [.. Enumerable.Range(0, n).Select(i => full(32, (float)i / n))];

    [TestMethod]
    [DataRow(false, DisplayName = "outside every block")]
    [DataRow(true, DisplayName = "while the main flow is inside a block")]
    public void InferenceFromManyThreads_ThatDrawsNothing_WorksAsUnwovenCode(bool insideABlock)
    {
        Reproducible.SetSeed(5);
        using var net = new Net(dropout: false);
        Tensor[] inputs = Inputs(64);
        using var _ = no_grad();
        float[][] sequential = [.. inputs.Select(net.Forward)];
        byte[] before = Draws.CpuState();
        var parallel = new float[64][];
        BlockScope? outer = insideABlock ? Reproducible.Block(1) : null;
        try
        {
            Parallel.For(0, 64, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => parallel[i] = net.Forward(inputs[i]));
        }
        finally
        {
            outer?.Dispose();
        }
        for (int i = 0; i < 64; i++)
            CollectionAssert.AreEqual(sequential[i], parallel[i], $"call {i}");
        if (!insideABlock)
            CollectionAssert.AreEqual(before, Draws.CpuState(), "nothing drew, and every switch was undone");
    }

    [TestMethod]
    public void ACallThatDrawsOnAnotherThreadWhileTheOwnersCallIsInside_IsRefusedNamingTheModule()
    {
        Reproducible.SetSeed(5);
        using var net = new Net(dropout: true);
        Tensor x = ones(32);
        Exception? refusal = null;
        using (Reproducible.ContinuingBlock(net)) // the owning flow is inside the module's block
        {
            var other = new Thread(() =>
            {
                try
                {
                    net.Forward(x);
                }
                catch (Exception e)
                {
                    refusal = e;
                }
            });
            using (ExecutionContext.SuppressFlow())
                other.Start(); // another flow, not a fork of this one
            other.Join();
        }
        Assert.IsInstanceOfType<InvalidOperationException>(refusal);
        StringAssert.StartsWith(refusal.Message, "The continuing block of a Net drew random numbers from torch's global generator");
        StringAssert.Contains(refusal.Message, "does not own the open blocks");
        StringAssert.Contains(refusal.Message, "reproducible only when they draw nothing");
    }

    [TestMethod]
    public void AWovenCallOnAThreadThatNeverSawSetSeed_RunsPassivelyOutsideEveryBlockToo()
    {
        // The level outside every block belongs to the flow that called SetSeed: 0.2 let another thread's model call
        // take the generators there (and the owning flow's next block then ran under it).
        Reproducible.SetSeed(5);
        using var quiet = new Net(dropout: false);
        using var noisy = new Net(dropout: true);
        Tensor x = ones(32);
        Exception? Run(Net net)
        {
            Exception? thrown = null;
            var other = new Thread(() =>
            {
                try
                {
                    net.Forward(x);
                }
                catch (Exception e)
                {
                    thrown = e;
                }
            });
            using (ExecutionContext.SuppressFlow())
                other.Start();
            other.Join();
            return thrown;
        }
        byte[] before = Draws.CpuState();
        Assert.IsNull(Run(quiet));
        CollectionAssert.AreEqual(before, Draws.CpuState());
        Assert.IsNull(BlockRuntime.Shared.FindStreamForTests(quiet)!.State, "its stream was not entered");
        StringAssert.Contains(Run(noisy)?.Message, "drew random numbers");
    }

    [TestMethod]
    public void AWovenCallForkedOffTheTrainingFlow_RunsPassively_AndIsRefusedWhenItDraws()
    {
        Reproducible.SetSeed(5);
        using var quiet = new Net(dropout: false);
        using var noisy = new Net(dropout: true);
        Tensor x = ones(32);
        using (Reproducible.Block(1))
        {
            long[] expected;
            using (Reproducible.Block(2))
                expected = Draws.Torch(3);
            byte[] before = Draws.CpuState();
            float[] output = [];
            Assert.IsNull(OnAForkedThread(() => output = quiet.Forward(x))); // the block's flow waits for it, synchronously
            CollectionAssert.AreEqual(before, Draws.CpuState(), "a passive call does not touch the generators");
            Assert.HasCount(32, output);
            using (Reproducible.Block(2))
                CollectionAssert.AreEqual(expected, Draws.Torch(3), "block 1's flow goes on as if the call had not happened");

            Exception? refusal = OnAForkedThread(() => noisy.Forward(x));
            Assert.IsInstanceOfType<InvalidOperationException>(refusal);
            StringAssert.Contains(refusal.Message, "on a thread forked off the flow that owns the open blocks");
        }
    }

    [TestMethod]
    public void AHandWrittenBlockOnAForkedThread_IsRefused()
    {
        // 0.2 let it in: it saw block 1 as its own and moved the generators under the flow that waits for it.
        Reproducible.SetSeed(5);
        using (Reproducible.Block(1))
        {
            Exception? refusal = OnAForkedThread(() => { using (Reproducible.Block(2)) { } });
            Assert.IsInstanceOfType<InvalidOperationException>(refusal);
            StringAssert.Contains(refusal.Message, "Block 2 cannot run on this thread: it was forked off the flow that owns block 1");
            StringAssert.Contains(refusal.Message, "draw from the sample's stream");
        }
    }

    [TestMethod]
    public async Task AnAwaitedTask_StartedInsideABlock_IsStillItsFlow()
    {
        // Control for the fork rule: when the flow awaits (instead of waiting synchronously), the task is the flow.
        Reproducible.SetSeed(5);
        long[] expected;
        using (Reproducible.Block(1))
        using (Reproducible.Block(2))
            expected = Draws.Torch(3);
        using (Reproducible.Block(1))
        {
            long[] drawn = await Task.Run(() =>
            {
                using (Reproducible.Block(2))
                    return Draws.Torch(3);
            });
            CollectionAssert.AreEqual(expected, drawn);
        }
    }
}
