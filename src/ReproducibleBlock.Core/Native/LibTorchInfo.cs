using System;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;

namespace ReproducibleBlock.Native;

/// <summary>
/// What the loaded libtorch says about itself, through its exported C++ functions that return a <c>std::string</c>:
/// its version (from <c>at::show_config()</c>) and the CPU capability its vectorised kernels use
/// (<c>at::get_cpu_capability()</c>). TorchSharp's <c>torch.__version__</c> is a constant compiled into TorchSharp,
/// whatever libtorch is loaded.
/// </summary>
/// <remarks>
/// A function returning a <c>std::string</c> writes it into memory the caller passes as a hidden first argument: that
/// is the x86-64 System V convention with libstdc++'s layout (pointer, length, 16-byte inline buffer), so these calls
/// are made on Linux x64 only; elsewhere the values are unknown (null).
/// </remarks>
internal static unsafe class LibTorchInfo
{
    private const string ShowConfig = "_ZN2at11show_configB5cxx11Ev";
    private const string GetCpuCapability = "_ZN2at18get_cpu_capabilityB5cxx11Ev";
    private const string OperatorDelete = "_ZdlPv";

    /// <summary>The loaded libtorch's version ("2.10.0"), or null when it cannot be read.</summary>
    public static string? Version()
    {
        string? config = CallReturningString(ShowConfig);
        const string Key = "TORCH_VERSION=";
        int start = config?.IndexOf(Key, StringComparison.Ordinal) ?? -1;
        if (start < 0)
            return null;
        start += Key.Length;
        int end = start;
        while (end < config!.Length && config[end] is not (',' or ' ' or '\n' or '\r'))
            end++;
        return config[start..end];
    }

    /// <summary>The CPU capability libtorch dispatches its kernels to ("AVX2", "AVX512", "DEFAULT"), or null when unknown.</summary>
    public static string? CpuCapability() => CallReturningString(GetCpuCapability);

    private static string? CallReturningString(string export)
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64)
            return null;
        if (!LoadedLibraries.TryGet(LoadedLibraries.FileNames("torch_cpu"), out IntPtr library)
            || !NativeLibrary.TryGetExport(library, export, out IntPtr function))
        {
            return null;
        }
        byte* text = stackalloc byte[32]; // std::string: char* data, size_t size, then 16 bytes of inline buffer or capacity
        ((delegate* unmanaged<byte*, void>)function)(text);
        byte* data = *(byte**)text;
        long length = *(long*)(text + 8);
        string value = Encoding.UTF8.GetString(data, checked((int)length));
        if (data != text + 16 && TryGetOperatorDelete(out delegate* unmanaged<byte*, void> delete))
            delete(data); // the string's heap buffer (short strings live inside it)
        return value;
    }

    private static bool TryGetOperatorDelete(out delegate* unmanaged<byte*, void> delete)
    {
        delete = null;
        if (!LoadedLibraries.TryGet(["libstdc++.so.6"], out IntPtr library) || !NativeLibrary.TryGetExport(library, OperatorDelete, out IntPtr function))
            return false;
        delete = (delegate* unmanaged<byte*, void>)function;
        return true;
    }

    /// <summary>The first "model name" of /proc/cpuinfo on Linux; elsewhere the processor architecture.</summary>
    public static string CpuModel()
    {
        try
        {
            if (OperatingSystem.IsLinux() && System.IO.File.Exists("/proc/cpuinfo"))
            {
                string? line = System.IO.File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
                if (line is not null)
                    return line[(line.IndexOf(':') + 1)..].Trim();
            }
        }
        catch (System.IO.IOException)
        {
            // fall through to the architecture
        }
        return RuntimeInformation.ProcessArchitecture.ToString();
    }

    /// <summary>The CPU vendor (CPUID's "GenuineIntel", "AuthenticAMD"), or the architecture on other processors.</summary>
    public static string CpuVendor()
    {
        if (!System.Runtime.Intrinsics.X86.X86Base.IsSupported)
            return RuntimeInformation.ProcessArchitecture.ToString();
        (_, int ebx, int ecx, int edx) = System.Runtime.Intrinsics.X86.X86Base.CpuId(0, 0);
        Span<byte> vendor = stackalloc byte[12];
        BitConverter.TryWriteBytes(vendor, ebx);
        BitConverter.TryWriteBytes(vendor[4..], edx);
        BitConverter.TryWriteBytes(vendor[8..], ecx);
        return Encoding.ASCII.GetString(vendor);
    }
}
