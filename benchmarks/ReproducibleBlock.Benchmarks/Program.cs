using System.Linq;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

// Always in-process: BenchmarkDotNet's generated projects would copy TorchSharp's native library without the
// libstdc++ build step, and it would not load on Debian 12 / Ubuntu 22.04.
System.Console.WriteLine($"CUDA available to TorchSharp: {TorchSharp.torch.cuda.is_available()} (blocks also set every CUDA device's generator when it is)");
string[] arguments = args.Contains("--inProcess") ? args : [.. args, "--inProcess"];
BenchmarkSwitcher.FromAssembly(typeof(ReproducibleBlock.Benchmarks.BlockBenchmarks).Assembly)
    .Run(arguments, DefaultConfig.Instance.WithOptions(ConfigOptions.DisableOptimizationsValidator));
