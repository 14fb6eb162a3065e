using System;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.State;
using TorchSharp;
using static TorchSharp.torch;

namespace ReproducibleBlock.Tests;

/// <summary>
/// TorchSharp's own random modules (a <c>Dropout</c> in a <c>Sequential</c>) get continuing streams keyed by their path
/// under the nearest woven module: a dropout added to one part of a model leaves every mask of another part's dropouts
/// as it was; without the path streams (the control) it moves them.
/// </summary>
[TestClass]
public sealed class ModuleStreamTests : RuntimeTest
{
    /// <summary>A model as the rule weaves it, built from TorchSharp's containers: two Sequentials in one constructor.</summary>
    private sealed class Net : nn.Module<Tensor, Tensor>
    {
        private readonly TorchSharp.Modules.Sequential _features, _classifier;

        public Net(bool extraDropout, bool registered) : base(nameof(Net))
        {
            using (Reproducible.InstanceBlock(51, restoreOnExit: true))
            {
                _features = extraDropout ? nn.Sequential(nn.Identity(), nn.Dropout(0.3)) : nn.Sequential(nn.Identity());
                _classifier = nn.Sequential(nn.Identity(), nn.Dropout(0.5));
                RegisterComponents();
                if (registered)
                    WovenCode.RegisterStream(this); // what every woven constructor ends with
            }
        }

        public override Tensor forward(Tensor input)
        {
            using (Reproducible.ContinuingBlock(this))
                return _classifier.forward(_features.forward(input));
        }
    }

    private static float[][] ClassifierMasks(bool extraDropout, bool registered)
    {
        Reproducible.SetSeed(3);
        using var net = new Net(extraDropout, registered);
        net.train();
        // With the extra dropout on, the features' mask multiplies in: look at where the output is zero only where the
        // features kept everything (input ones, feature dropout at p 0.3 scales kept values by 1/0.7).
        return [.. Enumerable.Range(0, 4).Select(_ =>
        {
            using Tensor output = net.forward(ones(64));
            return output.data<float>().ToArray();
        })];
    }

    private static bool[] Zeros(float[] values) => [.. values.Select(v => v == 0)];

    [TestMethod]
    public void ADropoutAddedToTheFeatures_LeavesTheClassifiersMasks_AndWithoutPathStreamsMovesThem()
    {
        float[][] with = ClassifierMasks(extraDropout: false, registered: true);
        float[][] withExtra = ClassifierMasks(extraDropout: true, registered: true);
        for (int call = 0; call < with.Length; call++)
        {
            // Where the classifier dropped a unit, the output is zero in both; the extra feature dropout only adds zeros.
            bool[] classifierZeros = Zeros(with[call]);
            bool[] both = Zeros(withExtra[call]);
            for (int i = 0; i < classifierZeros.Length; i++)
                Assert.IsTrue(!classifierZeros[i] || both[i], $"call {call}, unit {i}: the classifier's mask is unchanged");
        }
        Assert.AreEqual(4, with.Select(m => string.Join(",", Zeros(m))).Distinct().Count(), "a fresh mask each call");

        // Control: the same models without path streams draw the classifier's masks after the features' draws.
        float[][] without = ClassifierMasks(extraDropout: false, registered: false);
        float[][] withoutExtra = ClassifierMasks(extraDropout: true, registered: false);
        bool moved = false;
        for (int call = 0; call < without.Length && !moved; call++)
        {
            bool[] classifierZeros = Zeros(without[call]);
            bool[] both = Zeros(withoutExtra[call]);
            moved = classifierZeros.Where((zero, i) => zero && !both[i]).Any();
        }
        Assert.IsTrue(moved, "without path streams, a dropout added to the features moves the classifier's masks");
    }

    [TestMethod]
    public void PathStreams_AreKeyedUnderTheWovenModule_AndRoundTripThroughSnapshots()
    {
        Reproducible.SetSeed(3);
        using var net = new Net(extraDropout: false, registered: true);
        (string name, nn.Module dropout) = net.named_modules().Single(m => m.name.EndsWith("classifier.1", StringComparison.Ordinal));
        ContinuingStream own = BlockRuntime.Shared.FindStreamForTests(net)!;
        ContinuingStream path = BlockRuntime.Shared.FindStreamForTests(dropout)!;
        Assert.AreEqual(name, path.ModulePath, "its path under the woven module, as named_modules names it");
        Assert.AreEqual(StreamModelTests.ChildKey(own.Key, BlockRuntime.PathSeed(name)), path.Key);

        net.train();
        using (net.forward(ones(64))) { }
        byte[] checkpoint = Reproducible.Capture().ToBytes();
        float[] next;
        using (Tensor output = net.forward(ones(64)))
            next = output.data<float>().ToArray();
        Reproducible.Restore(RngSnapshot.FromBytes(checkpoint));
        using (Tensor output = net.forward(ones(64)))
            CollectionAssert.AreEqual(next, output.data<float>().ToArray());
    }

    [TestMethod]
    public void AForwardThatThrows_LeavesItsHookedStreamOpen_AndTheEnclosingExitClosesIt()
    {
        Reproducible.SetSeed(3);
        using var net = new Net(extraDropout: false, registered: true);
        net.train();
        // Dropout refuses an integer tensor inside its forward: after its pre-hook entered its stream, before its post-hook.
        Assert.Throws<Exception>(() => net.forward(ones(new long[] { 64 }, ScalarType.Int64)));
        Assert.AreEqual(0, Reproducible.Capture().Data.Frames.Count, "the model's exit closed the dropout's stream");
        using (Tensor output = net.forward(ones(64)))
            Assert.AreEqual(64, output.NumberOfElements, "and the model goes on");
    }
}
