using System;
using System.Linq;
using System.Runtime.InteropServices;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;

namespace ReproducibleBlock.Tests.Cuda;

/// <summary>
/// The guard every real-CUDA test starts with. Without a CUDA device the test is inconclusive, with the reason, so a
/// CPU run neither fails nor counts it as passed; with <c>REQUIRE_CUDA=1</c> (the GPU job) it fails instead, so that job
/// cannot pass without having run them.
/// </summary>
internal static class CudaDevice
{
    /// <summary>The environment variable that turns a missing CUDA device into a failure.</summary>
    public const string RequireVariable = "REQUIRE_CUDA";

    /// <summary>The number of CUDA devices (at least 1); ends the test as inconclusive (or failed) when there is none.</summary>
    public static int Require()
    {
        string? reason = Unavailable();
        if (reason is null)
            return torch.cuda.device_count();
        string message = $"No CUDA device: {reason}. The CUDA tests run on a GPU runner (see docs/contributing.md, Testing).";
        if (Environment.GetEnvironmentVariable(RequireVariable) == "1")
            Assert.Fail($"{message} {RequireVariable}=1 requires one.");
        Assert.Inconclusive($"{message} Set {RequireVariable}=1 to make this a failure.");
        return 0; // not reached
    }

    private static string? Unavailable()
    {
        try
        {
            if (!torch.cuda.is_available())
                return "torch.cuda.is_available() is false (a CPU libtorch, or no GPU or driver)";
            if (torch.cuda.device_count() <= 0)
                return "torch.cuda.device_count() is 0";
            torch.zeros(1, device: torch.CUDA).Dispose(); // initialises CUDA, as the library's detection does
            return null;
        }
        catch (Exception e) when (e is InvalidOperationException or TypeInitializationException or DllNotFoundException or ExternalException)
        {
            Exception cause = e is TypeInitializationException { InnerException: not null } ? e.InnerException : e; // the libtorch that failed to load
            return $"CUDA could not be initialised ({cause.GetType().Name}: {cause.Message})";
        }
    }

    /// <summary>n standard normal values drawn on <paramref name="device"/> (the CUDA generator of that device).</summary>
    public static float[] Normal(int n, int device = 0)
    {
        using torch.Tensor drawn = torch.randn(n, device: torch.device(DeviceType.CUDA, device));
        using torch.Tensor onCpu = drawn.cpu();
        return onCpu.data<float>().ToArray();
    }

    /// <summary>A dropout mask (1 kept, 0 dropped) of n elements drawn on the first CUDA device.</summary>
    public static float[] DropoutMask(int n)
    {
        using torch.Tensor ones = torch.ones(n, device: torch.CUDA);
        using torch.Tensor dropped = torch.nn.functional.dropout(ones, 0.5, training: true);
        using torch.Tensor mask = dropped.ne(0).to(torch.ScalarType.Float32).cpu();
        return mask.data<float>().ToArray();
    }
}
