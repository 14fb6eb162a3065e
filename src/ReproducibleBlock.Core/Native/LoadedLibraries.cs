using System;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace ReproducibleBlock.Native;

/// <summary>Finds a native library that TorchSharp has already loaded, to call exports TorchSharp does not wrap.</summary>
internal static class LoadedLibraries
{
    /// <summary>The platform's file names of a libtorch library: <c>libtorch_cpu.so</c>, <c>libtorch_cpu.dylib</c>, <c>torch_cpu.dll</c>.</summary>
    public static string[] FileNames(string name) => [$"lib{name}.so", $"lib{name}.dylib", $"{name}.dll"];

    /// <summary>
    /// A handle to the loaded library with one of <paramref name="fileNames"/>. Loading by file name returns the copy
    /// already in the process when its name matches; TorchSharp may have loaded it by full path from its runtimes
    /// folder, so the process's modules are searched too.
    /// </summary>
    public static bool TryGet(string[] fileNames, out IntPtr handle)
    {
        foreach (string fileName in fileNames)
        {
            if (NativeLibrary.TryLoad(fileName, out handle))
                return true;
        }
        foreach (ProcessModule module in Process.GetCurrentProcess().Modules)
        {
            if (Array.IndexOf(fileNames, module.ModuleName) >= 0 && NativeLibrary.TryLoad(module.FileName, out handle))
                return true;
        }
        handle = IntPtr.Zero;
        return false;
    }
}
