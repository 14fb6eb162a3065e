using System;
using System.Runtime.InteropServices;

namespace ReproducibleBlock.Native;

/// <summary>
/// The process's native environment, which native code (cuBLAS) reads. On Unix, .NET's
/// <see cref="Environment.SetEnvironmentVariable(string, string)"/> changes only a managed copy, so variables that
/// native code must see are read and written through the C library. <c>setenv</c> is not safe against a concurrent
/// <c>getenv</c> on another thread: set variables at start-up, before worker threads run.
/// </summary>
internal static partial class NativeEnvironment
{
    public static string? Get(string name)
    {
        if (OperatingSystem.IsWindows())
            return Environment.GetEnvironmentVariable(name);
        IntPtr value = GetEnv(name);
        return value == IntPtr.Zero ? null : Marshal.PtrToStringUTF8(value);
    }

    /// <exception cref="InvalidOperationException">The C library refused the variable.</exception>
    public static void Set(string name, string value)
    {
        if (OperatingSystem.IsWindows())
        {
            // The C runtime keeps its own copy of the environment, read by getenv in native code.
            Environment.SetEnvironmentVariable(name, value);
            if (PutEnvWide(name, value) != 0)
                throw new InvalidOperationException($"The C runtime refused to set {name}.");
            return;
        }
        if (SetEnv(name, value, 1) != 0)
            throw new InvalidOperationException($"The C library refused to set {name} (errno {Marshal.GetLastPInvokeError()}).");
        Environment.SetEnvironmentVariable(name, value);
    }

    [LibraryImport("libc", EntryPoint = "getenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr GetEnv(string name);

    [LibraryImport("libc", EntryPoint = "setenv", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);

    [LibraryImport("ucrtbase", EntryPoint = "_wputenv_s", StringMarshalling = StringMarshalling.Utf16)]
    private static partial int PutEnvWide(string name, string value);
}
