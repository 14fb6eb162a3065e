using System.Linq;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

// Always in-process: BenchmarkDotNet's generated projects would copy TorchSharp's native library without the
// libstdc++ build step, and it would not load on Debian 12 / Ubuntu 22.04.
if (args is ["--paired-trace-steps", .. string[] rest])
{
    // Not BenchmarkDotNet: tracing's cost in a training step, measured in interleaved pairs (PairedTraceSteps.cs).
    ReproducibleBlock.Benchmarks.PairedTraceSteps.Run(rest is [string rounds] ? int.Parse(rounds, System.Globalization.CultureInfo.InvariantCulture) : 100);
    return;
}
System.Console.WriteLine($"CUDA available to TorchSharp: {TorchSharp.torch.cuda.is_available()} (blocks also set every CUDA device's generator when it is)");
if (args.Length > 0 && args[0] == "--paired")
{
    // A paired measurement of the woven training steps, for a machine too busy for BenchmarkDotNet (PairedSteps):
    // --paired [rounds] [torch threads].
    if (args.Length > 2)
        TorchSharp.torch.set_num_threads(int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture));
    ReproducibleBlock.Benchmarks.PairedSteps.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 200);
    return;
}
string[] arguments = args.Contains("--inProcess") ? args : [.. args, "--inProcess"];
BenchmarkSwitcher.FromAssembly(typeof(ReproducibleBlock.Benchmarks.BlockBenchmarks).Assembly)
    .Run(arguments, DefaultConfig.Instance.WithOptions(ConfigOptions.DisableOptimizationsValidator));
