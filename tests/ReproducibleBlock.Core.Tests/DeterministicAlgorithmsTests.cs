using System;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.Native;
using TorchSharp;

namespace ReproducibleBlock.Tests;

/// <summary>
/// <see cref="Reproducible.UseDeterministicAlgorithms"/> through libtorch's own switches, on the real libtorch: what it
/// turns on is observable on CPU (uninitialised memory is filled), and cuDNN's modes are read back through the exports.
/// </summary>
[TestClass]
public sealed class DeterministicAlgorithmsTests
{
    [TestCleanup]
    public void TurnItOff() => Reproducible.UseDeterministicAlgorithms(false);

    [TestMethod]
    public void On_FillsUninitialisedMemory_AsPyTorchDocuments()
    {
        Reproducible.UseDeterministicAlgorithms();
        Assert.IsTrue(Reproducible.AreDeterministicAlgorithmsEnabled);
        using torch.Tensor floats = torch.empty(64);
        using torch.Tensor longs = torch.empty(64, torch.int64);
        Assert.IsTrue(floats.data<float>().ToArray().All(float.IsNaN), "floating point: NaN");
        Assert.IsTrue(longs.data<long>().ToArray().All(v => v == long.MaxValue), "integers: the largest value");
    }

    [TestMethod]
    public void Off_TurnsItOff()
    {
        Reproducible.UseDeterministicAlgorithms();
        Reproducible.UseDeterministicAlgorithms(false);
        Assert.IsFalse(Reproducible.AreDeterministicAlgorithmsEnabled);
        Assert.IsFalse(LibTorchContext.Instance.DeterministicAlgorithms);
    }

    [TestMethod]
    public void WarnOnly_IsPassedToLibtorch()
    {
        Reproducible.UseDeterministicAlgorithms(warnOnly: true);
        Assert.IsTrue(LibTorchContext.Instance.DeterministicAlgorithmsWarnOnly);
        Assert.IsTrue(ReproducibleEnvironment.Current().DeterministicWarnOnly, "the environment record has it");
        Reproducible.UseDeterministicAlgorithms();
        Assert.IsFalse(LibTorchContext.Instance.DeterministicAlgorithmsWarnOnly);
        Assert.IsFalse(ReproducibleEnvironment.Current().DeterministicWarnOnly);
    }

    [TestMethod]
    [DataRow(false, false)]
    [DataRow(true, true)]
    [DataRow(false, true)]
    public void CuDnn_IsDeterministicWithoutBenchmarkWhileOn_AndAsItWasAfter(bool deterministic, bool benchmark)
    {
        LibTorchContext context = LibTorchContext.Instance;
        context.DeterministicCuDnn = deterministic;
        context.BenchmarkCuDnn = benchmark;
        try
        {
            Reproducible.UseDeterministicAlgorithms();
            Reproducible.UseDeterministicAlgorithms(warnOnly: true); // turning it on again keeps what was there first
            Assert.IsTrue(context.DeterministicCuDnn);
            Assert.IsFalse(context.BenchmarkCuDnn);
            Reproducible.UseDeterministicAlgorithms(false);
            Assert.AreEqual(deterministic, context.DeterministicCuDnn);
            Assert.AreEqual(benchmark, context.BenchmarkCuDnn);
        }
        finally
        {
            context.DeterministicCuDnn = false;
            context.BenchmarkCuDnn = false;
        }
    }

    [TestMethod]
    public void NativeEnvironment_IsWhatNativeCodeReads()
    {
        const string name = "REPRODUCIBLEBLOCK_TEST_VARIABLE";
        Assert.IsNull(NativeEnvironment.Get(name));
        NativeEnvironment.Set(name, ":4096:8");
        Assert.AreEqual(":4096:8", NativeEnvironment.Get(name));
        Assert.AreEqual(":4096:8", Environment.GetEnvironmentVariable(name), "and .NET's view agrees");
    }

    [TestMethod]
    public void LoadedLibraries_FindsLibtorch_AndNotWhatIsNotLoaded()
    {
        _ = LibTorchContext.Instance;
        Assert.IsTrue(LoadedLibraries.TryGet(LoadedLibraries.FileNames("torch_cpu"), out IntPtr handle));
        Assert.AreNotEqual(IntPtr.Zero, handle);
        Assert.IsFalse(LoadedLibraries.TryGet(LoadedLibraries.FileNames("reproducibleblock_no_such_library"), out _));
    }
}
