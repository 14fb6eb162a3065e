using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace ReproducibleBlock.Tests;

/// <summary>The environment record's text: every field in the format, the summary, and each difference by name.</summary>
[TestClass]
public sealed class EnvironmentRecordTests
{
    private static Dictionary<string, string> Full(string suffix, bool flag, long seed, string derivation) => new()
    {
        ["ReproducibleBlockVersion"] = "0.2." + suffix,
        ["TorchSharpVersion"] = "0.107." + suffix,
        ["LibTorchVersion"] = "2.10." + suffix,
        ["CpuCapability"] = "AVX" + suffix,
        ["CpuModel"] = "Model " + suffix,
        ["CpuVendor"] = "Vendor" + suffix,
        ["OperatingSystem"] = "OS " + suffix,
        ["DotNetVersion"] = ".NET " + suffix,
        ["TorchThreads"] = "1" + suffix,
        ["TorchInteropThreads"] = "2" + suffix,
        ["DeterministicAlgorithms"] = flag.ToString(),
        ["DeterministicWarnOnly"] = flag.ToString(),
        ["DeterministicCuDnn"] = (!flag).ToString(),
        ["BenchmarkCuDnn"] = flag.ToString(),
        ["AllowTf32Matmul"] = (!flag).ToString(),
        ["AllowTf32CuDnn"] = flag.ToString(),
        ["CudaVersion"] = "13." + suffix,
        ["CudaDevices"] = "3" + suffix,
        ["CuDnnVersion"] = "9." + suffix,
        ["CudaDeviceNames"] = "GPU " + suffix,
        ["RootSeed"] = seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Derivation"] = derivation,
    };

    [TestMethod]
    public void EveryField_RoundTripsThroughPairs()
    {
        Dictionary<string, string> pairs = Full("7", true, -5, "ResetAndAdvance");
        ReproducibleEnvironment environment = ReproducibleEnvironment.FromPairs(pairs);
        CollectionAssert.AreEquivalent(pairs.ToList(), environment.ToPairs().Select(p => new KeyValuePair<string, string>(p.Name, p.Value)).ToList());
        Assert.AreEqual(17, environment.TorchThreads);
        Assert.AreEqual(27, environment.TorchInteropThreads);
        Assert.AreEqual(37, environment.CudaDevices);
        Assert.AreEqual(-5L, environment.RootSeed);
        Assert.AreEqual(BlockDerivation.ResetAndAdvance, environment.Derivation);
        Assert.IsTrue(environment.DeterministicAlgorithms);
        Assert.IsFalse(environment.DeterministicCuDnn);
        Assert.IsTrue(environment.DeterministicWarnOnly);
    }

    [TestMethod]
    public void UnknownValues_AreLeftOut_AndReadBackAsUnknown()
    {
        ReproducibleEnvironment empty = ReproducibleEnvironment.FromPairs(new Dictionary<string, string>());
        CollectionAssert.AreEqual(
            new[] { "ReproducibleBlockVersion", "TorchSharpVersion", "CpuModel", "CpuVendor", "OperatingSystem", "DotNetVersion", "TorchThreads", "TorchInteropThreads", "CudaDevices" },
            empty.ToPairs().Select(p => p.Name).ToArray());
        Assert.IsNull(empty.LibTorchVersion);
        Assert.IsNull(empty.DeterministicAlgorithms);
        Assert.IsNull(empty.DeterministicWarnOnly);
        Assert.IsNull(empty.RootSeed);
        Assert.IsNull(empty.Derivation);
        Assert.AreEqual("unknown", empty.CpuVendor);
        Assert.AreEqual(
            "ReproducibleBlock unknown, TorchSharp unknown, libtorch unknown (unknown kernels), unknown (unknown), unknown, unknown, 0/0 torch threads, "
            + "CUDA none (0 devices), cuDNN none, deterministic algorithms unknown, cuDNN deterministic unknown benchmark unknown, "
            + "TF32 matmul unknown cuDNN unknown, root seed none, no derivation",
            empty.ToString());
    }

    [TestMethod]
    public void Summary_NamesEveryField()
    {
        ReproducibleEnvironment environment = ReproducibleEnvironment.FromPairs(Full("1", true, 42, "Keyed"));
        Assert.AreEqual(
            "ReproducibleBlock 0.2.1, TorchSharp 0.107.1, libtorch 2.10.1 (AVX1 kernels), Model 1 (Vendor1), OS 1, .NET 1, 11/21 torch threads, "
            + "CUDA 13.1 (31 devices: GPU 1), cuDNN 9.1, deterministic algorithms on (warn only), cuDNN deterministic off benchmark on, "
            + "TF32 matmul off cuDNN on, root seed 42, Keyed",
            environment.ToString());
    }

    [TestMethod]
    public void Differences_NameEachFieldThatCanChangeResults_WithBothSidesAndWhy()
    {
        ReproducibleEnvironment here = ReproducibleEnvironment.FromPairs(Full("1", true, 42, "Keyed"));
        ReproducibleEnvironment there = ReproducibleEnvironment.FromPairs(Full("2", false, 7, "ResetAndAdvance"));
        CollectionAssert.AreEqual(new[]
        {
            "libtorch: 2.10.2 there, 2.10.1 here (kernels and their numerics change between versions)",
            "TorchSharp: 0.107.2 there, 0.107.1 here (the bindings and their defaults)",
            "CPU capability: AVX2 there, AVX1 here (vectorised float kernels round differently)",
            "CPU vendor: Vendor2 there, Vendor1 here (dropout masks are drawn through MKL on Intel CPUs only)",
            "CUDA: 13.2 there, 13.1 here (CUDA kernels change between versions)",
            "CUDA devices: 32 there, 31 here (CUDA generator state is kept per device)",
            "cuDNN: 9.2 there, 9.1 here (cuDNN's algorithms change between versions)",
            "GPUs: GPU 2 there, GPU 1 here (kernels are chosen and tuned per GPU)",
            "torch threads: 12 there, 11 here (reductions split across threads can round differently)",
            "deterministic algorithms: False there, True here (nondeterministic kernels may be used)",
            "deterministic algorithms warn only: False there, True here (nondeterministic kernels run, with a warning, where they would throw)",
            "cuDNN deterministic: True there, False here (cuDNN may pick nondeterministic algorithms)",
            "cuDNN benchmark: False there, True here (benchmark mode picks algorithms by timing)",
            "TF32 in matrix products: True there, False here (TF32 rounds CUDA matrix products)",
            "TF32 in cuDNN: False there, True here (TF32 rounds cuDNN convolutions)",
            "root seed: 7 there, 42 here (every stream derives from it)",
            "derivation: ResetAndAdvance there, Keyed here (blocks derive their state differently)",
            ".NET: .NET 2 there, .NET 1 here (managed math may change between major versions)",
        }, here.DifferencesFrom(there).ToArray());
        Assert.AreEqual(16, here.DifferencesFrom(there, includeSeeding: false).Count);
        Assert.AreEqual(0, here.DifferencesFrom(ReproducibleEnvironment.FromPairs(Full("1", true, 42, "Keyed"))).Count);
        Assert.ThrowsExactly<ArgumentNullException>(() => here.DifferencesFrom(null!));
    }

    [TestMethod]
    [DataRow(".NET 10.0.12", ".NET 10.0.13", false, DisplayName = "a patch release keeps managed math")]
    [DataRow(".NET 10.0.12", ".NET 10.1.0", false, DisplayName = "so does a minor one")]
    [DataRow(".NET 10.0.12", ".NET 11.0.0", true, DisplayName = "a new major version may not")]
    [DataRow(".NET 9.0.3", ".NET 10.0.3", true)]
    public void DotNetVersions_DifferOnlyByMajorVersion(string here, string there, bool differ)
    {
        Dictionary<string, string> pairs = Full("1", true, 42, "Keyed");
        pairs["DotNetVersion"] = here;
        ReproducibleEnvironment mine = ReproducibleEnvironment.FromPairs(pairs);
        pairs["DotNetVersion"] = there;
        IReadOnlyList<string> differences = mine.DifferencesFrom(ReproducibleEnvironment.FromPairs(pairs));
        Assert.AreEqual(differ ? 1 : 0, differences.Count, string.Join("; ", differences));
    }

    [TestMethod]
    [DataRow("0.3.0", "0.3.4", false, DisplayName = "a patch release moves no stream")]
    [DataRow("0.3.0", "0.3.0-ci.12.1", false)]
    [DataRow("0.3.1", "0.4.0", true, DisplayName = "a minor one may")]
    public void LibraryVersions_DifferOnlyByMinorVersion(string here, string there, bool differ)
    {
        Dictionary<string, string> pairs = Full("1", true, 42, "Keyed");
        pairs["ReproducibleBlockVersion"] = here;
        ReproducibleEnvironment mine = ReproducibleEnvironment.FromPairs(pairs);
        pairs["ReproducibleBlockVersion"] = there;
        Assert.AreEqual(differ ? 1 : 0, mine.DifferencesFrom(ReproducibleEnvironment.FromPairs(pairs)).Count);
    }

    [TestMethod]
    public void Differences_KeepControlCharactersOutOfTheMessage()
    {
        Dictionary<string, string> pairs = Full("1", true, 42, "Keyed");
        ReproducibleEnvironment here = ReproducibleEnvironment.FromPairs(pairs);
        pairs["LibTorchVersion"] = "2.10\u001b[31m\n";
        string difference = here.DifferencesFrom(ReproducibleEnvironment.FromPairs(pairs)).Single();
        Assert.AreEqual("libtorch: 2.10?[31m? there, 2.10.1 here (kernels and their numerics change between versions)", difference);
    }

    [TestMethod]
    [DataRow("TorchThreads", "many")]
    [DataRow("CudaDevices", "99999999999")]
    [DataRow("DeterministicAlgorithms", "maybe")]
    [DataRow("RootSeed", "x")]
    [DataRow("Derivation", "1")]
    [DataRow("Derivation", "Keyed, ResetAndAdvance")]
    public void UnparsableValues_AreAFormatException(string name, string value)
    {
        var error = Assert.ThrowsExactly<FormatException>(() => ReproducibleEnvironment.FromPairs(new Dictionary<string, string> { [name] = value }));
        StringAssert.Contains(error.Message, "environment record has a value that does not parse");
    }
}
