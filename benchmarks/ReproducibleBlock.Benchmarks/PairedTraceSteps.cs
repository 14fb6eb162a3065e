using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ReproducibleBlock.Benchmarks;

/// <summary>
/// What tracing adds to a training step, measured in pairs (<c>--paired-trace-steps [rounds]</c>): each round runs a few
/// steps of <see cref="TrainingStepBenchmarks"/>' model (continuing blocks around each module's forward) untraced, traced,
/// and traced with output tensors, one after the other, and keeps each traced time's ratio to the untraced one of the
/// same round. On a shared machine whose load drifts within seconds, the ratios of neighbouring measurements are
/// steadier than means taken minutes apart (BenchmarkDotNet runs one benchmark after another). libtorch runs on one
/// intra-op thread here.
/// </summary>
internal static class PairedTraceSteps
{
    private const int StepsPerMeasurement = 10;

    public static void Run(int rounds)
    {
        string nullDevice = OperatingSystem.IsWindows() ? "NUL" : "/dev/null";
        // One intra-op thread: on a shared machine, libtorch's worker threads waiting for a core swamp what is measured.
        torch.set_num_threads(1);
        Reproducible.SetSeed(42);
        using Tensor images = torch.randn(32, 3, 12, 12), labels = torch.randint(0, 4, [32]);
        var model = new StepNet(continuing: true);
        model.train();
        using SGD optimizer = optim.SGD(model.parameters(), 0.05, momentum: 0.9);
        double Measure(bool trace, bool tensors)
        {
            if (trace)
                BlockTrace.Start(nullDevice, tensors);
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < StepsPerMeasurement; i++)
            {
                using DisposeScope scope = torch.NewDisposeScope();
                optimizer.zero_grad();
                Tensor loss = nn.functional.cross_entropy(model.forward(images), labels);
                loss.backward();
                optimizer.step();
            }
            double elapsed = Stopwatch.GetElapsedTime(start).TotalMilliseconds / StepsPerMeasurement;
            if (trace)
                BlockTrace.Stop();
            return elapsed;
        }
        for (int warm = 0; warm < 5; warm++)
        {
            Measure(false, false);
            Measure(true, false);
            Measure(true, true);
        }
        var plain = new List<double>();
        var traced = new List<double>();
        var tensors = new List<double>();
        var tracedRatio = new List<double>();
        var tensorsRatio = new List<double>();
        for (int round = 0; round < rounds; round++)
        {
            double p = Measure(false, false), t = Measure(true, false), w = Measure(true, true);
            plain.Add(p);
            traced.Add(t);
            tensors.Add(w);
            tracedRatio.Add(t / p);
            tensorsRatio.Add(w / p);
        }
        Console.WriteLine($"{rounds} rounds of {StepsPerMeasurement} steps each way (ms per step, median [interquartile range]):");
        Console.WriteLine($"  untraced              {Summary(plain)}");
        Console.WriteLine($"  traced                {Summary(traced)}   ratio to untraced {Summary(tracedRatio)}");
        Console.WriteLine($"  traced, with tensors  {Summary(tensors)}   ratio to untraced {Summary(tensorsRatio)}");
        model.Dispose();
    }

    private static string Summary(List<double> values)
    {
        double[] sorted = [.. values.Order()];
        double At(double q) => sorted[(int)Math.Round(q * (sorted.Length - 1))];
        return string.Create(CultureInfo.InvariantCulture, $"{At(0.5):0.000} [{At(0.25):0.000} to {At(0.75):0.000}]");
    }
}
