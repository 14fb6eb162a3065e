using System;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using WeavingFixture;

namespace ReproducibleBlock.Weaving.Tests;

/// <summary>
/// Woven code in the shapes ordinary training code takes: a woven factory called twice, <c>base.forward</c>, a
/// recursive <c>forward</c>, and inference from many threads, run on real TorchSharp (CPU).
/// </summary>
[TestClass]
public sealed class WovenTrustTests
{
    private static float[] Values(torch.Tensor tensor)
    {
        using (tensor)
            return tensor.data<float>().ToArray();
    }

    [TestMethod]
    public void AWovenFactoryCalledTwice_GivesTwoModelsTheirOwnMasks_AndTheirSnapshotRoundTrips()
    {
        Reproducible.SetSeed(42);
        using Student student = Models.Create(), teacher = Models.Create();
        CollectionAssert.AreEqual(student.Weights(), teacher.Weights(), "control: one block, one state: the same initial weights");
        using torch.Tensor x = torch.ones(4, 16);
        float[] s0 = Values(student.forward(x)), t0 = Values(teacher.forward(x));
        CollectionAssert.AreNotEqual(s0.Select(v => v == 0).ToArray(), t0.Select(v => v == 0).ToArray(), "different masks");

        byte[] checkpoint = Reproducible.Capture().ToBytes();
        float[] s1 = Values(student.forward(x)), t1 = Values(teacher.forward(x));
        Reproducible.Restore(RngSnapshot.FromBytes(checkpoint)); // 0.2: "records stream ... twice"
        CollectionAssert.AreEqual(s1, Values(student.forward(x)));
        CollectionAssert.AreEqual(t1, Values(teacher.forward(x)));
    }

    [TestMethod]
    public void BaseForward_ContinuesTheInstancesStream()
    {
        Reproducible.SetSeed(42);
        using var layer = new DerivedLayer();
        using torch.Tensor x = torch.ones(32);
        float[] first = Values(layer.forward(x)), second = Values(layer.forward(x));
        CollectionAssert.AreNotEqual(first[..32], first[32..], "0.2: the same mask before and inside base.forward");
        CollectionAssert.AreNotEqual(first, second);
    }

    [TestMethod]
    public void ARecursiveForward_DrawsAFreshMaskAtEveryDepth()
    {
        Reproducible.SetSeed(42);
        using var unrolled = new Unrolled();
        using torch.Tensor x = torch.ones(4, 32);
        float[] rows = Values(unrolled.forward(x));
        var distinct = Enumerable.Range(0, 4).Select(r => string.Join(",", rows.Skip(32 * r).Take(32))).Distinct().Count();
        Assert.AreEqual(4, distinct, "0.2: every depth drew the same row");
    }

    [TestMethod]
    public void InferenceFromManyThreads_InEval_WorksAsUnwovenCode_AndSamplingIsRefusedByName()
    {
        Reproducible.SetSeed(42);
        using var model = Models.Create();
        torch.Tensor[] inputs = [.. Enumerable.Range(0, 64).Select(i => torch.full(16, i / 64f))];
        using (torch.no_grad())
        {
            model.eval();
            float[][] sequential = [.. inputs.Select(i => Values(model.forward(i)))];
            var parallel = new float[64][];
            Parallel.For(0, 64, i => parallel[i] = Values(model.forward(inputs[i])));
            for (int i = 0; i < 64; i++)
                CollectionAssert.AreEqual(sequential[i], parallel[i], $"call {i}");

            // Sampling (dropout on in training mode) from two threads at once is refused, naming the woven member.
            model.train();
            InvalidOperationException? refusal = null;
            using (Reproducible.Block(1))
            {
                // A thread forked off this flow (it inherits the flow and this thread waits for it).
                var thread = new System.Threading.Thread(() =>
                {
                    try
                    {
                        Values(model.forward(inputs[0]));
                    }
                    catch (InvalidOperationException e)
                    {
                        refusal = e;
                    }
                });
                thread.Start();
                thread.Join();
            }
            Assert.IsNotNull(refusal);
            StringAssert.StartsWith(refusal.Message, "The continuing block of WeavingFixture.Student.forward (a Student) drew random numbers");
        }
    }
}
