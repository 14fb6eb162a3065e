using System;

namespace ReproducibleBlock.Native;

/// <summary>cuBLAS's workspace configuration, which it reads from the native environment.</summary>
internal static class CublasWorkspace
{
    /// <summary>The configuration PyTorch documents for deterministic results (":16:8" also qualifies).</summary>
    internal const string CublasVariable = "CUBLAS_WORKSPACE_CONFIG";
    internal const string CublasDeterministicConfig = ":4096:8";

    private static int s_warned;

    /// <summary>
    /// cuBLAS reads CUBLAS_WORKSPACE_CONFIG when it creates a handle, which libtorch does on the first CUDA matrix
    /// product of each thread and stream; a handle created before the variable is set keeps a workspace that can make
    /// results differ. So the variable is set here, in the native environment, and the warning says how to set it
    /// before the process starts when that may be too late.
    /// </summary>
    public static void MakeDeterministic(Action<string> warn)
    {
        string? current = NativeEnvironment.Get(CublasVariable);
        if (current is CublasDeterministicConfig or ":16:8")
            return;
        NativeEnvironment.Set(CublasVariable, CublasDeterministicConfig);
        if (System.Threading.Interlocked.Exchange(ref s_warned, 1) == 1)
            return;
        warn($"{CublasVariable} was {(current is null ? "not set" : $"'{current}'")}; it is now {CublasDeterministicConfig}, which cuBLAS applies to the handles it "
            + "creates from now on. If CUDA matrix products already ran in this process, their handles keep the old workspace: set "
            + $"{CublasVariable}={CublasDeterministicConfig} in the environment before the process starts, as PyTorch's documentation asks.");
    }
}
