using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.Native;

namespace ReproducibleBlock.Tests;

/// <summary>
/// The names libtorch_cuda's generator exports are looked up by, per platform, and the order of the lookup. The lookup
/// itself runs on a GPU (<see cref="Cuda.CudaDeviceTests"/>); the Windows names are derived, not yet run.
/// </summary>
[TestClass]
public sealed class CudaGeneratorExportsTests
{
    [TestMethod]
    public void BothAbis_NameTheSameFiveFunctions_InTheSameOrder()
    {
        string[] functions = ["getDefaultCUDAGenerator", "current_seed", "set_current_seed", "philox_offset_per_thread", "set_philox_offset_per_thread"];
        Assert.HasCount(functions.Length, CudaGeneratorExports.Itanium);
        Assert.HasCount(functions.Length, CudaGeneratorExports.Msvc);
        for (int i = 0; i < functions.Length; i++)
        {
            StringAssert.Contains(CudaGeneratorExports.Itanium[i], functions[i].Length + functions[i], "Itanium: <length><name>");
            StringAssert.StartsWith(CudaGeneratorExports.Msvc[i], "?" + functions[i] + "@", "MSVC: ?<name>@");
        }
        Assert.AreEqual(0, CudaGeneratorExports.GetDefaultGenerator);
        Assert.AreEqual(1, CudaGeneratorExports.CurrentSeed);
        Assert.AreEqual(2, CudaGeneratorExports.SetCurrentSeed);
        Assert.AreEqual(3, CudaGeneratorExports.PhiloxOffset);
        Assert.AreEqual(4, CudaGeneratorExports.SetPhiloxOffset);
    }

    [TestMethod]
    public void ItaniumNames_AreTheOnesVerifiedOnAGpu()
    {
        CollectionAssert.AreEqual(
            new[]
            {
                "_ZN2at4cuda6detail23getDefaultCUDAGeneratorEa",
                "_ZNK2at17CUDAGeneratorImpl12current_seedEv",
                "_ZN2at17CUDAGeneratorImpl16set_current_seedEm",
                "_ZNK2at17CUDAGeneratorImpl24philox_offset_per_threadEv",
                "_ZN2at17CUDAGeneratorImpl28set_philox_offset_per_threadEm",
            },
            CudaGeneratorExports.Itanium);
    }

    /// <summary>
    /// torch_cpu.dll of libtorch 2.10 exports the CPU generator's functions under these MSVC names; the CUDA names follow
    /// by the same rules (namespace at::cuda::detail, a <c>signed char</c> device argument, the CUDAGeneratorImpl class).
    /// </summary>
    [TestMethod]
    public void MsvcNames_FollowTorchCpuDllsNamesForTheCpuGenerator()
    {
        const string CpuGetDefault = "?getDefaultCPUGenerator@detail@at@@YAAEBUGenerator@2@XZ";
        const string CpuCurrentSeed = "?current_seed@CPUGeneratorImpl@at@@UEBA_KXZ";
        const string CpuSetCurrentSeed = "?set_current_seed@CPUGeneratorImpl@at@@UEAAX_K@Z";

        Assert.AreEqual(CpuCurrentSeed.Replace("CPUGeneratorImpl", "CUDAGeneratorImpl", StringComparison.Ordinal), CudaGeneratorExports.Msvc[CudaGeneratorExports.CurrentSeed]);
        Assert.AreEqual(CpuSetCurrentSeed.Replace("CPUGeneratorImpl", "CUDAGeneratorImpl", StringComparison.Ordinal), CudaGeneratorExports.Msvc[CudaGeneratorExports.SetCurrentSeed]);
        // One namespace more (cuda) moves the back reference to "at" from @2 to @3; the parameter list X (void) becomes C (signed char).
        Assert.AreEqual(
            CpuGetDefault.Replace("CPUGenerator@detail@at@@", "CUDAGenerator@detail@cuda@at@@", StringComparison.Ordinal).Replace("@2@XZ", "@3@C@Z", StringComparison.Ordinal),
            CudaGeneratorExports.Msvc[CudaGeneratorExports.GetDefaultGenerator]);
        // The Philox accessors are non-virtual public members (Q): const getter (EBA, returns _K) and setter (EAAX, takes _K).
        Assert.AreEqual("?philox_offset_per_thread@CUDAGeneratorImpl@at@@QEBA_KXZ", CudaGeneratorExports.Msvc[CudaGeneratorExports.PhiloxOffset]);
        Assert.AreEqual("?set_philox_offset_per_thread@CUDAGeneratorImpl@at@@QEAAX_K@Z", CudaGeneratorExports.Msvc[CudaGeneratorExports.SetPhiloxOffset]);
    }

    [TestMethod]
    public void Names_AreMsvcOnWindowsOnly()
    {
        Assert.AreSame(CudaGeneratorExports.Msvc, CudaGeneratorExports.Names(windows: true));
        Assert.AreSame(CudaGeneratorExports.Itanium, CudaGeneratorExports.Names(windows: false));
        Assert.AreSame(OperatingSystem.IsWindows() ? CudaGeneratorExports.Msvc : CudaGeneratorExports.Itanium, CudaGeneratorExports.ForThisPlatform);
    }

    [TestMethod]
    public void LibraryFileNames_CoverLinuxMacOsAndWindows_InThatOrder()
    {
        CollectionAssert.AreEqual(new[] { "libtorch_cuda.so", "libtorch_cuda.dylib", "torch_cuda.dll" }, CudaGeneratorExports.LibraryFileNames);
    }

    [TestMethod]
    public void Resolve_LooksUpEveryName_InOrder()
    {
        var asked = new List<string>();
        IntPtr[]? exports = CudaGeneratorExports.Resolve(CudaGeneratorExports.Msvc, name => { asked.Add(name); return asked.Count; }, out string? missing);
        CollectionAssert.AreEqual(CudaGeneratorExports.Msvc, asked);
        CollectionAssert.AreEqual(new IntPtr[] { 1, 2, 3, 4, 5 }, exports);
        Assert.IsNull(missing);
    }

    [TestMethod]
    public void Resolve_StopsAtTheFirstMissingName_AndNamesIt()
    {
        var asked = new List<string>();
        string absent = CudaGeneratorExports.Itanium[CudaGeneratorExports.PhiloxOffset];
        IntPtr[]? exports = CudaGeneratorExports.Resolve(CudaGeneratorExports.Itanium, name => { asked.Add(name); return name == absent ? IntPtr.Zero : 1; }, out string? missing);
        Assert.IsNull(exports);
        Assert.AreEqual(absent, missing);
        CollectionAssert.AreEqual(CudaGeneratorExports.Itanium.Take(CudaGeneratorExports.PhiloxOffset + 1).ToArray(), asked);
    }

    [TestMethod]
    public void WithoutLibTorchCuda_ExactStateIsRefused_NamingTheLibrary()
    {
        // A CPU run loads libtorch_cpu only: the reason detection falls back names libtorch_cuda's file names.
        if (LoadedLibraries.TryGet(CudaGeneratorExports.LibraryFileNames, out _))
            Assert.Inconclusive("libtorch_cuda is loaded here: the lookup is tested by CudaDeviceTests.");
        Assert.IsFalse(State.LibTorchCudaDevices.TryCreate(1, out State.LibTorchCudaDevices? devices, out string? why));
        Assert.IsNull(devices);
        StringAssert.Contains(why, "libtorch_cuda.so, libtorch_cuda.dylib, torch_cuda.dll");
    }
}
