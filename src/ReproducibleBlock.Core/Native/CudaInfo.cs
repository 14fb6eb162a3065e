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
}
