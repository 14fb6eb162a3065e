using System;
using System.Diagnostics;
using System.IO;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace ReproducibleBlock.Tests;

/// <summary>
/// Native and managed memory stay flat over a million block entries. Every entry touches native state (a state
/// tensor written, and with restoreOnExit one read); a leaked 5056-byte state per entry would be 5 GB here.
/// </summary>
/// <remarks>
/// Native memory is the resident set minus what the GC has committed: the GC keeps the room it grew for the short-lived
/// garbage of the run (about 150 bytes per entry, mostly the flow check's execution-context change), which is a policy
/// of the GC, not a leak, and is reported beside the bounds.
/// </remarks>
[TestClass]
public sealed class SoakTests : RuntimeTest
{
    /// <summary>Bounds, far below a leak of one state per entry (5 GB for the Keyed run, 50 MB for the restoring one).</summary>
    private const long NativeBound = 16L << 20;
    private const long RestoringNativeBound = 8L << 20;
    private const long ManagedBound = 1L << 20;

    public TestContext TestContext { get; set; } = null!;

    private readonly record struct Memory(long Resident, long GcCommitted, long ManagedLive)
    {
        public long Native => Resident - GcCommitted;

        public static Memory Now()
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            long managed = GC.GetTotalMemory(forceFullCollection: true);
            // The resident set from /proc on Linux: everything the process holds in memory, native allocations included.
            long resident = File.Exists("/proc/self/statm")
                ? long.Parse(File.ReadAllText("/proc/self/statm").Split(' ')[1]) * Environment.SystemPageSize
                : Process.GetCurrentProcess().WorkingSet64;
            return new Memory(resident, GC.GetGCMemoryInfo().TotalCommittedBytes, managed);
        }
    }

    private static void Enter(int count, bool restoreOnExit)
    {
        for (int i = 0; i < count; i++)
        {
            using (Reproducible.Block(i % 1000, restoreOnExit)) { }
        }
    }

    private void Soak(int count, bool restoreOnExit, long nativeBound)
    {
        Reproducible.SetSeed(1);
        Enter(20_000, restoreOnExit); // warm up: JIT, the allocator's arenas, TorchSharp's caches
        Memory before = Memory.Now();
        var clock = Stopwatch.StartNew();
        Enter(count, restoreOnExit);
        clock.Stop();
        Memory after = Memory.Now();

        long native = after.Native - before.Native, managed = after.ManagedLive - before.ManagedLive;
        TestContext.WriteLine($"{count:N0} entries (restoreOnExit: {restoreOnExit}) in {clock.Elapsed.TotalSeconds:0.00} s: " +
            $"native {native / 1024:N0} KiB (bound {nativeBound >> 10:N0}), live managed heap {managed / 1024:N0} KiB (bound {ManagedBound >> 10:N0}), " +
            $"resident {before.Resident >> 20} -> {after.Resident >> 20} MiB of which GC-committed {before.GcCommitted >> 20} -> {after.GcCommitted >> 20} MiB");
        Assert.IsTrue(native < nativeBound, $"native memory grew by {native / 1024:N0} KiB (bound {nativeBound >> 10:N0} KiB)");
        Assert.IsTrue(managed < ManagedBound, $"the live managed heap grew by {managed / 1024:N0} KiB (bound {ManagedBound >> 10:N0} KiB)");
    }

    [TestMethod]
    public void MillionKeyedEntries_KeepMemoryFlat() => Soak(1_000_000, restoreOnExit: false, NativeBound);

    [TestMethod]
    public void MillionContinuingCalls_OverAThousandOwners_KeepMemoryFlat()
    {
        // Each call saves its owner's 5,056-byte state (traded with a spare, not allocated) and reads the enclosing one.
        Reproducible.SetSeed(1);
        object[] owners = new object[1000];
        for (int i = 0; i < owners.Length; i++)
            owners[i] = new object();
        void Calls(int count)
        {
            for (int i = 0; i < count; i++)
            {
                using (Reproducible.ContinuingBlock(owners[i % owners.Length])) { }
            }
        }
        Calls(20_000);
        Memory before = Memory.Now();
        var clock = Stopwatch.StartNew();
        Calls(1_000_000);
        clock.Stop();
        Memory after = Memory.Now();
        long native = after.Native - before.Native, managed = after.ManagedLive - before.ManagedLive;
        TestContext.WriteLine($"1,000,000 continuing calls over 1,000 owners in {clock.Elapsed.TotalSeconds:0.00} s: native {native / 1024:N0} KiB, live managed heap {managed / 1024:N0} KiB");
        Assert.IsTrue(native < RestoringNativeBound, $"native memory grew by {native / 1024:N0} KiB");
        Assert.IsTrue(managed < ManagedBound, $"the live managed heap grew by {managed / 1024:N0} KiB (1,000 streams' states were already there)");
        GC.KeepAlive(owners);
    }

    [TestMethod]
    public void TenThousandRestoringEntries_KeepMemoryFlat() => Soak(10_000, restoreOnExit: true, RestoringNativeBound);
}
