using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.StreamProbe;
using ReproducibleBlock.Tests.Shared;

namespace ReproducibleBlock.Tests;

/// <summary>
/// Every stream a user can observe is pinned bit for bit (<see cref="PinnedStreams"/>): what the scenarios of
/// <see cref="Scenarios"/> draw today must be what they draw in every later release. <see cref="StreamModelTests"/>
/// derives the raw ones a second way, from the documented formulas.
/// </summary>
[TestClass]
public sealed class PinnedStreamTests : RuntimeTest
{
    public static IEnumerable<object[]> EveryCpuScenarios => PinnedStreams.EveryCpu.Keys.Select(name => new object[] { name });

    [TestMethod]
    [DynamicData(nameof(EveryCpuScenarios))]
    public void RawStream_IsPinned(string scenario) =>
        Assert.AreEqual(PinnedStreams.EveryCpu[scenario], Scenarios.Named(scenario).Run(), $"scenario {scenario} moved");

    [TestMethod]
    public void DropoutMasks_ArePinned()
    {
        if (IsIntelCpu())
        {
            Assert.Inconclusive("libtorch draws scalar-p Bernoulli masks (dropout) through MKL on Intel CPUs and through its generic path "
                + "elsewhere; the pinned masks are the generic path's (AMD, ARM). The raw streams behind them are pinned on every CPU.");
        }
        foreach ((string scenario, string expected) in PinnedStreams.EveryCpuButIntel)
            Assert.AreEqual(expected, Scenarios.Named(scenario).Run(), $"scenario {scenario} moved");
    }

    [TestMethod]
    public void FloatKernelStreams_ArePinned_UnderTheDefaultCpuCapability()
    {
        // A Linear's initial weights and randn of 16 or more elements pass through vectorised kernels whose last bits
        // depend on the CPU capability libtorch picks when it loads, so they are pinned with the capability fixed:
        // in a process of their own, started with ATEN_CPU_CAPABILITY=default.
        Dictionary<string, string> drawn = RunProbe(PinnedStreams.DefaultCapability.Keys, capability: "default");
        foreach ((string scenario, string expected) in PinnedStreams.DefaultCapability)
            Assert.AreEqual(expected, drawn[scenario], $"scenario {scenario} moved");
    }

    [TestMethod]
    public void FloatKernelStreams_InThisProcess_DifferFromThePinnedOnesOnlyInTheirLastBits()
    {
        // The same scenarios under this machine's own capability: each float within 1e-5 of the pinned value. This ties the
        // subprocess above to what users get in-process.
        foreach ((string scenario, string expected) in PinnedStreams.DefaultCapability)
        {
            float[] pinned = Floats(expected), here = Floats(Scenarios.Named(scenario).Run());
            Assert.AreEqual(pinned.Length, here.Length, scenario);
            for (int i = 0; i < pinned.Length; i++)
            {
                // Vectorised log/cos/fma round differently; the values are O(1), so compare absolutely.
                Assert.AreEqual(pinned[i], here[i], 1e-5f, $"{scenario}: value {i}");
            }
        }

        static float[] Floats(string line) => line.Split(' ')
            .Where(token => token.Length == 8 && token.All(Uri.IsHexDigit))
            .Select(token => BitConverter.Int32BitsToSingle(Convert.ToInt32(token, 16)))
            .ToArray();
    }

    [TestMethod]
    public void EveryScenario_IsPinned()
    {
        var pinned = PinnedStreams.EveryCpu.Keys.Concat(PinnedStreams.EveryCpuButIntel.Keys).Concat(PinnedStreams.DefaultCapability.Keys).ToList();
        CollectionAssert.AreEquivalent(Scenarios.All.Select(s => s.Name).ToList(), pinned);
        foreach (Scenario scenario in Scenarios.All)
        {
            IReadOnlyDictionary<string, string> table = scenario.Portability switch
            {
                Portability.EveryCpu => PinnedStreams.EveryCpu,
                Portability.EveryCpuButIntel => PinnedStreams.EveryCpuButIntel,
                _ => PinnedStreams.DefaultCapability,
            };
            Assert.IsTrue(table.ContainsKey(scenario.Name), $"{scenario.Name} is pinned in the wrong table for {scenario.Portability}");
        }
    }

    /// <summary>The vendor check libtorch's CPU Bernoulli kernel makes (through cpuinfo, which reads CPUID).</summary>
    internal static bool IsIntelCpu() => ReproducibleBlock.Native.LibTorchInfo.CpuVendor() == "GenuineIntel";

    /// <summary>Runs the scenarios in a new process whose libtorch starts with the given CPU capability.</summary>
    private static Dictionary<string, string> RunProbe(IEnumerable<string> scenarios, string capability)
    {
        AppRun run = Repository.RunApp(Path.Combine(AppContext.BaseDirectory, "ReproducibleBlock.StreamProbe.dll"), scenarios,
            new Dictionary<string, string> { ["ATEN_CPU_CAPABILITY"] = capability });
        Assert.AreEqual(0, run.ExitCode, $"the stream probe failed: {run.Error}");
        string output = run.Output;
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split('\t'))
            .ToDictionary(parts => parts[0], parts => parts[1]);
    }
}
