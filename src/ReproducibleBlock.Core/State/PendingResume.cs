using System;
using System.Linq;

namespace ReproducibleBlock.State;

/// <summary>
/// A snapshot given to <see cref="Reproducible.Resume"/> that waits for the blocks open at its capture to be entered
/// again, and the refusals that keep it from being applied where it could never be right.
/// </summary>
internal sealed class PendingResume
{
    private SnapshotData? _waiting;

    public bool IsWaiting => _waiting is not null;

    /// <summary>A Restore supersedes a waiting snapshot.</summary>
    public void Drop() => _waiting = null;

    /// <summary>SetSeed starts over, and says so when it drops a waiting snapshot.</summary>
    public void DropOnSetSeed(Action<string> warn)
    {
        if (_waiting is null)
            return;
        _waiting = null;
        warn("SetSeed dropped the snapshot that Resume was waiting to apply: call Resume after SetSeed.");
    }

    /// <summary>
    /// Takes <paramref name="snapshot"/> from Resume: true when it must be restored now (captured where the caller is,
    /// or from a libtorch whose state has another size, to be refused now); otherwise it waits.
    /// </summary>
    /// <exception cref="InvalidOperationException">The snapshot could never apply here.</exception>
    public bool Accept(SnapshotData snapshot, Seeding? seeding, ScopeStack stack, Sources sources)
    {
        if (snapshot.Current.Cpu.Length != sources.Cpu.StateSize || Snapshots.IsCapturedHere(snapshot, seeding, stack))
        {
            _waiting = null;
            return true;
        }
        // Refuse what could never apply, rather than wait for it silently.
        if (seeding is null || seeding.RootSeed != snapshot.RootSeed || seeding.Derivation.Kind != snapshot.Derivation)
        {
            string now = seeding is null ? "before any SetSeed" : seeding.ToString();
            throw new InvalidOperationException(
                $"The snapshot was captured inside blocks after SetSeed({snapshot.RootSeed}, {snapshot.Derivation}); Resume was called {now}, so its blocks "
                + $"would never derive the same keys. Call Reproducible.SetSeed({snapshot.RootSeed}, BlockDerivation.{snapshot.Derivation}) first.");
        }
        if (snapshot.Frames.Count <= stack.Depth)
        {
            throw new InvalidOperationException(
                $"Resume was called inside blocks {stack.Describe()}, deeper than (or as deep as) the blocks open at capture, where they could never be entered: "
                + "call it where the snapshot was captured, or outside every block.");
        }
        _waiting = snapshot;
        return false;
    }

    /// <summary>The waiting snapshot when the block just entered completes its path (it is then no longer waiting).</summary>
    public SnapshotData? DueAt(ScopeStack stack, Seeding seeding)
    {
        if (_waiting is not { } waiting || waiting.Frames.Count != stack.Depth || !Snapshots.IsCapturedHere(waiting, seeding, stack))
            return null;
        _waiting = null;
        return waiting;
    }

    /// <summary>Puts back a snapshot whose restore at entry failed, so the entry changes nothing.</summary>
    public void Reinstate(SnapshotData snapshot) => _waiting = snapshot;

    /// <summary>Warns when the frame at <paramref name="index"/>, being left, is the waiting snapshot's outermost block.</summary>
    public void CheckLeaving(ScopeStack stack, int index, BlockFrame frame, Action<string> warn)
    {
        if (_waiting is not { } waiting || index != 0
            || frame.Key != KeyDerivation.Child(stack.Root.Key, waiting.Frames[0].BlockSeed, waiting.Frames[0].Ordinal))
        {
            return;
        }
        warn($"block {frame.BlockSeed}, the outermost block of the snapshot given to Resume, is being left, but the snapshot was not applied: "
            + $"the blocks inside it ({string.Join(" > ", waiting.Frames.Select(f => f.BlockSeed))}) were not entered as at capture. "
            + "The run goes on without it.");
    }
}
