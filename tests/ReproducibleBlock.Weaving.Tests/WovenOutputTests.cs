using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Hashing;
using System.Linq;
using System.Text.Json;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using WeavingFixture;
using static TorchSharp.torch;
using Isolated = WeavingFixture.RealShapes;

namespace ReproducibleBlock.Weaving.Tests;

/// <summary>
/// Issue 21: the weaver hands woven code's outputs to a trace that records tensors. A woven forward (and a
/// [ContinuingBlock] method) calls <see cref="WovenCode.RecordOutput{T}"/> before it returns, so its block's exit event
/// carries its output's XXH3; a direct <c>forward</c> call of one of TorchSharp's random modules in it calls
/// <see cref="WovenCode.ExitModuleWithOutput{T}"/>, so the module's path stream's exit carries the module's output.
/// The expected fingerprints are computed here from the tensors' bytes, not by the library.
/// </summary>
[TestClass]
public sealed class WovenOutputTests
{
    private string _path = null!;

    [TestInitialize]
    public void NewPath() => _path = Path.Combine(Path.GetTempPath(), $"rb-woven-outputs-{Guid.NewGuid():N}.jsonl");

    [TestCleanup]
    public void StopAndDelete()
    {
        BlockTrace.Stop();
        File.Delete(_path);
    }

    /// <summary>XXH3-64 of the tensors' bytes (each contiguous, on the CPU), in order, as 16 hex digits.</summary>
    private static string Xxh3(params Tensor[] tensors)
    {
        var hash = new XxHash3();
        foreach (Tensor tensor in tensors)
        {
            using Tensor contiguous = tensor.contiguous();
            hash.Append(contiguous.bytes);
        }
        return hash.GetCurrentHashAsUInt64().ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The exit events of the trace, in order, as (name, output or null).</summary>
    private List<(string Name, string? Output)> Exits()
    {
        BlockTrace.Stop();
        return [.. File.ReadAllLines(_path)
            .Select(line => JsonDocument.Parse(line).RootElement.Clone())
            .Where(e => e.GetProperty("ev").GetString() == "exit")
            .Select(e => (e.GetProperty("name").GetString()!, e.TryGetProperty("output", out JsonElement output) ? output.GetString() : null))];
    }

    private static string Describe(List<(string Name, string? Output)> exits) => string.Join(" | ", exits.Select(e => $"{e.Name}={e.Output ?? "-"}"));

    [TestMethod]
    public void WithTensorsTraced_AWovenForwardsExitCarriesItsOutput_AndDirectDropoutCallsTheirs()
    {
        Reproducible.SetSeed(42);
        BlockTrace.Start(_path, tensors: true);
        using var model = new Isolated.DirectDropout(noiseFirst: false, viaCall: false);
        model.train();
        using Tensor output = model.forward(ones(32));
        using Tensor first = output[..32], second = output[32..];

        List<(string Name, string? Output)> exits = Exits();
        string all = Describe(exits);
        Assert.AreEqual(Xxh3(output), exits.Single(e => e.Name == "DirectDropout").Output, all);
        Assert.AreEqual(Xxh3(first), exits.Single(e => e.Name == "DirectDropout._first").Output, "_first.forward(x), called directly: " + all);
        Assert.AreEqual(Xxh3(second), exits.Single(e => e.Name == "DirectDropout._second").Output, "_second.forward(input), called directly: " + all);
        Assert.AreEqual(3, exits.Count(e => e.Output is not null), "the constructor's block carries no output: " + all);
    }

    [TestMethod]
    public void WithTensorsTraced_AContinuingMethodOfAGenericType_RecordsItsGenericOutput()
    {
        Reproducible.SetSeed(42);
        BlockTrace.Start(_path, tensors: true);
        var keeper = new Keeper<Tensor>();
        using Tensor value = arange(6, dtype: ScalarType.Float32);
        Tensor kept = keeper.Keep(value);
        (Tensor, long) paired = keeper.Pair<Tensor>(value);
        _ = new Counter().Next();

        List<(string Name, string? Output)> exits = Exits();
        string all = Describe(exits);
        Assert.AreSame(value, kept);
        Assert.AreSame(value, paired.Item1);
        string[] outputs = [.. exits.Where(e => e.Name.StartsWith("WeavingFixture.Keeper`1.", StringComparison.Ordinal)).Select(e => e.Output!)];
        CollectionAssert.AreEqual(new[] { Xxh3(value), Xxh3(value) }, outputs, "Keep returns T, Pair<U> returns (U, long): " + all);
        Assert.IsNull(exits.Single(e => e.Name == "WeavingFixture.Counter.Next").Output, "a long holds no tensor: " + all);
    }

    [TestMethod]
    public void WithTensorsNotTraced_NoExitCarriesAnOutput_AndTheOutputsAreTheUntracedOnes()
    {
        float[] Run(bool trace)
        {
            Reproducible.SetSeed(42);
            if (trace)
                BlockTrace.Start(_path, tensors: false);
            using var model = new Isolated.DirectDropout(noiseFirst: false, viaCall: false);
            model.train();
            using Tensor output = model.forward(ones(32));
            return output.data<float>().ToArray();
        }
        float[] untraced = Run(trace: false);
        float[] traced = Run(trace: true);
        List<(string Name, string? Output)> exits = Exits();
        Assert.IsTrue(exits.Any(e => e.Name == "DirectDropout._first"), Describe(exits));
        Assert.IsTrue(exits.All(e => e.Output is null), Describe(exits));
        CollectionAssert.AreEqual(untraced, traced);

        Reproducible.SetSeed(42);
        BlockTrace.Start(_path, tensors: true);
        using (var model = new Isolated.DirectDropout(noiseFirst: false, viaCall: false))
        {
            model.train();
            using Tensor output = model.forward(ones(32));
            CollectionAssert.AreEqual(untraced, output.data<float>().ToArray(), "recording the outputs changes none");
        }
    }
}
