using System;
using System.Runtime.InteropServices;
using TorchSharp;

namespace ReproducibleBlock.Native;

/// <summary>
/// libtorch's global <c>at::Context</c> flags that TorchSharp 0.107 does not expose (its
/// <c>torch.use_deterministic_algorithms</c> is marked obsolete, "not implemented"): deterministic algorithms and
/// cuDNN's deterministic and benchmark modes, called through libtorch_cpu's exported C++ member functions.
/// </summary>
/// <remarks>
/// The functions are looked up by their mangled names: Itanium C++ ABI on Linux and macOS, MSVC on Windows (read
/// from the export table of libtorch 2.10's torch_cpu.dll). Member functions take the context as their first
/// argument; a C++ <c>bool</c> is one byte.
/// </remarks>
internal sealed unsafe class LibTorchContext
{
    private static readonly string[] Itanium =
    [
        "_ZN2at13globalContextEv",
        "_ZN2at7Context26setDeterministicAlgorithmsEbb",
        "_ZNK2at7Context23deterministicAlgorithmsEv",
        "_ZNK2at7Context31deterministicAlgorithmsWarnOnlyEv",
        "_ZN2at7Context21setDeterministicCuDNNEb",
        "_ZNK2at7Context18deterministicCuDNNEv",
        "_ZN2at7Context17setBenchmarkCuDNNEb",
        "_ZNK2at7Context14benchmarkCuDNNEv",
    ];

    private static readonly string[] Msvc =
    [
        "?globalContext@at@@YAAEAVContext@1@XZ",
        "?setDeterministicAlgorithms@Context@at@@QEAAX_N0@Z",
        "?deterministicAlgorithms@Context@at@@QEBA_NXZ",
        "?deterministicAlgorithmsWarnOnly@Context@at@@QEBA_NXZ",
        "?setDeterministicCuDNN@Context@at@@QEAAX_N@Z",
        "?deterministicCuDNN@Context@at@@QEBA_NXZ",
        "?setBenchmarkCuDNN@Context@at@@QEAAX_N@Z",
        "?benchmarkCuDNN@Context@at@@QEBA_NXZ",
    ];

    private static readonly object Gate = new();
    private static LibTorchContext? s_instance;

    private readonly IntPtr _context;
    private readonly delegate* unmanaged<IntPtr, byte, byte, void> _setDeterministicAlgorithms;
    private readonly delegate* unmanaged<IntPtr, byte> _deterministicAlgorithms;
    private readonly delegate* unmanaged<IntPtr, byte> _deterministicAlgorithmsWarnOnly;
    private readonly delegate* unmanaged<IntPtr, byte, void> _setDeterministicCuDnn;
    private readonly delegate* unmanaged<IntPtr, byte> _deterministicCuDnn;
    private readonly delegate* unmanaged<IntPtr, byte, void> _setBenchmarkCuDnn;
    private readonly delegate* unmanaged<IntPtr, byte> _benchmarkCuDnn;

    private LibTorchContext(IntPtr[] exports)
    {
        _context = ((delegate* unmanaged<IntPtr>)exports[0])();
        _setDeterministicAlgorithms = (delegate* unmanaged<IntPtr, byte, byte, void>)exports[1];
        _deterministicAlgorithms = (delegate* unmanaged<IntPtr, byte>)exports[2];
        _deterministicAlgorithmsWarnOnly = (delegate* unmanaged<IntPtr, byte>)exports[3];
        _setDeterministicCuDnn = (delegate* unmanaged<IntPtr, byte, void>)exports[4];
        _deterministicCuDnn = (delegate* unmanaged<IntPtr, byte>)exports[5];
        _setBenchmarkCuDnn = (delegate* unmanaged<IntPtr, byte, void>)exports[6];
        _benchmarkCuDnn = (delegate* unmanaged<IntPtr, byte>)exports[7];
    }

    /// <summary>The context of the libtorch this process loaded, found once.</summary>
    /// <exception cref="PlatformNotSupportedException">libtorch_cpu is not loaded, or lacks one of the functions (named in the message).</exception>
    public static LibTorchContext Instance
    {
        get
        {
            lock (Gate)
                return s_instance ??= Open();
        }
    }

    private static LibTorchContext Open()
    {
        // Touching torch makes TorchSharp load libtorch (it loads it on first use).
        _ = torch.get_default_dtype();
        string[] files = LoadedLibraries.FileNames("torch_cpu");
        if (!LoadedLibraries.TryGet(files, out IntPtr library))
        {
            throw new PlatformNotSupportedException(
                $"libtorch's CPU library ({string.Join(", ", files)}) is not loaded in this process, so its deterministic-algorithm switches cannot be reached.");
        }
        string[] names = RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? Msvc : Itanium;
        var exports = new IntPtr[names.Length];
        for (int i = 0; i < names.Length; i++)
        {
            if (!NativeLibrary.TryGetExport(library, names[i], out exports[i]))
            {
                throw new PlatformNotSupportedException(
                    $"This libtorch does not export {names[i]} (at::Context), so deterministic algorithms cannot be switched from .NET here. "
                    + "libtorch 2.x builds from PyTorch export it; an unusual build may not.");
            }
        }
        return new LibTorchContext(exports);
    }

    public bool DeterministicAlgorithms => _deterministicAlgorithms(_context) != 0;

    public bool DeterministicAlgorithmsWarnOnly => _deterministicAlgorithmsWarnOnly(_context) != 0;

    public void SetDeterministicAlgorithms(bool enabled, bool warnOnly) =>
        _setDeterministicAlgorithms(_context, enabled ? (byte)1 : (byte)0, warnOnly ? (byte)1 : (byte)0);

    public bool DeterministicCuDnn
    {
        get => _deterministicCuDnn(_context) != 0;
        set => _setDeterministicCuDnn(_context, value ? (byte)1 : (byte)0);
    }

    public bool BenchmarkCuDnn
    {
        get => _benchmarkCuDnn(_context) != 0;
        set => _setBenchmarkCuDnn(_context, value ? (byte)1 : (byte)0);
    }
}
