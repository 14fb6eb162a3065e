using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using CsCheck;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.State;

namespace ReproducibleBlock.Tests;

/// <summary>
/// Generated owner layouts (models built by factories and in blocks opened again and again, owners first used in a
/// block, nested and recursive calls, owners dropped and collected mid-run): every snapshot round-trips through its
/// bytes, live owners never share a key, a restore gives every owner its own stream back, and nothing depends on when
/// the garbage collector runs.
/// </summary>
[TestClass]
public sealed class StreamLayoutPropertyTests : RuntimeTest
{
    private abstract record Op;
    /// <summary>A model built by a woven constructor, through a factory's block (0: none) with a type seed.</summary>
    private sealed record Build(int Factory, long TypeSeed) : Op;
    /// <summary>An owner that claims its stream at its first call.</summary>
    private sealed record Fresh : Op;
    /// <summary>A call of owner Index (modulo the live ones), inside block 200 + InBlock (0: none), nested Depth times on itself.</summary>
    private sealed record Call(int Index, int InBlock, int Depth) : Op;
    private sealed record Drop(int Index) : Op;
    private sealed record Collect : Op;
    private sealed record CheckSnapshot : Op;

    private static readonly Gen<Op> OpGen = Gen.Frequency(
        (3, Gen.Select(Gen.Int[0, 2], Gen.Long[7, 8], (factory, seed) => (Op)new Build(factory, seed))),
        (2, Gen.Const((Op)new Fresh())),
        (8, Gen.Select(Gen.Int[0, 20], Gen.Int[0, 2], Gen.Int[1, 3], (i, block, depth) => (Op)new Call(i, block, depth))),
        (1, Gen.Int[0, 20].Select(i => (Op)new Drop(i))),
        (1, Gen.Const((Op)new Collect())),
        (2, Gen.Const((Op)new CheckSnapshot())));

    /// <summary>With a finalizer, as TorchSharp's modules have: collected in two steps, which the registry must follow.</summary>
    private sealed class Owner
    {
        ~Owner()
        {
        }

        public long[] Forward(int depth)
        {
            using (Reproducible.ContinuingBlock(this))
            {
                long[] drawn = Draws.Torch(2);
                return depth > 1 ? [.. drawn, .. Forward(depth - 1)] : drawn;
            }
        }
    }

    /// <summary>Runs the operations from SetSeed(9); returns every draw, in order.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static List<long[]> Run(Op[] ops, bool collect, bool checkAtTheEnd)
    {
        Reproducible.SetSeed(9);
        var owners = new List<Owner>();
        var draws = new List<long[]>();
        foreach (Op op in ops)
        {
            switch (op)
            {
                case Build build:
                    var built = new Owner();
                    using (build.Factory > 0 ? Reproducible.Block(100 + build.Factory) : null)
                    using (Reproducible.InstanceBlock(build.TypeSeed, restoreOnExit: true))
                        WovenCode.RegisterStream(built);
                    owners.Add(built);
                    break;
                case Fresh:
                    owners.Add(new Owner());
                    break;
                case Call call when owners.Count > 0:
                    using (call.InBlock > 0 ? Reproducible.Block(200 + call.InBlock) : null)
                        draws.Add(owners[call.Index % owners.Count].Forward(call.Depth));
                    break;
                case Drop drop when owners.Count > 0:
                    owners.RemoveAt(drop.Index % owners.Count);
                    break;
                case Collect when collect:
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                    break;
                case CheckSnapshot:
                    CheckKeysAndSnapshot(owners);
                    break;
            }
        }
        if (checkAtTheEnd)
        {
            CheckKeysAndSnapshot(owners);
            byte[] checkpoint = Reproducible.Capture().ToBytes();
            long[][] next = [.. owners.Select(o => o.Forward(1))];
            Reproducible.Restore(RngSnapshot.FromBytes(checkpoint));
            for (int i = 0; i < owners.Count; i++)
                CollectionAssert.AreEqual(next[i], owners[i].Forward(1), $"owner {i} gets its own stream back");
        }
        GC.KeepAlive(owners);
        return draws;
    }

    private static void CheckKeysAndSnapshot(List<Owner> owners)
    {
        ulong[] keys = [.. owners.Select(o => BlockRuntime.Shared.FindStreamForTests(o)).OfType<ContinuingStream>().Select(s => s.Key)];
        Assert.AreEqual(keys.Length, keys.Distinct().Count(), "live owners never share a key");
        RngSnapshot read = RngSnapshot.FromBytes(Reproducible.Capture().ToBytes());
        Assert.AreEqual(read.Data.Streams.Count, read.Data.Streams.Select(s => s.Key).Distinct().Count());
    }

    [TestMethod]
    public void OwnerLayouts_RoundTrip_KeepTheirOwnStreams_AndDoNotDependOnTheCollector()
    {
        OpGen.Array[1, 40].Sample(ops =>
        {
            List<long[]> collected = Run(ops, collect: true, checkAtTheEnd: true);
            List<long[]> kept = Run(ops, collect: false, checkAtTheEnd: false);
            Assert.HasCount(collected.Count, kept);
            for (int i = 0; i < collected.Count; i++)
                CollectionAssert.AreEqual(collected[i], kept[i], $"draw {i}");
        }, iter: 60, threads: 1, print: ops => string.Join(", ", ops.Select(o => o.ToString())));
    }
}
