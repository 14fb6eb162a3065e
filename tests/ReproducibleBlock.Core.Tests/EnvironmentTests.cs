using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.State;
using ReproducibleBlock.Tests.Shared;

namespace ReproducibleBlock.Tests;

/// <summary>The environment record: what it reads on this machine, how snapshots carry it, what Restore says about it.</summary>
[TestClass]
public sealed class EnvironmentTests : RuntimeTest
{
    [TestMethod]
    public void Current_NamesTheLoadedLibtorchAndTheKernelsItPicked()
    {
        Reproducible.SetSeed(5, BlockDerivation.ResetAndAdvance);
        ReproducibleEnvironment environment = ReproducibleEnvironment.Current();
        if (OperatingSystem.IsLinux() && System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64)
        {
            Assert.IsTrue(environment.LibTorchVersion?.StartsWith("2.10", StringComparison.Ordinal), $"the test run loads libtorch 2.10 (TorchSharp-cpu 0.107), read {environment.LibTorchVersion}");
            CollectionAssert.Contains(new[] { "DEFAULT", "AVX2", "AVX512", "AVX512_VNNI", "AVX512_BF16", "AVX512_FP16" }, environment.CpuCapability);
        }
        Assert.AreEqual(5L, environment.RootSeed);
        Assert.AreEqual(BlockDerivation.ResetAndAdvance, environment.Derivation);
        Assert.AreEqual(TorchSharp.torch.get_num_threads(), environment.TorchThreads);
        if (!TorchSharp.torch.cuda.is_available())
        {
            Assert.AreEqual(0, environment.CudaDevices);
            Assert.IsNull(environment.CudaVersion);
            Assert.IsNull(environment.CuDnnVersion);
        }
        Assert.IsFalse(environment.DeterministicAlgorithms);
        StringAssert.StartsWith(environment.ReproducibleBlockVersion, "0.");
        StringAssert.Contains(environment.ToString(), "root seed 5, ResetAndAdvance");
        Assert.AreEqual(0, environment.DifferencesFrom(ReproducibleEnvironment.Current()).Count);
    }

    [TestMethod]
    public void CpuCapability_IsTheOneLibtorchWasToldToUse()
    {
        // ATEN_CPU_CAPABILITY is read when libtorch loads: the stream probe runs in a process of its own.
        if (!OperatingSystem.IsLinux() || System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture != System.Runtime.InteropServices.Architecture.X64)
            Assert.Inconclusive("the capability is read on Linux x64 only");
        AppRun run = Repository.RunApp(Path.Combine(AppContext.BaseDirectory, "ReproducibleBlock.StreamProbe.dll"), ["--environment"],
            new Dictionary<string, string> { ["ATEN_CPU_CAPABILITY"] = "default" });
        string output = run.Output;
        StringAssert.Contains(output, "(DEFAULT kernels)");
    }

    [TestMethod]
    public void Snapshots_CarryTheEnvironment_AndVersionOneBytesStillRestore()
    {
        Reproducible.SetSeed(42);
        byte[] bytes = Reproducible.Capture().ToBytes();
        ReproducibleEnvironment? carried = RngSnapshot.FromBytes(bytes).Data.Environment;
        Assert.IsNotNull(carried);
        Assert.AreEqual(0, carried.DifferencesFrom(ReproducibleEnvironment.Current()).Count, string.Join("; ", carried.DifferencesFrom(ReproducibleEnvironment.Current())));
        Assert.AreEqual(ReproducibleEnvironment.Current().ToString(), carried.ToString());
    }

    [TestMethod]
    public void VersionOneSnapshotOf010_RestoresAndDrawsWhatItsRunDrew()
    {
        // Written with the version-1 writer, unchanged since 0.1.0 (Fixtures/snapshot-v1.bin): SetSeed(42); InstanceBlock(3) entered and left; then
        // inside Block(5) > Block(6, restoreOnExit: true), InstanceBlock(7) entered and left, 3 torch draws and 2
        // managed draws, then Capture. The values after it were drawn by that run.
        byte[] bytes = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "snapshot-v1.bin"));
        Assert.AreEqual((ushort)1, BitConverter.ToUInt16(bytes, 8), "a version-1 snapshot");
        RngSnapshot snapshot = RngSnapshot.FromBytes(bytes);
        Assert.IsNull(snapshot.Data.Environment);
        long[] second7 = Second7();

        // Resumed as a program does: what was built before the checkpoint is built again, then the snapshot restored.
        Reproducible.SetSeed(42);
        using (Reproducible.InstanceBlock(3)) { }
        using (Reproducible.Block(5))
        using (Reproducible.Block(6, restoreOnExit: true))
        {
            using (Reproducible.InstanceBlock(7)) { }
            Reproducible.Restore(snapshot);
            CollectionAssert.AreEqual(new long[] { 2113428651, 429960309, 512141632, 630689773 }, Draws.Torch(4));
            CollectionAssert.AreEqual(new long[] { 5462265156014125180, 2462209049199371915 }, Draws.Managed(2));
            using (Reproducible.InstanceBlock(7))
                CollectionAssert.AreEqual(second7, Draws.Torch(2), "the restored counters make this the second instance");
        }

        static long[] Second7()
        {
            Reproducible.SetSeed(42);
            using (Reproducible.Block(5))
            using (Reproducible.Block(6, restoreOnExit: true))
            {
                using (Reproducible.InstanceBlock(7)) { }
                using (Reproducible.InstanceBlock(7))
                    return Draws.Torch(2);
            }
        }
    }

    [TestMethod]
    public void Restore_InAnotherEnvironment_WarnsNamingEachDifference_AndRestoresAnyway()
    {
        var warnings = new List<string>();
        var runtime = new BlockRuntime(_ => NoCudaGenerators.Instance) { WarningHandler = warnings.Add };
        runtime.SetSeed(3, BlockDerivation.Keyed);
        SnapshotData captured = runtime.Capture();
        ReproducibleEnvironment here = captured.Environment!;
        var elsewhere = ReproducibleEnvironment.FromPairs(here.ToPairs()
            .Select(p => p.Name switch
            {
                nameof(ReproducibleEnvironment.LibTorchVersion) => (p.Name, "2.11.0"),
                nameof(ReproducibleEnvironment.CpuVendor) => (p.Name, "GenuineIntel-or-not"),
                nameof(ReproducibleEnvironment.RootSeed) => (p.Name, "99"),
                _ => p,
            })
            .ToDictionary(p => p.Item1, p => p.Item2));
        var snapshot = new SnapshotData
        {
            RootSeed = captured.RootSeed,
            Derivation = captured.Derivation,
            Reference = captured.Reference,
            Current = captured.Current,
            Root = captured.Root,
            Frames = captured.Frames,
            Environment = elsewhere,
        };
        long[] expected = Draws.Torch(3);
        runtime.Restore(snapshot);
        CollectionAssert.AreEqual(expected, Draws.Torch(3), "restored all the same");
        Assert.AreEqual(1, warnings.Count);
        StringAssert.Contains(warnings[0], "libtorch: 2.11.0 there");
        StringAssert.Contains(warnings[0], "CPU vendor: GenuineIntel-or-not there");
        Assert.IsFalse(warnings[0].Contains("root seed", StringComparison.Ordinal), "a restore replaces the seeding, so it cannot differ in effect");
    }

    [TestMethod]
    public void EnvironmentRecord_RoundTripsThroughTheFormat_AndBadRecordsAreRejected()
    {
        Reproducible.SetSeed(8);
        SnapshotData data = Reproducible.Capture().Data;
        SnapshotData read = SnapshotFormat.Read(SnapshotFormat.Write(data));
        CollectionAssert.AreEqual(data.Environment!.ToPairs().ToList(), read.Environment!.ToPairs().ToList());
        Assert.ThrowsExactly<FormatException>(() => ReproducibleEnvironment.FromPairs(new Dictionary<string, string> { ["TorchThreads"] = "many" }));
        Assert.ThrowsExactly<FormatException>(() => ReproducibleEnvironment.FromPairs(new Dictionary<string, string> { ["Derivation"] = "Sideways" }));
        Assert.AreEqual("unknown", ReproducibleEnvironment.FromPairs(new Dictionary<string, string> { ["FromALaterVersion"] = "x" }).CpuModel);
    }
}
