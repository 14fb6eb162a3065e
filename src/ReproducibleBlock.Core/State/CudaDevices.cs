using System;
using System.Runtime.InteropServices;
using TorchSharp;

namespace ReproducibleBlock.State;

/// <summary>Seeds the default CUDA generator of every device: all that TorchSharp itself can do.</summary>
internal interface ICudaSeeder
{
    /// <summary>How many CUDA devices there are (at least 1: without devices there is nothing to seed).</summary>
    int DeviceCount { get; }

    /// <summary>Seeds every device, offset 0, one after the other.</summary>
    void SeedAll(ulong seed);
}

/// <summary>
/// Reads and writes the exact state of every device's default CUDA generator. The runtime reaches CUDA only through
/// this interface and <see cref="ICudaSeeder"/>, so tests stand in for CUDA (which the CI machine lacks) with a fake.
/// </summary>
internal interface ICudaDevices : ICudaSeeder
{
    CudaGeneratorState Read(int device);

    void Write(int device, CudaGeneratorState state);
}

/// <summary>Finds the best available CUDA access: exact state through libtorch's exports, else seeding, else none.</summary>
internal static class CudaDetection
{
    /// <summary>
    /// Called once, when the library first seeds. When CUDA is unavailable this is one cheap query and nothing is loaded.
    /// </summary>
    public static ICudaGenerators Detect(Action<string> warn)
    {
        if (!torch.cuda.is_available())
            return NoCudaGenerators.Instance;
        int devices = torch.cuda.device_count();
        if (devices <= 0)
            return NoCudaGenerators.Instance;
        // The exports below read the generators, which exist only once CUDA is initialised.
        torch.zeros(1, device: torch.CUDA).Dispose();
        if (LibTorchCudaDevices.TryCreate(devices, out LibTorchCudaDevices? exact, out string? why))
            return new ExactCudaGenerators(exact!);
        warn($"CUDA generator state cannot be read or written here ({why}). Blocks re-seed CUDA with torch.cuda.manual_seed_all instead: "
            + "entering a block still gives it its own CUDA stream, but restoreOnExit continues CUDA from a fresh derived seed instead of restoring it, "
            + "and snapshots do not carry CUDA state.");
        return new SeedOnlyCudaGenerators(new TorchSharpCudaSeeder(devices));
    }
}

/// <summary>CUDA through TorchSharp alone: <c>torch.cuda.manual_seed_all</c>.</summary>
internal sealed class TorchSharpCudaSeeder(int deviceCount) : ICudaSeeder
{
    public int DeviceCount { get; } = deviceCount;
    public void SeedAll(ulong seed) => torch.cuda.manual_seed_all(unchecked((long)seed));
}

/// <summary>
/// Exact CUDA generator state through libtorch_cuda's exported C++ functions, by their Itanium names on Linux and
/// their MSVC names on Windows (<see cref="Native.CudaGeneratorExports"/>); where they are missing, detection falls
/// back to <see cref="TorchSharpCudaSeeder"/>.
/// </summary>
/// <remarks>
/// TorchSharp has no CUDA generator API. <c>at::cuda::detail::getDefaultCUDAGenerator(signed char)</c> returns
/// a <c>const at::Generator&amp;</c> whose first field is the <c>CUDAGeneratorImpl*</c>; its member functions take
/// that pointer as their first argument. Seed and offset are the whole Philox state: writing back a saved
/// pair repeats the same draws (checked on an H100 against libtorch 2.11).
/// </remarks>
internal sealed unsafe class LibTorchCudaDevices : ICudaDevices
{
    private readonly IntPtr[] _generators;
    private readonly delegate* unmanaged<IntPtr, ulong> _currentSeed;
    private readonly delegate* unmanaged<IntPtr, ulong, void> _setCurrentSeed;
    private readonly delegate* unmanaged<IntPtr, ulong> _philoxOffset;
    private readonly delegate* unmanaged<IntPtr, ulong, void> _setPhiloxOffset;

    private LibTorchCudaDevices(IntPtr[] generators, IntPtr currentSeed, IntPtr setCurrentSeed, IntPtr philoxOffset, IntPtr setPhiloxOffset)
    {
        _generators = generators;
        _currentSeed = (delegate* unmanaged<IntPtr, ulong>)currentSeed;
        _setCurrentSeed = (delegate* unmanaged<IntPtr, ulong, void>)setCurrentSeed;
        _philoxOffset = (delegate* unmanaged<IntPtr, ulong>)philoxOffset;
        _setPhiloxOffset = (delegate* unmanaged<IntPtr, ulong, void>)setPhiloxOffset;
    }

    public int DeviceCount => _generators.Length;

    public static bool TryCreate(int deviceCount, out LibTorchCudaDevices? generators, out string? why)
    {
        generators = null;
        string[] files = Native.CudaGeneratorExports.LibraryFileNames;
        if (!Native.LoadedLibraries.TryGet(files, out IntPtr library))
        {
            why = $"libtorch_cuda ({string.Join(", ", files)}) is not loaded in this process";
            return false;
        }
        IntPtr[]? exports = Native.CudaGeneratorExports.Resolve(
            Native.CudaGeneratorExports.ForThisPlatform,
            name => NativeLibrary.TryGetExport(library, name, out IntPtr address) ? address : IntPtr.Zero,
            out string? missing);
        if (exports is null)
        {
            why = $"libtorch_cuda does not export {missing}";
            return false;
        }
        var getDefault = (delegate* unmanaged<sbyte, IntPtr>)exports[Native.CudaGeneratorExports.GetDefaultGenerator];
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
        generators = new LibTorchCudaDevices(implementations,
            exports[Native.CudaGeneratorExports.CurrentSeed], exports[Native.CudaGeneratorExports.SetCurrentSeed],
            exports[Native.CudaGeneratorExports.PhiloxOffset], exports[Native.CudaGeneratorExports.SetPhiloxOffset]);
        why = null;
        return true;
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
