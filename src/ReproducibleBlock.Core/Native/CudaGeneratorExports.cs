using System;
using System.Runtime.InteropServices;

namespace ReproducibleBlock.Native;

/// <summary>
/// The libtorch_cuda exports that read and write a device's default CUDA generator (TorchSharp has no API for it), by
/// their mangled names: Itanium C++ ABI on Linux (verified on an H100 and an H200), MSVC on Windows (derived from the
/// MSVC names torch_cpu.dll of libtorch 2.10 exports for the CPU generator's same functions; not yet run on a Windows
/// GPU).
/// </summary>
/// <remarks>
/// Both lists hold the same five functions in the same order, <see cref="GetDefaultGenerator"/> first:
/// <c>at::cuda::detail::getDefaultCUDAGenerator(signed char)</c> (returns <c>const at::Generator&amp;</c>), then the
/// <c>CUDAGeneratorImpl</c> members <c>current_seed() const</c>, <c>set_current_seed(uint64_t)</c>,
/// <c>philox_offset_per_thread() const</c> and <c>set_philox_offset_per_thread(uint64_t)</c>, which take the
/// implementation as their first argument on both ABIs (x64: <c>this</c> in the first integer register).
/// </remarks>
internal static class CudaGeneratorExports
{
    public const int GetDefaultGenerator = 0;
    public const int CurrentSeed = 1;
    public const int SetCurrentSeed = 2;
    public const int PhiloxOffset = 3;
    public const int SetPhiloxOffset = 4;

    /// <summary>The Itanium C++ ABI names (Linux; macOS has no CUDA).</summary>
    public static readonly string[] Itanium =
    [
        "_ZN2at4cuda6detail23getDefaultCUDAGeneratorEa",
        "_ZNK2at17CUDAGeneratorImpl12current_seedEv",
        "_ZN2at17CUDAGeneratorImpl16set_current_seedEm",
        "_ZNK2at17CUDAGeneratorImpl24philox_offset_per_threadEv",
        "_ZN2at17CUDAGeneratorImpl28set_philox_offset_per_threadEm",
    ];

    /// <summary>
    /// The MSVC names (Windows x64). <c>current_seed</c> and <c>set_current_seed</c> are virtual (<c>U</c>), the Philox
    /// accessors are not (<c>Q</c>); <c>signed char</c> is <c>C</c>, <c>uint64_t</c> is <c>_K</c>.
    /// </summary>
    public static readonly string[] Msvc =
    [
        "?getDefaultCUDAGenerator@detail@cuda@at@@YAAEBUGenerator@3@C@Z",
        "?current_seed@CUDAGeneratorImpl@at@@UEBA_KXZ",
        "?set_current_seed@CUDAGeneratorImpl@at@@UEAAX_K@Z",
        "?philox_offset_per_thread@CUDAGeneratorImpl@at@@QEBA_KXZ",
        "?set_philox_offset_per_thread@CUDAGeneratorImpl@at@@QEAAX_K@Z",
    ];

    /// <summary>The names this platform's libtorch_cuda exports: MSVC on Windows, Itanium elsewhere.</summary>
    public static string[] Names(bool windows) => windows ? Msvc : Itanium;

    /// <summary>The names for the running platform.</summary>
    public static string[] ForThisPlatform => Names(RuntimeInformation.IsOSPlatform(OSPlatform.Windows));

    /// <summary>libtorch_cuda's file names, looked up in this order: <c>libtorch_cuda.so</c>, <c>libtorch_cuda.dylib</c>, <c>torch_cuda.dll</c>.</summary>
    public static string[] LibraryFileNames => LoadedLibraries.FileNames("torch_cuda");

    /// <summary>
    /// Looks up every one of <paramref name="names"/> with <paramref name="tryGetExport"/>, in order, and stops at the
    /// first that is missing.
    /// </summary>
    /// <returns>The addresses, in the order of <paramref name="names"/>; null when one is missing (then named in <paramref name="missing"/>).</returns>
    public static IntPtr[]? Resolve(string[] names, Func<string, IntPtr> tryGetExport, out string? missing)
    {
        var exports = new IntPtr[names.Length];
        for (int i = 0; i < names.Length; i++)
        {
            exports[i] = tryGetExport(names[i]);
            if (exports[i] == IntPtr.Zero)
            {
                missing = names[i];
                return null;
            }
        }
        missing = null;
        return exports;
    }
}
