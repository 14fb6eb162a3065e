using System;
using System.Collections.Generic;
using System.IO.Hashing;
using System.Linq;
using System.Text.Json;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.Tracing;
using TorchSharp;
using WeavingFixture;
using static TorchSharp.torch;

namespace ReproducibleBlock.Tests;

/// <summary>
/// Format 2's numeric trace (issue 21): with tensors traced, the exit of a module's continuing block carries the XXH3 of
/// its output tensors (a woven forward through <see cref="WovenCode.RecordOutput{T}"/>, TorchSharp's random modules
/// through a typed forward hook); without, nothing changes. And each woven assembly's identity before its first block.
/// </summary>
public sealed partial class TraceTests
{
    /// <summary>The model of <see cref="Net"/>, with the forward the weaver weaves: its output handed over before leaving.</summary>
    private sealed class OutputNet : nn.Module<Tensor, Tensor>
    {
        private readonly TorchSharp.Modules.Sequential _features;

        public OutputNet() : base(nameof(OutputNet))
        {
            using (Reproducible.InstanceBlock(52, restoreOnExit: true))
            {
                _features = nn.Sequential(nn.Linear(8, 8), nn.Dropout(0.3));
                RegisterComponents();
                WovenCode.RegisterStream(this);
            }
        }

        public TorchSharp.Modules.Dropout Dropout => (TorchSharp.Modules.Dropout)_features[1];

        public override Tensor forward(Tensor input)
        {
            BlockScope scope = WovenCode.EnterContinuingBlock(this, "ReproducibleBlock.Tests.TraceTests+OutputNet.forward");
            try
            {
                Tensor result = _features.forward(input);
                WovenCode.RecordOutput(scope, result);
                return result;
            }
            finally
            {
                ((IDisposable)scope).Dispose();
            }
        }
    }

    private static string TensorHash(params Tensor[] tensors)
    {
        var hash = new XxHash3();
        foreach (Tensor tensor in tensors)
            hash.Append(tensor.contiguous().bytes);
        return Hex(hash.GetCurrentHashAsUInt64());
    }

    private static Dictionary<string, string?> OutputsByName(IEnumerable<JsonElement> events) =>
        events.Where(e => e.GetProperty("ev").GetString() == "exit")
            .ToDictionary(e => e.GetProperty("name").GetString()!, e => e.TryGetProperty("output", out JsonElement output) ? output.GetString() : null);

    [TestMethod]
    public void WithTensorsTraced_AModulesExitCarriesItsOutputsFingerprint_AndARandomModulesToo()
    {
        Reproducible.SetSeed(3);
        BlockTrace.Start(_path, tensors: true);
        Assert.IsTrue(BlockTrace.TracesTensors);
        using var net = new OutputNet();
        net.train();
        Tensor? dropped = null;
        net.Dropout.register_forward_hook((_, _, output) => { dropped = output.clone(); return output; });
        using Tensor output = net.forward(ones(2, 8));

        List<JsonElement> events = Events();
        Assert.IsTrue(events[0].GetProperty("tensors").GetBoolean());
        Dictionary<string, string?> outputs = OutputsByName(events);
        Assert.AreEqual(TensorHash(output), outputs["OutputNet"]);
        Assert.AreEqual(TensorHash(dropped!), outputs["OutputNet._features.1"], "the dropout's output, seen by its typed hook");
        Assert.AreEqual(2, outputs.Values.Count(v => v is not null), "only the modules' calls carry outputs, not the constructor's block");
        dropped!.Dispose();
    }

    [TestMethod]
    public void WithTensorsNotTraced_NoExitCarriesAnOutput_AndTheOutputsAreWhatTheyAreUntraced()
    {
        float[] Run(bool trace)
        {
            Reproducible.SetSeed(3);
            if (trace)
                BlockTrace.Start(_path, tensors: false);
            using var net = new OutputNet();
            net.train();
            using Tensor output = net.forward(ones(2, 8));
            return output.data<float>().ToArray();
        }
        float[] untraced = Run(trace: false);
        float[] traced = Run(trace: true);
        List<JsonElement> events = Events();
        Assert.IsFalse(events[0].GetProperty("tensors").GetBoolean());
        Assert.IsTrue(OutputsByName(events).Values.All(v => v is null));
        CollectionAssert.AreEqual(untraced, traced);

        float[] tracedWithTensors;
        {
            Reproducible.SetSeed(3);
            BlockTrace.Start(_path, tensors: true);
            using var net = new OutputNet();
            net.train();
            using Tensor output = net.forward(ones(2, 8));
            tracedWithTensors = output.data<float>().ToArray();
            BlockTrace.Stop();
        }
        CollectionAssert.AreEqual(untraced, tracedWithTensors, "the hooks hand the output on unchanged");
    }

    [TestMethod]
    public void TheTensorsVariable_AddsOutputsToATraceStartedWithoutSayingSo()
    {
        Environment.SetEnvironmentVariable(BlockTrace.TensorsEnvironmentVariable, "1");
        try
        {
            BlockTrace.Start(_path);
            Assert.IsTrue(BlockTrace.TracesTensors);
            BlockTrace.Stop();
            Environment.SetEnvironmentVariable(BlockTrace.TensorsEnvironmentVariable, "0");
            BlockTrace.Start(_path);
            Assert.IsFalse(BlockTrace.TracesTensors);
        }
        finally
        {
            Environment.SetEnvironmentVariable(BlockTrace.TensorsEnvironmentVariable, null);
        }
    }

    [TestMethod]
    public void ATorchThreadCountChangedAfterSetSeed_IsRecordedBeforeTheNextOutput()
    {
        int threads = torch.get_num_threads();
        Reproducible.SetSeed(3);
        BlockTrace.Start(_path, tensors: true);
        using var net = new OutputNet();
        try
        {
            torch.set_num_threads(threads == 1 ? 2 : 1);
            using Tensor output = net.forward(ones(2, 8));
        }
        finally
        {
            torch.set_num_threads(threads);
        }
        List<JsonElement> events = Events();
        int changed = events.FindIndex(e => e.GetProperty("ev").GetString() == "environment");
        Assert.IsTrue(changed > 0, string.Join("\n", events));
        Assert.AreEqual(threads == 1 ? "2" : "1", events[changed].GetProperty("changed").GetProperty("TorchThreads").GetString());
        Assert.IsTrue(changed < events.FindLastIndex(e => e.GetProperty("ev").GetString() == "exit"), "before the output it may explain");
    }

    [TestMethod]
    public void TensorFingerprint_CoversEveryTensorOfTuplesAndCollectionsInOrder_AndNothingElse()
    {
        using Tensor a = tensor(new float[] { 1, 2 }), b = tensor(new long[] { 7 });
        string both = TensorHash(a, b);
        Assert.AreEqual(both, Hex(TensorFingerprint.Of((a, b))!.Value));
        Assert.AreEqual(both, Hex(TensorFingerprint.Of(Tuple.Create(a, (object)"label", b))!.Value));
        Assert.AreEqual(both, Hex(TensorFingerprint.Of(new List<Tensor> { a, b })!.Value));
        Assert.AreEqual(both, Hex(TensorFingerprint.Of((a, ((Tensor?)null, new[] { b })))!.Value));
        Assert.AreNotEqual(both, Hex(TensorFingerprint.Of((b, a))!.Value), "in order");
        Assert.IsNull(TensorFingerprint.Of(null));
        Assert.IsNull(TensorFingerprint.Of(42));
        Assert.IsNull(TensorFingerprint.Of("a string is no collection of tensors"));
    }

    [TestMethod]
    public void AWovenAssembly_IsNamedOnceBeforeItsFirstBlock_WithItsMvid_AndItsModulesByTheirPaths()
    {
        Reproducible.SetSeed(1);
        BlockTrace.Start(_path);
        using (var model = new ToyModel(1))
        {
            using Tensor output = model.forward(ones(1, 3, 3, 5)); // one 2x2 convolution to 8 x 2 x 4: the classifier's 64 inputs
        }
        List<JsonElement> events = Events();
        JsonElement code = events.Single(e => e.GetProperty("ev").GetString() == "code");
        System.Reflection.Assembly fixture = typeof(ToyModel).Assembly;
        Assert.AreEqual(fixture.GetName().Name, code.GetProperty("assembly").GetString());
        Assert.AreEqual(fixture.ManifestModule.ModuleVersionId, Guid.Parse(code.GetProperty("mvid").GetString()!));
        Assert.AreEqual(fixture.GetName().Version!.ToString(), code.GetProperty("version").GetString());
        int first = events.FindIndex(e => e.GetProperty("ev").GetString() == "enter");
        Assert.AreEqual(first - 1, events.IndexOf(code), "right before its first block");

        string[] continuing = [.. events.Where(e => e.GetProperty("ev").GetString() == "enter" && e.GetProperty("kind").GetString() == "continuing")
            .Select(e => e.GetProperty("name").GetString()!).Distinct()];
        CollectionAssert.AreEqual(new[] { "ToyModel", "ToyModel.Classifier", "ToyModel.Features" }, continuing.Order().ToArray());
    }
}
