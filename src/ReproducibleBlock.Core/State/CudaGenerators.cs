using System;
using System.Diagnostics;
using System.Runtime.InteropServices;
using TorchSharp;

namespace ReproducibleBlock.State;

/// <summary>The whole state of one CUDA device's default generator: a Philox seed and an offset into its stream.</summary>
/// <param name="Seed">The Philox key (what <c>torch.cuda.manual_seed</c> sets).</param>
/// <param name="Offset">How far the stream has been consumed, per thread; always a multiple of 4.</param>
internal readonly record struct CudaGeneratorState(ulong Seed, ulong Offset);

/// <summary>
/// Access to the default CUDA generators of every device. The runtime uses this interface only, so tests
/// can stand in for CUDA (which cannot run on the CI machine) with a fake that records what was done.
/// </summary>
internal interface ICudaGenerators
{
    /// <summary>How many CUDA devices there are; 0 when CUDA is unavailable (then nothing else is called).</summary>
    int DeviceCount { get; }

    /// <summary>Whether <see cref="Read"/> and <see cref="Write"/> work: the exact seed and offset of every device.</summary>
    bool HasExactState { get; }

    CudaGeneratorState Read(int device);

    void Write(int device, CudaGeneratorState state);

    /// <summary>Seeds every device (offset 0). The only operation where <see cref="HasExactState"/> is false.</summary>
    void SeedAll(ulong seed);
}

/// <summary>Finds the best available CUDA access: exact state through libtorch's exports, else re-seeding, else none.</summary>
internal static class CudaGenerators
{
    /// <summary>
    /// Called once, when the library first seeds. When CUDA is unavailable this is one cheap query and
    /// nothing is loaded.
    /// </summary>
    public static ICudaGenerators Detect(Action<string> warn)
    {
        if (!torch.cuda.is_available())
            return NoCudaGenerators.Instance;
        int devices = torch.cuda.device_count();
        if (devices <= 0)
            return NoCudaGenerators.Instance;
        // The exports below read the generators, which exist only once CUDA is initialised.
        using (torch.Tensor warmUp = torch.zeros(1, device: torch.CUDA)) { }
        if (LibTorchCudaGenerators.TryCreate(devices, out LibTorchCudaGenerators? exact, out string? why))
            return exact!;
        warn($"CUDA generator state cannot be read or written here ({why}). Blocks re-seed CUDA with torch.cuda.manual_seed_all instead: "
            + "entering a block still gives it its own CUDA stream, but restoreOnExit continues CUDA from a fresh derived seed instead of restoring it, "
            + "and snapshots do not carry CUDA state.");
        return new SeedOnlyCudaGenerators(devices);
    }
}

/// <summary>No CUDA: every operation is free and does nothing.</summary>
internal sealed class NoCudaGenerators : ICudaGenerators
{
    public static readonly NoCudaGenerators Instance = new();
    public int DeviceCount => 0;
    public bool HasExactState => true; // vacuously: there is no state to lose
    public CudaGeneratorState Read(int device) => throw new ArgumentOutOfRangeException(nameof(device), "There are no CUDA devices.");
    public void Write(int device, CudaGeneratorState state) => throw new ArgumentOutOfRangeException(nameof(device), "There are no CUDA devices.");
    public void SeedAll(ulong seed) { }
}

/// <summary>CUDA through TorchSharp alone: it can seed every device, but has no way to read or write a generator's state.</summary>
internal sealed class SeedOnlyCudaGenerators(int deviceCount) : ICudaGenerators
{
    public int DeviceCount { get; } = deviceCount;
    public bool HasExactState => false;
    public CudaGeneratorState Read(int device) => throw new NotSupportedException("CUDA generator state cannot be read without libtorch_cuda's exports.");
    public void Write(int device, CudaGeneratorState state) => throw new NotSupportedException("CUDA generator state cannot be written without libtorch_cuda's exports.");
    public void SeedAll(ulong seed) => torch.cuda.manual_seed_all(unchecked((long)seed));
}

/// <summary>
/// Exact CUDA generator state through libtorch_cuda's exported C++ functions (Itanium C++ ABI, so Linux
/// builds only; other platforms fall back to <see cref="SeedOnlyCudaGenerators"/>).
/// </summary>
/// <remarks>
/// TorchSharp has no CUDA generator API. <c>at::cuda::detail::getDefaultCUDAGenerator(signed char)</c> returns
/// a <c>const at::Generator&amp;</c> whose first field is the <c>CUDAGeneratorImpl*</c>; its member functions take
/// that pointer as their first argument. Seed and offset are the whole Philox state: writing back a saved
/// pair repeats the same draws (checked on an H100 against libtorch 2.11).
/// </remarks>
internal sealed unsafe class LibTorchCudaGenerators : ICudaGenerators
{
    internal const string GetDefaultGenerator = "_ZN2at4cuda6detail23getDefaultCUDAGeneratorEa";
    internal const string CurrentSeed = "_ZNK2at17CUDAGeneratorImpl12current_seedEv";
    internal const string SetCurrentSeed = "_ZN2at17CUDAGeneratorImpl16set_current_seedEm";
    internal const string PhiloxOffset = "_ZNK2at17CUDAGeneratorImpl24philox_offset_per_threadEv";
    internal const string SetPhiloxOffset = "_ZN2at17CUDAGeneratorImpl28set_philox_offset_per_threadEm";

    private readonly IntPtr[] _generators;
    private readonly delegate* unmanaged<IntPtr, ulong> _currentSeed;
    private readonly delegate* unmanaged<IntPtr, ulong, void> _setCurrentSeed;
    private readonly delegate* unmanaged<IntPtr, ulong> _philoxOffset;
    private readonly delegate* unmanaged<IntPtr, ulong, void> _setPhiloxOffset;

    private LibTorchCudaGenerators(IntPtr[] generators, IntPtr currentSeed, IntPtr setCurrentSeed, IntPtr philoxOffset, IntPtr setPhiloxOffset)
    {
        _generators = generators;
        _currentSeed = (delegate* unmanaged<IntPtr, ulong>)currentSeed;
        _setCurrentSeed = (delegate* unmanaged<IntPtr, ulong, void>)setCurrentSeed;
        _philoxOffset = (delegate* unmanaged<IntPtr, ulong>)philoxOffset;
        _setPhiloxOffset = (delegate* unmanaged<IntPtr, ulong, void>)setPhiloxOffset;
    }

    public int DeviceCount => _generators.Length;
    public bool HasExactState => true;

    public static bool TryCreate(int deviceCount, out LibTorchCudaGenerators? generators, out string? why)
    {
        generators = null;
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
        {
            why = "libtorch_cuda's exports are looked up by their Itanium C++ ABI names, which only Linux builds use";
            return false;
        }
        if (!TryLoadLibTorchCuda(out IntPtr library))
        {
            why = "libtorch_cuda.so is not loaded in this process";
            return false;
        }
        string[] names = [GetDefaultGenerator, CurrentSeed, SetCurrentSeed, PhiloxOffset, SetPhiloxOffset];
        var exports = new IntPtr[names.Length];
        for (int i = 0; i < names.Length; i++)
        {
            if (!NativeLibrary.TryGetExport(library, names[i], out exports[i]))
            {
                why = $"libtorch_cuda.so does not export {names[i]}";
                return false;
            }
        }
        var getDefault = (delegate* unmanaged<sbyte, IntPtr>)exports[0];
        var implementations = new IntPtr[deviceCount];
        for (int device = 0; device < deviceCount; device++)
        {
            IntPtr generator = getDefault(checked((sbyte)device));
            IntPtr implementation = generator == IntPtr.Zero ? IntPtr.Zero : Marshal.ReadIntPtr(generator);
            if (implementation == IntPtr.Zero)
            {
                why = $"the default CUDA generator of device {device} is not initialised";
                return false;
            }
            implementations[device] = implementation;
        }
        generators = new LibTorchCudaGenerators(implementations, exports[1], exports[2], exports[3], exports[4]);
        why = null;
        return true;
    }

    private static bool TryLoadLibTorchCuda(out IntPtr library)
    {
        if (NativeLibrary.TryLoad("libtorch_cuda.so", out library))
            return true;
        // TorchSharp may have loaded it by full path from its runtimes folder; dlopen of that path returns the same handle.
        foreach (ProcessModule module in Process.GetCurrentProcess().Modules)
        {
            if (module.ModuleName == "libtorch_cuda.so" && NativeLibrary.TryLoad(module.FileName, out library))
                return true;
        }
        library = IntPtr.Zero;
        return false;
    }

    public CudaGeneratorState Read(int device)
    {
        IntPtr generator = _generators[device];
        return new CudaGeneratorState(_currentSeed(generator), _philoxOffset(generator));
    }

    public void Write(int device, CudaGeneratorState state)
    {
        if (state.Offset % 4 != 0)
            throw new ArgumentException($"A CUDA Philox offset is a multiple of 4; {state.Offset} is not.", nameof(state));
        IntPtr generator = _generators[device];
        _setCurrentSeed(generator, state.Seed); // also resets the offset to 0
        // Each call checks for CUDA graph capture through the CUDA runtime (about a microsecond on an H200), so the
        // offset is written only when it is not the 0 that set_current_seed left: block entries skip it.
        if (state.Offset != 0)
            _setPhiloxOffset(generator, state.Offset);
    }

    public void SeedAll(ulong seed)
    {
        for (int device = 0; device < _generators.Length; device++)
            Write(device, new CudaGeneratorState(seed, 0));
    }
}
