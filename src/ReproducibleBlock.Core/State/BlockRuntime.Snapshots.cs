using System;
using System.Threading;

namespace ReproducibleBlock.State;

/// <summary>Capture, restore and resume: the order of each operation's steps.</summary>
internal sealed partial class BlockRuntime
{
    /// <summary>Snapshots are taken between steps: inside a continuing block, the stream being drawn has no resting state.</summary>
    private void CheckNoStreamOpen(string what)
    {
        for (int i = 0; i < _stack.Depth; i++)
        {
            if (_stack[i].Stream is not null || _stack[i].Reentered is not null)
            {
                throw new InvalidOperationException(
                    $"{what} cannot run inside a continuing block (a module's forward, or Reproducible.ContinuingBlock): its stream is being drawn. "
                    + "Checkpoint between steps, outside the modules' calls.");
            }
        }
    }

    public SnapshotData Capture()
    {
        lock (_gate)
        {
            Seeding seeding = _seeding ?? throw new InvalidOperationException("There is nothing to capture yet: call Reproducible.SetSeed(seed) first.");
            CheckSameFlow("Capture");
            CheckNoStreamOpen("Capture");
            Sources sources = Sources();
            if (sources.Cuda.SnapshotWarning is { } warning && !_warnedAboutSnapshots)
            {
                _warnedAboutSnapshots = true; // once: checkpoints are taken often
                Warn(warning);
            }
            return Snapshots.Capture(seeding, _stack, sources, _streams);
        }
    }

    /// <param name="snapshot">What to restore.</param>
    /// <param name="adoptConstructions">Take its instance counters and stream claims even where fewer were built here (see <see cref="Snapshots.Restore"/>).</param>
    public void Restore(SnapshotData snapshot, bool adoptConstructions = false)
    {
        lock (_gate)
        {
            CheckSameFlow("Restore");
            CheckNoStreamOpen("Restore");
            Seeding restored = Snapshots.Restore(snapshot, _seeding, _stack, Sources(), _streams, Warn, enteredNow: false, adoptConstructions);
            _writes++;
            Volatile.Write(ref _seeding, restored);
            _resume.Drop(); // a restore supersedes a resume still waiting
            if (_trace.Tracer is { } tracer)
                _trace.Restored(tracer, "Restore", restored, _stack.Top.TracePath, Sources());
        }
    }

    /// <summary>Whether a snapshot given to <see cref="Resume"/> waits for its blocks to be entered.</summary>
    public bool IsResumePending
    {
        get
        {
            lock (_gate)
                return _resume.IsWaiting;
        }
    }

    /// <summary>
    /// Restores <paramref name="snapshot"/> now when it was captured where the caller is, or else as soon as the blocks
    /// open at its capture are entered again, whoever enters them.
    /// </summary>
    public void Resume(SnapshotData snapshot)
    {
        lock (_gate)
        {
            CheckSameFlow("Resume");
            CheckNoStreamOpen("Resume");
            if (_resume.Accept(snapshot, _seeding, _stack, Sources()))
            {
                // Restore now, or refuse now (a foreign libtorch) rather than when the blocks are entered.
                Volatile.Write(ref _seeding, Snapshots.Restore(snapshot, _seeding, _stack, Sources(), _streams, Warn, enteredNow: false));
                _writes++;
                if (_trace.Tracer is { } tracer)
                    _trace.Restored(tracer, "Resume", _seeding!, _stack.Top.TracePath, Sources());
            }
        }
    }

    /// <summary>
    /// Applies a waiting <see cref="Resume"/> when the block just entered completes the path of its capture. A failed
    /// restore takes the entry's bookkeeping back too (and, for a restoring block, its generators); the generators of a
    /// plain block stay at the block's state, as after any failed entry.
    /// </summary>
    /// <returns>Whether the snapshot was restored.</returns>
    private bool ResumeOnEntry(SnapshotData pending, Seeding seeding, Sources sources, BlockFrame parent, long blockSeed, bool instance)
    {
        try
        {
            Volatile.Write(ref _seeding, Snapshots.Restore(pending, seeding, _stack, sources, _streams, Warn, enteredNow: true));
            return true;
        }
        catch
        {
            _resume.Reinstate(pending);
            BlockFrame frame = _stack.Top;
            _stack.Pop();
            if (instance)
                parent.UncountInstance(blockSeed);
            if (frame.RestoreOnExit)
                sources.Undo(frame.Saved!);
            throw;
        }
    }
}
