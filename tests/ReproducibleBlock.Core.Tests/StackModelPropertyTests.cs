using System;
using System.Collections.Generic;
using System.Linq;
using CsCheck;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.State;

namespace ReproducibleBlock.Tests;

/// <summary>
/// Random sequences of SetSeed, enter, exit, draw, restore flags and exceptions, run on the real runtime and checked
/// against a small model: which stream each generator is on, and how far along it.
/// </summary>
/// <remarks>
/// The model knows no derivation formula. It names streams by where they come from (the root seed, or the path of
/// block seeds and instance numbers) and positions in units the generators consume; it expects the same value
/// wherever it predicts the same (stream, position) and different values elsewhere. Under ResetAndAdvance a block is
/// the root stream moved on by its seed, so the model's names there coincide exactly when the seed package's would.
/// </remarks>
[TestClass]
public sealed class StackModelPropertyTests : RuntimeTest
{
    private abstract record Op;
    private sealed record SetSeed(long Seed, BlockDerivation Derivation) : Op;
    private sealed record Enter(long Seed, bool Restore, bool Instance) : Op;
    private sealed record Exit : Op;
    private sealed record ExitOuterFirst : Op;
    private sealed record DisposeAgain : Op;
    private sealed record Draw : Op;
    private sealed record ThrowInside(long Seed, bool Restore) : Op;

    private static readonly Gen<Op> OpGen = Gen.Frequency(
        (1, Gen.Select(Gen.Long[1, 2], Gen.Bool, (seed, raa) => (Op)new SetSeed(seed, raa ? BlockDerivation.ResetAndAdvance : BlockDerivation.Keyed))),
        (6, Gen.Select(Gen.Long[0, 3], Gen.Bool, Gen.Bool, (seed, restore, instance) => (Op)new Enter(seed, restore, instance))),
        (5, Gen.Const((Op)new Exit())),
        (1, Gen.Const((Op)new ExitOuterFirst())),
        (1, Gen.Const((Op)new DisposeAgain())),
        (6, Gen.Const((Op)new Draw())),
        (1, Gen.Select(Gen.Long[0, 3], Gen.Bool, (seed, restore) => (Op)new ThrowInside(seed, restore))));

    /// <summary>Where the generators are: a stream name and positions (CPU in Mersenne Twister outputs, managed in steps).</summary>
    private sealed record Position(string Stream, long Cpu, long Managed);

    private sealed class ModelFrame(BlockScope scope, string name, bool restore, Position? saved)
    {
        public BlockScope Scope { get; } = scope;
        public string Name { get; } = name;
        public bool Restore { get; } = restore;
        public Position? Saved { get; } = saved;
        public Dictionary<long, long> Instances { get; } = [];
    }

    private sealed class Model
    {
        public long RootSeed = 1;
        public BlockDerivation Derivation = BlockDerivation.Keyed;
        public Position Current = new("R1", 0, 0);
        public readonly List<ModelFrame> Stack = [];
        public readonly Dictionary<long, long> RootInstances = [];
        public readonly List<BlockScope> Disposed = [];
        /// <summary>What was drawn at each predicted (stream, position); and who drew each value, to catch false sharing.</summary>
        public readonly Dictionary<(string, long), long> CpuSeen = [], ManagedSeen = [];
        public readonly Dictionary<long, (string, long)> CpuOwner = [], ManagedOwner = [];

        public string Root => $"R{RootSeed}";

        public (string Name, Position Start) BlockStart(long seed, bool instance)
        {
            if (Derivation == BlockDerivation.ResetAndAdvance)
                return (Root, new Position(Root, seed, seed)); // absolute: the root stream skipped by the seed
            Dictionary<long, long> counters = Stack.Count == 0 ? RootInstances : Stack[^1].Instances;
            long ordinal = 0;
            if (instance)
            {
                counters.TryGetValue(seed, out ordinal);
                counters[seed] = ordinal + 1;
            }
            string parent = Stack.Count == 0 ? Root : Stack[^1].Name;
            string name = $"{parent}/{seed}#{ordinal}";
            return (name, new Position(name, 0, 0));
        }
    }

    private static void Check(Dictionary<(string, long), long> seen, Dictionary<long, (string, long)> owner, (string, long) at, long value)
    {
        if (seen.TryGetValue(at, out long expected))
            Assert.AreEqual(expected, value, $"the value at {at} changed");
        else
            seen[at] = value;
        if (owner.TryGetValue(value, out var first))
            Assert.AreEqual(first, at, $"{at} drew the same value as {first}: two streams overlap");
        else
            owner[value] = at;
    }

    private static void Run(Op[] ops)
    {
        BlockRuntime.Shared.AbandonOpenBlocks();
        Reproducible.SetSeed(1);
        var model = new Model();
        foreach (Op op in ops)
        {
            switch (op)
            {
                case SetSeed s when model.Stack.Count > 0:
                    Assert.ThrowsExactly<InvalidOperationException>(() => Reproducible.SetSeed(s.Seed, s.Derivation));
                    break;
                case SetSeed s:
                    Reproducible.SetSeed(s.Seed, s.Derivation);
                    model.RootSeed = s.Seed;
                    model.Derivation = s.Derivation;
                    model.RootInstances.Clear();
                    model.Current = new Position(model.Root, 0, 0);
                    break;
                case Enter e:
                {
                    BlockScope scope = e.Instance ? Reproducible.InstanceBlock(e.Seed, e.Restore) : Reproducible.Block(e.Seed, e.Restore);
                    (string name, Position start) = model.BlockStart(e.Seed, e.Instance);
                    model.Stack.Add(new ModelFrame(scope, name, e.Restore, e.Restore ? model.Current : null));
                    model.Current = start;
                    break;
                }
                case Exit when model.Stack.Count > 0:
                {
                    ModelFrame top = model.Stack[^1];
                    top.Scope.Dispose();
                    model.Stack.RemoveAt(model.Stack.Count - 1);
                    model.Disposed.Add(top.Scope);
                    if (top.Restore)
                        model.Current = top.Saved!;
                    break;
                }
                case ExitOuterFirst when model.Stack.Count > 1:
                    Assert.ThrowsExactly<InvalidOperationException>(model.Stack[^2].Scope.Dispose);
                    break;
                case DisposeAgain when model.Disposed.Count > 0:
                    model.Disposed[^1].Dispose();
                    break;
                case Draw:
                {
                    long[] cpu = Draws.Torch(1); // one random64: two outputs
                    Check(model.CpuSeen, model.CpuOwner, (model.Current.Stream, model.Current.Cpu), cpu[0]);
                    long managed = Reproducible.Random.NextInt64();
                    Check(model.ManagedSeen, model.ManagedOwner, (model.Current.Stream, model.Current.Managed), managed);
                    model.Current = model.Current with { Cpu = model.Current.Cpu + 2, Managed = model.Current.Managed + 1 };
                    break;
                }
                case ThrowInside t:
                {
                    Position before = model.Current;
                    (string name, Position start) = model.BlockStart(t.Seed, instance: false);
                    Assert.ThrowsExactly<FormatException>(() =>
                    {
                        using (Reproducible.Block(t.Seed, t.Restore))
                            throw new FormatException();
                    });
                    model.Current = t.Restore ? before : start;
                    break;
                }
            }
        }
        foreach (ModelFrame frame in Enumerable.Reverse(model.Stack))
            frame.Scope.Dispose();
    }

    [TestMethod]
    public void RandomOperationSequences_FollowTheModel()
    {
        OpGen.Array[1, 40].Sample(ops =>
        {
            try
            {
                Run(ops);
            }
            finally
            {
                BlockRuntime.Shared.AbandonOpenBlocks();
            }
        }, iter: 300, threads: 1, print: ops => string.Join(", ", ops.Select(o => o.ToString())));
    }
}
