using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.IO.Hashing;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.State;
using ReproducibleBlock.Tests.Shared;
using ReproducibleBlock.Tracing;
using TorchSharp;

namespace ReproducibleBlock.Tests;

/// <summary>
/// Block tracing on real TorchSharp: the events, their paths and names, and fingerprints checked against the states
/// read here independently (torch.get_rng_state and the managed state, hashed with XXH3 by the test).
/// </summary>
[TestClass]
public sealed partial class TraceTests : RuntimeTest
{
    private string _path = null!;

    [TestInitialize]
    public void NewPath() => _path = Path.Combine(Path.GetTempPath(), $"rb-trace-{Guid.NewGuid():N}.jsonl");

    [TestCleanup]
    public void StopAndDelete()
    {
        BlockTrace.Stop();
        File.Delete(_path);
    }

    private List<JsonElement> Events()
    {
        BlockTrace.Stop();
        return File.ReadAllLines(_path).Select(line => JsonDocument.Parse(line).RootElement.Clone()).ToList();
    }

    private static string Hex(ulong value) => value.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);

    private static string CpuFingerprint() => Hex(XxHash3.HashToUInt64(Draws.CpuState()));

    private static string ManagedFingerprint()
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, BlockRuntime.Shared.Random.State);
        return Hex(XxHash3.HashToUInt64(bytes));
    }

    private static string ThisFile([CallerFilePath] string file = "") => BlockNames.Relative(file);

    private static int LineHere([CallerLineNumber] int line = 0) => line;

    [TestMethod]
    public void Trace_RecordsSeedEntryExitAndMark_WithTheStatesAsReadIndependently()
    {
        Reproducible.SetSeed(42);
        Draws.Torch(3);
        string started = BlockTrace.Start(_path);
        Assert.AreEqual(_path, started);
        Assert.IsTrue(BlockTrace.IsActive);
        Assert.AreEqual(_path, BlockTrace.Path);
        Reproducible.SetSeed(7);
        Draws.Torch(2);

        string beforeCpu = CpuFingerprint(), beforeManaged = ManagedFingerprint();
        string entryCpu, entryManaged, exitCpu, exitManaged;
        int line;
        using (Reproducible.InstanceBlock(5))
        {
            line = LineHere() - 2;
            entryCpu = CpuFingerprint();
            entryManaged = ManagedFingerprint();
            Draws.Torch(4);
            Draws.Managed(1);
            exitCpu = CpuFingerprint();
            exitManaged = ManagedFingerprint();
        }
        using torch.Tensor loss = torch.tensor(new float[] { 1.5f, -2f });
        BlockTrace.Mark("loss", loss);

        List<JsonElement> events = Events();
        Assert.IsFalse(BlockTrace.IsActive);
        Assert.AreEqual("trace", events[0].GetProperty("ev").GetString());
        Assert.AreEqual(2, events[0].GetProperty("format").GetInt32(), "format 2 since 0.3 (issue 21)");
        Assert.AreEqual(Environment.ProcessId, events[0].GetProperty("pid").GetInt32());
        CollectionAssert.AreEqual(new[] { "trace", "seed", "seed", "enter", "exit", "mark", "end" }, events.Select(e => e.GetProperty("ev").GetString()).ToArray());
        CollectionAssert.AreEqual(new long[] { 0, 1, 2, 3, 4, 5 }, events.Skip(1).Select(e => e.GetProperty("seq").GetInt64()).ToArray());

        // A trace started after SetSeed records the seeding in force, then each new one.
        Assert.AreEqual(42, events[1].GetProperty("rootSeed").GetInt64());
        Assert.AreEqual(7, events[2].GetProperty("rootSeed").GetInt64());
        Assert.AreEqual("Keyed", events[2].GetProperty("derivation").GetString());
        Assert.IsTrue(events[2].GetProperty("environment").TryGetProperty("TorchSharpVersion", out _));

        JsonElement enter = events[3], exit = events[4], mark = events[5];
        Assert.AreEqual("5#0", enter.GetProperty("path").GetString());
        Assert.AreEqual($"{ThisFile()}:{line}", enter.GetProperty("name").GetString(), "a hand-written block is named by its line");
        Assert.AreEqual("instance", enter.GetProperty("kind").GetString());
        Assert.IsFalse(enter.GetProperty("restore").GetBoolean());
        Assert.AreEqual(beforeCpu, enter.GetProperty("before").GetProperty("cpu").GetString());
        Assert.AreEqual(beforeManaged, enter.GetProperty("before").GetProperty("managed").GetString());
        Assert.AreEqual(entryCpu, enter.GetProperty("state").GetProperty("cpu").GetString());
        Assert.AreEqual(entryManaged, enter.GetProperty("state").GetProperty("managed").GetString());
        Assert.AreEqual(JsonValueKind.Null, enter.GetProperty("state").GetProperty("cuda").ValueKind, "no CUDA here");
        Assert.AreEqual("5#0", exit.GetProperty("path").GetString());
        Assert.AreEqual(enter.GetProperty("name").GetString(), exit.GetProperty("name").GetString());
        Assert.AreEqual(exitCpu, exit.GetProperty("state").GetProperty("cpu").GetString());
        Assert.AreEqual(exitManaged, exit.GetProperty("state").GetProperty("managed").GetString());

        Assert.AreEqual("", mark.GetProperty("path").GetString());
        Assert.AreEqual("loss", mark.GetProperty("name").GetString());
        byte[] lossBytes = new byte[8];
        BinaryPrimitives.WriteSingleLittleEndian(lossBytes, 1.5f);
        BinaryPrimitives.WriteSingleLittleEndian(lossBytes.AsSpan(4), -2f);
        Assert.AreEqual(Hex(XxHash3.HashToUInt64(lossBytes)), mark.GetProperty("fingerprint").GetString());
    }

    [TestMethod]
    public void NestedRestoringAndContinuingBlocks_HaveTheirPathsAndKinds()
    {
        Reproducible.SetSeed(3);
        BlockTrace.Start(_path);
        var owner = new object();
        using (Reproducible.Block(128))
        {
            using (Reproducible.InstanceBlock(1, restoreOnExit: true))
            {
            }
            using (Reproducible.InstanceBlock(1, restoreOnExit: true))
            {
                BlockTrace.Mark("inside");
            }
            using (Reproducible.ContinuingBlock(owner))
                Draws.Torch(1);
        }
        List<JsonElement> enters = Events().Where(e => e.GetProperty("ev").GetString() is "enter" or "mark").ToList();
        CollectionAssert.AreEqual(new[] { "128#0", "128#0/1#0", "128#0/1#1", "128#0/1#1" }, enters.Take(4).Select(e => e.GetProperty("path").GetString()).ToArray());
        Assert.AreEqual("block", enters[0].GetProperty("kind").GetString());
        Assert.IsTrue(enters[1].GetProperty("restore").GetBoolean());
        Assert.AreEqual("mark", enters[3].GetProperty("ev").GetString());
        Assert.AreEqual(Hex(new XxHash3().GetCurrentHashAsUInt64()), enters[3].GetProperty("fingerprint").GetString(), "no tensors: the empty input's hash");
        string continuing = enters[4].GetProperty("path").GetString()!;
        Assert.AreEqual("continuing", enters[4].GetProperty("kind").GetString());
        ulong key = KeyDerivation.Child(KeyDerivation.Child(KeyDerivation.Root(3), 128, 0), StreamRegistry.StreamSeed, 0);
        Assert.AreEqual("128#0/~" + Hex(key), continuing, "the stream's key: the first new stream under block 128");
    }

    [TestMethod]
    [DataRow(BlockDerivation.Keyed)]
    [DataRow(BlockDerivation.ResetAndAdvance)]
    public void EntryStates_OfEveryKindOfBlock_AreTheStatesTheBlocksSee(BlockDerivation derivation)
    {
        Reproducible.SetSeed(21, derivation);
        BlockTrace.Start(_path);
        var owner = new object();
        var seen = new List<string>();
        using (Reproducible.Block(4))
            seen.Add(CpuFingerprint());
        using (Reproducible.InstanceBlock(6, restoreOnExit: true))
            seen.Add(CpuFingerprint());
        for (int call = 0; call < 2; call++) // the first entry derives the stream, the second resumes it
        {
            using (Reproducible.ContinuingBlock(owner))
            {
                seen.Add(CpuFingerprint());
                Draws.Torch(3);
            }
        }
        string[] traced = Events().Where(e => e.GetProperty("ev").GetString() == "enter")
            .Select(e => e.GetProperty("state").GetProperty("cpu").GetString()!).ToArray();
        CollectionAssert.AreEqual(seen, traced);
    }

    [TestMethod]
    public void KeyedBlocks_StartFromTheSameStateWhateverWasDrawnBefore_WhichTheTraceShows()
    {
        (string Before, string State) Entry(int drawnBefore)
        {
            Reproducible.SetSeed(11);
            BlockTrace.Start(_path);
            Draws.Torch(drawnBefore);
            using (Reproducible.Block(9))
            {
            }
            JsonElement enter = Events().First(e => e.GetProperty("ev").GetString() == "enter");
            return (enter.GetProperty("before").GetProperty("cpu").GetString()!, enter.GetProperty("state").GetProperty("cpu").GetString()!);
        }
        (string before1, string state1) = Entry(1);
        (string before5, string state5) = Entry(5);
        Assert.AreNotEqual(before1, before5);
        Assert.AreEqual(state1, state5);
    }

    [TestMethod]
    public void PidInThePath_IsTheProcessId()
    {
        string template = _path.Replace(".jsonl", "-{pid}.jsonl", StringComparison.Ordinal);
        _path = BlockTrace.Start(template);
        Assert.IsTrue(_path.EndsWith($"-{Environment.ProcessId}.jsonl", StringComparison.Ordinal), _path);
        Assert.IsTrue(File.Exists(_path));
    }

    [TestMethod]
    public void StartingTwice_OrInsideABlock_IsRefused_AndStopWithoutATraceDoesNothing()
    {
        BlockTrace.Stop();
        Reproducible.SetSeed(1);
        using (Reproducible.Block(2))
        {
            var inside = Assert.ThrowsExactly<InvalidOperationException>(() => BlockTrace.Start(_path));
            StringAssert.Contains(inside.Message, "outside every block");
        }
        Assert.IsFalse(File.Exists(_path));
        BlockTrace.Start(_path);
        var twice = Assert.ThrowsExactly<InvalidOperationException>(() => BlockTrace.Start(_path + ".2"));
        StringAssert.Contains(twice.Message, _path);
        Assert.ThrowsExactly<ArgumentException>(() => BlockTrace.Start(" "));
        Assert.ThrowsExactly<ArgumentNullException>(() => BlockTrace.Mark(null!));
    }

    [TestMethod]
    public void Mark_WithTracingOff_ReadsNothing()
    {
        BlockTrace.Stop();
        using torch.Tensor disposed = torch.ones(2);
        disposed.Dispose();
        BlockTrace.Mark("never read", disposed); // a disposed tensor would throw if it were read
        Assert.IsFalse(BlockTrace.IsActive);
    }

    /// <summary>Runs the stream probe with <see cref="BlockTrace.EnvironmentVariable"/> set; returns its process id and exit code.</summary>
    private static (int Pid, int ExitCode) RunProbeTraced(string tracePath, params string[] arguments)
    {
        AppRun run = Repository.RunApp(Path.Combine(AppContext.BaseDirectory, "ReproducibleBlock.StreamProbe.dll"), arguments,
            new Dictionary<string, string> { [BlockTrace.EnvironmentVariable] = tracePath });
        return (run.ProcessId, run.ExitCode);
    }

    [TestMethod]
    public void EnvironmentVariable_TracesAProcessWithoutCodeChanges_InAFileOfItsOwn()
    {
        string folder = Path.Combine(Path.GetTempPath(), $"rb-traces-{Guid.NewGuid():N}");
        try
        {
            (int pid, int exitCode) = RunProbeTraced(Path.Combine(folder, "run-{pid}.jsonl"), "keyed/nested-1-9/torch");
            Assert.AreEqual(0, exitCode);
            string[] lines = File.ReadAllLines(Path.Combine(folder, $"run-{pid}.jsonl"));
            string[] events = lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("ev").GetString()!).ToArray();
            CollectionAssert.AreEqual(new[] { "trace", "seed", "enter", "enter", "exit", "exit", "end" }, events, "ended at process exit");
            Assert.AreEqual("1#0/9#0", JsonDocument.Parse(lines[3]).RootElement.GetProperty("path").GetString());
            StringAssert.StartsWith(JsonDocument.Parse(lines[3]).RootElement.GetProperty("name").GetString(), "tests/ReproducibleBlock.StreamProbe/Scenarios.cs:");
        }
        finally
        {
            if (Directory.Exists(folder))
                Directory.Delete(folder, recursive: true);
        }
    }

    [TestMethod]
    public void ACrashedRun_LeavesAReadablePrefix_WithoutAnEnd()
    {
        string folder = Path.Combine(Path.GetTempPath(), $"rb-traces-{Guid.NewGuid():N}");
        try
        {
            (int pid, int exitCode) = RunProbeTraced(Path.Combine(folder, "crash-{pid}.jsonl"), "--crash", "keyed/block64/torch", "keyed/root/managed");
            Assert.AreNotEqual(0, exitCode, "the probe crashed");
            string[] lines = File.ReadAllLines(Path.Combine(folder, $"crash-{pid}.jsonl"));
            string[] events = lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("ev").GetString()!).ToArray();
            CollectionAssert.AreEqual(new[] { "trace", "seed", "enter", "exit", "seed" }, events, "every event before the crash, and no end");
        }
        finally
        {
            if (Directory.Exists(folder))
                Directory.Delete(folder, recursive: true);
        }
    }

    [TestMethod]
    public void RelativeNames_AreTheSameWhereverTheRepositoryIs()
    {
        Assert.AreEqual("src/A.cs", BlockNames.Relative("/_/src/A.cs"));
        Assert.AreEqual("src/B.cs", BlockNames.Relative("/_1/src/B.cs"));
        Assert.AreEqual("tests/ReproducibleBlock.Core.Tests/TraceTests.cs", ThisFile(), "relative to the repository root");
        Assert.AreEqual("Nowhere.cs", BlockNames.Relative("/no/such/folder/Nowhere.cs"));
    }
}
