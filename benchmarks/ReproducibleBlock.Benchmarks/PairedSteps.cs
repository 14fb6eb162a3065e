extern alias woven;
extern alias unisolated;

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using Plain = ReproducibleBlock.Benchmarks.Models;
using Unisolated = unisolated::ReproducibleBlock.Benchmarks.Models;
using Woven = woven::ReproducibleBlock.Benchmarks.Models;

namespace ReproducibleBlock.Benchmarks;

/// <summary>
/// A paired measurement of <see cref="WovenTrainingBenchmarks"/>' steps (<c>--paired [rounds]</c>), for a machine too busy
/// for BenchmarkDotNet to resolve a few percent: each round times a batch of steps of each variant back to back, in an
/// order that alternates from round to round, so that both see the same load; the ratio of each round's times is one
/// sample, and the median of the samples (with the 2.5th and 97.5th percentiles of the medians of 2,000 bootstrap
/// resamples) is reported, not the means.
/// </summary>
internal static class PairedSteps
{
    public static void Run(int rounds)
    {
        Console.WriteLine($"Paired steps: {rounds} rounds; torch threads {TorchSharp.torch.get_num_threads()}");
        Reproducible.SetSeed(42);
        Compare("ResNet-18 step (batch 8, 3x16x16)", rounds, stepsPerRound: 2,
            WovenTrainingBenchmarks.Prepare(Plain.BenchResNet.ResNet18(10), 8, 16, 10),
            WovenTrainingBenchmarks.Prepare(Woven.BenchResNet.ResNet18(10), 8, 16, 10),
            WovenTrainingBenchmarks.Prepare(Unisolated.BenchResNet.ResNet18(10), 8, 16, 10));
        Compare("Example step (batch 32, 3x12x12)", rounds, stepsPerRound: 20,
            WovenTrainingBenchmarks.Prepare(new Plain.BenchSmallCnn(), 32, 12, 4),
            WovenTrainingBenchmarks.Prepare(new Woven.BenchSmallCnn(), 32, 12, 4),
            WovenTrainingBenchmarks.Prepare(new Unisolated.BenchSmallCnn(), 32, 12, 4));
    }

    private static void Compare(string what, int rounds, int stepsPerRound, WovenTrainingBenchmarks.Step plain, WovenTrainingBenchmarks.Step woven, WovenTrainingBenchmarks.Step unisolated)
    {
        var variants = new[] { ("not woven", plain), ("woven", woven), ("woven, IsolateParts = false", unisolated) };
        var times = variants.Select(_ => new List<double>()).ToArray();
        for (int round = 0; round < rounds; round++)
        {
            for (int k = 0; k < variants.Length; k++)
            {
                int v = (k + round) % variants.Length; // a different variant goes first each round
                long start = Stopwatch.GetTimestamp();
                for (int s = 0; s < stepsPerRound; s++)
                    variants[v].Item2.Run();
                times[v].Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds / stepsPerRound);
            }
        }
        Console.WriteLine($"{what}: median per step, not woven {Median(times[0]):F3} ms");
        for (int v = 1; v < variants.Length; v++)
        {
            double[] ratios = [.. times[v].Zip(times[0], (a, b) => a / b)];
            (double low, double high) = Bootstrap(ratios);
            Console.WriteLine($"  {variants[v].Item1}: median {Median(times[v]):F3} ms, ratio to not woven {Median(ratios):F4} (95% bootstrap {low:F4} .. {high:F4})");
        }
        foreach ((string _, WovenTrainingBenchmarks.Step step) in variants)
            step.Dispose();
    }

    private static double Median(IReadOnlyCollection<double> values)
    {
        double[] sorted = [.. values.Order()];
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static (double Low, double High) Bootstrap(double[] samples)
    {
        var random = new Random(1);
        double[] medians = [.. Enumerable.Range(0, 2000).Select(_ => Median([.. Enumerable.Range(0, samples.Length).Select(_ => samples[random.Next(samples.Length)])])).Order()];
        return (medians[50], medians[1949]);
    }
}
