using System;
using ReproducibleBlock.Native;
using TorchSharp;

namespace ReproducibleBlock;

/// <summary>What <see cref="Reproducible.UseDeterministicAlgorithms"/> does: libtorch's switches, and cuBLAS's variable.</summary>
internal static class Determinism
{
    private static readonly object Gate = new();

    /// <summary>cuDNN's deterministic and benchmark modes as they were before this library turned determinism on; null while it is off.</summary>
    private static (bool Deterministic, bool Benchmark)? s_cuDnnBefore;

    public static bool Enabled => LibTorchContext.Instance.DeterministicAlgorithms;

    public static void Use(bool enabled, bool warnOnly, Action<string> warn)
    {
        lock (Gate)
        {
            LibTorchContext context = LibTorchContext.Instance;
            if (enabled)
            {
                s_cuDnnBefore ??= (context.DeterministicCuDnn, context.BenchmarkCuDnn);
                context.DeterministicCuDnn = true;
                context.BenchmarkCuDnn = false; // benchmark mode picks kernels by timing, which differs from run to run
                context.SetDeterministicAlgorithms(true, warnOnly);
                if (torch.cuda.is_available())
                    CublasWorkspace.MakeDeterministic(warn);
                return;
            }
            context.SetDeterministicAlgorithms(false, false);
            if (s_cuDnnBefore is var (deterministic, benchmark))
            {
                context.DeterministicCuDnn = deterministic;
                context.BenchmarkCuDnn = benchmark;
                s_cuDnnBefore = null;
            }
        }
    }
}
