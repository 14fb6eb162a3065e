using System;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace ReproducibleBlock.Native;

/// <summary>CUDA facts TorchSharp does not expose, from the CUDA runtime library libtorch loaded (its C API).</summary>
internal static unsafe class CudaInfo
{
    /// <summary>The CUDA runtime version ("13.0") through <c>cudaRuntimeGetVersion</c>; null when it cannot be read.</summary>
    public static string? RuntimeVersion()
    {
        try
        {
            foreach (ProcessModule module in Process.GetCurrentProcess().Modules)
            {
                if (!module.ModuleName.StartsWith("libcudart", StringComparison.Ordinal) && !module.ModuleName.StartsWith("cudart64", StringComparison.Ordinal))
                    continue;
                if (NativeLibrary.TryLoad(module.FileName, out IntPtr library) && NativeLibrary.TryGetExport(library, "cudaRuntimeGetVersion", out IntPtr function))
                {
                    int version = 0;
                    if (((delegate* unmanaged<int*, int>)function)(&version) == 0)
                        return $"{version / 1000}.{version % 1000 / 10}";
                }
            }
        }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException or System.ComponentModel.Win32Exception)
        {
            // unknown
        }
        return null;
    }

    /// <summary>The cuDNN version ("9.10.2") through <c>cudnnGetVersion</c>, from the cuDNN library libtorch loaded; null when absent.</summary>
    public static string? CuDnnVersion()
    {
        IntPtr function = Export(["libcudnn", "cudnn64"], "cudnnGetVersion");
        if (function == IntPtr.Zero)
            return null;
        long version = (long)((delegate* unmanaged<nuint>)function)();
        // cuDNN 9 encodes major * 10000 + minor * 100 + patch; cuDNN 8, major * 1000 + minor * 100 + patch.
        return version >= 90000
            ? $"{version / 10000}.{version % 10000 / 100}.{version % 100}"
            : $"{version / 1000}.{version % 1000 / 100}.{version % 100}";
    }

    /// <summary>Each CUDA device's name through the driver's <c>cuDeviceGetName</c>; empty when it cannot be read.</summary>
    public static string[] DeviceNames(int devices)
    {
        IntPtr function = Export(["libcuda.so", "nvcuda"], "cuDeviceGetName");
        if (function == IntPtr.Zero)
            return [];
        var names = new string[devices];
        byte* name = stackalloc byte[256];
        for (int device = 0; device < devices; device++)
        {
            if (((delegate* unmanaged<byte*, int, int, int>)function)(name, 256, device) != 0)
                return [];
            names[device] = Marshal.PtrToStringUTF8((IntPtr)name) ?? "unknown";
        }
        return names;
    }

    /// <summary>An export of an already loaded module whose file name starts with one of <paramref name="prefixes"/>.</summary>
    private static IntPtr Export(string[] prefixes, string name)
    {
        try
        {
            foreach (ProcessModule module in Process.GetCurrentProcess().Modules)
            {
                if (Array.Exists(prefixes, prefix => module.ModuleName.StartsWith(prefix, StringComparison.Ordinal))
                    && NativeLibrary.TryLoad(module.FileName, out IntPtr library)
                    && NativeLibrary.TryGetExport(library, name, out IntPtr function))
                {
                    return function;
                }
            }
        }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException or System.ComponentModel.Win32Exception)
        {
            // unknown
        }
        return IntPtr.Zero;
    }
}
