using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.ExceptionServices;

namespace ReproducibleBlock;

/// <summary>The epoch and batch loops: where the run is, where checkpoints are taken, where a resumed run picks up.</summary>
public sealed partial class TrainingRun
{
    private enum Phase
    {
        Setup,
        EpochBody,
        InBatches,
        AfterBatches,
        Finished,
    }

    private Phase _phase = Phase.Setup;
    private bool _epochsTaken;
    private bool _batchesTaken; // in the current epoch
    private long _epoch;
    private long _batches;
    private long _step;
    private bool _asked;
    private int _askedOnThread;
    private volatile bool _exceptionSinceAsked;
    private bool _inBody; // a batch fetched by Batches is in its loop body
    private (ulong? Parameters, ulong Writes) _fetchedMark;
    private long?[]? _beforeFetch; // every sampler's position before the batch in hand was fetched
    private State.SnapshotData? _epochStart; // everything as the current epoch's body started
    private (byte[] Bytes, LoopPosition Position)? _leftBatches; // a checkpoint asked for in a batch's body as the batch loop was left

    /// <summary>The current epoch (0 before the first).</summary>
    public long Epoch => _epoch;

    /// <summary>How many batches of the current epoch have been trained (their loop bodies ran to their end).</summary>
    public long BatchInEpoch => _batches;

    /// <summary>How many batches the whole run has trained, resumed runs included.</summary>
    public long Step => _step;

    /// <summary>
    /// Takes a checkpoint at the next point where the loop's state is whole (see the class remarks): at once outside
    /// the epoch loop; when the batch's body ends (however it is left) inside a batch loop, or at once when the batch in
    /// hand has not been trained yet (the top of the body: the resumed run fetches that batch again); when the batch
    /// loop starts in an epoch's body before it; when the epoch's body ends after it.
    /// </summary>
    /// <exception cref="InvalidOperationException">
    /// The run has no checkpoint folder; or it is asked for in a batch's body and the run cannot tell whether that batch
    /// was trained (no module is tracked and no woven module ran since the batch was fetched).
    /// </exception>
    public void Checkpoint()
    {
        RequireStore();
        if (_phase is Phase.Setup or Phase.Finished)
        {
            Write(new LoopPosition(_phase == Phase.Setup ? PositionKind.Setup : PositionKind.Finished, _epoch, 0, _step));
            return;
        }
        if (_phase == Phase.InBatches && _inBody && !TrainedSinceFetched())
        {
            // Asked for before the batch in hand was trained (at the top of its body): the checkpoint is of the point
            // before that batch, which the resumed run fetches again; the generators have not moved since (loading draws
            // nothing from them), so they are taken now, with the samplers put back to before the batch.
            Write(new LoopPosition(PositionKind.BetweenBatches, _epoch, _batches, _step), _beforeFetch);
            return;
        }
        if (!_asked)
        {
            _asked = true;
            _askedOnThread = Environment.CurrentManagedThreadId;
            _exceptionSinceAsked = false;
            AppDomain.CurrentDomain.FirstChanceException += NoteException;
        }
    }

    /// <summary>
    /// Whether the batch in hand has been trained: the model's smallest parameter (or its gradient) or a woven module's
    /// stream moved since it was fetched.
    /// </summary>
    /// <exception cref="InvalidOperationException">Neither moved and no module is tracked: there is no telling.</exception>
    private bool TrainedSinceFetched() => TrainedSinceFetchedIfKnown() ?? throw new InvalidOperationException(
        "Checkpoint was asked for in a batch's body, but the run cannot tell whether the batch in hand was trained yet (where the resumed run must "
        + "pick up): no module is tracked, and no woven module ran. Track the model (run.Track(model)) before Resume, or ask for the checkpoint "
        + "outside the batch loop.");

    /// <summary>Whether the batch in hand was trained, assuming it was when there is no telling (a batch loop left by break).</summary>
    private bool TrainedSinceFetchedOrUnknown() => TrainedSinceFetchedIfKnown() ?? true;

    /// <summary>Whether the batch in hand was trained; null when neither moved and no module is tracked.</summary>
    private bool? TrainedSinceFetchedIfKnown()
    {
        if (State.BlockRuntime.Shared.Writes != _fetchedMark.Writes)
            return true;
        return _tracked.TrainingMark() is { } mark ? mark != _fetchedMark.Parameters : null;
    }

    private void NoteException(object? sender, FirstChanceExceptionEventArgs e)
    {
        if (Environment.CurrentManagedThreadId == _askedOnThread)
            _exceptionSinceAsked = true;
    }

    /// <summary>Takes the checkpoint asked for, if one was, at <paramref name="position"/>; on the way out of a loop, not after an exception.</summary>
    private void TakeAsked(LoopPosition position, bool leaving)
    {
        if (!_asked)
            return;
        _asked = false;
        AppDomain.CurrentDomain.FirstChanceException -= NoteException;
        if (leaving && _exceptionSinceAsked)
        {
            State.BlockRuntime.Shared.WarningHandler?.Invoke(
                $"the checkpoint asked for at {position} was not taken: an exception was thrown after it was asked for, so the loop's state there may not be whole.");
            return;
        }
        Write(position);
    }

    /// <summary>
    /// The epochs of the run, from the first (or, resumed, from the epoch of the checkpoint) to <paramref name="count"/> - 1.
    /// Loop over them with <c>foreach</c>, and over each epoch's batches with <see cref="Batches{T}"/> inside.
    /// </summary>
    /// <param name="count">How many epochs the whole run has.</param>
    /// <returns>The epoch numbers.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative.</exception>
    /// <exception cref="InvalidOperationException">
    /// The run's epochs are looped over a second time, or the run resumed from a checkpoint that <paramref name="count"/>
    /// epochs never reach.
    /// </exception>
    public IEnumerable<long> Epochs(long count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (_epochsTaken)
            throw new InvalidOperationException("A run has one epoch loop: loop over run.Epochs(count) once, with the whole run's epoch count.");
        if (_resume?.Position is { } at && (at.Kind switch
        {
            PositionKind.BeforeBatches or PositionKind.BetweenBatches => at.Epoch >= count,
            PositionKind.EpochEnd => at.Epoch + 1 > count,
            PositionKind.Finished => at.Epoch > count,
            _ => false,
        }))
        {
            throw new InvalidOperationException(
                $"The run resumed from {LastCheckpoint}, taken at {at}, but its epoch loop has {count} epoch(s), which never get there: "
                + "give run.Epochs the whole run's epoch count, as in the run that wrote the checkpoint.");
        }
        _epochsTaken = true;
        return EpochsFrom(count);
    }

    private IEnumerable<long> EpochsFrom(long count)
    {
        long first = _resume?.Position switch
        {
            null => 0,
            { Kind: PositionKind.Setup } => 0,
            { Kind: PositionKind.EpochEnd } p => p.Epoch + 1,
            { Kind: PositionKind.Finished } p => p.Epoch,
            { } p => p.Epoch,
        };
        ApplyPendingRestoreIfDue(PositionKind.Setup);
        ApplyPendingRestoreIfDue(PositionKind.EpochEnd);
        ApplyPendingRestoreIfDue(PositionKind.Finished);
        bool completed = false;
        try
        {
            for (long epoch = first; epoch < count; epoch++)
            {
                _epoch = epoch;
                _batches = 0;
                _batchesTaken = false;
                _phase = Phase.EpochBody;
                ReplayEpochStart(epoch);
                _epochStart = State.BlockRuntime.Shared.Capture();
                yield return epoch;
                // The batch loop was left with a checkpoint asked for in its body, and the run went on (break): the
                // checkpoint of the point after that batch would resume into a batch loop this run left. It is taken
                // here instead, at the epoch's end, where the loop's state is whole again.
                if (DropLeftBatches())
                    _asked = true;
                TakeAsked(new LoopPosition(PositionKind.EpochEnd, epoch, _batches, _step), leaving: false);
                CheckRestoreReached();
            }
            completed = true;
        }
        finally
        {
            // Left with break or return: from before the batch loop (a stop at an epoch's start), or after it.
            if (!completed)
            {
                // The run stops here (return, or an exception): a checkpoint asked for as the batch loop was left is of the
                // point after that batch, where the resumed run goes on; one asked for since is of this later point.
                if (_asked)
                    DropLeftBatches();
                else
                    CommitLeftBatches();
                TakeAsked(new LoopPosition(_phase == Phase.EpochBody ? PositionKind.BeforeBatches : PositionKind.EpochEnd, _epoch, _batches, _step), leaving: true);
            }
            _phase = Phase.Finished;
            _epoch = count;
        }
    }

    /// <summary>
    /// One epoch's batches from <paramref name="loader"/> (a TorchSharp <c>DataLoader</c> whose shuffler is a sampler of
    /// this run): the epoch's training loop, once per epoch of <see cref="Epochs"/>. A resumed run picks up here.
    /// </summary>
    /// <typeparam name="T">What the loader gives for a batch.</typeparam>
    /// <param name="loader">The loader.</param>
    /// <returns>The batches.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="loader"/> is null.</exception>
    /// <exception cref="InvalidOperationException">It is not called inside an epoch of <see cref="Epochs"/>, or twice in one epoch.</exception>
    public IEnumerable<T> Batches<T>(IEnumerable<T> loader)
    {
        ArgumentNullException.ThrowIfNull(loader);
        if (_phase != Phase.EpochBody || _batchesTaken)
        {
            throw new InvalidOperationException(
                "run.Batches is an epoch's training loop: call it once in each epoch of run.Epochs. Loop over other loaders (validation) directly.");
        }
        _batchesTaken = true;
        return BatchesOf(loader);
    }

    private IEnumerable<T> BatchesOf<T>(IEnumerable<T> loader)
    {
        TakeAsked(new LoopPosition(PositionKind.BeforeBatches, _epoch, 0, _step), leaving: false);
        _phase = Phase.InBatches;
        if (_resume is { Position: var resumeAt } && resumeAt.Epoch == _epoch && resumeAt.Kind is PositionKind.BeforeBatches or PositionKind.BetweenBatches)
        {
            _batches = resumeAt.Batches;
            ApplyPendingRestoreIfDue(resumeAt.Kind);
        }
        IEnumerator<T> batches = loader.GetEnumerator();
        bool completed = false;
        try
        {
            while (true)
            {
                _beforeFetch = [.. _samplers.Select(s => (long?)s.PositionInEpoch)];
                if (!batches.MoveNext())
                    break;
                _fetchedMark = (_tracked.TrainingMark(), State.BlockRuntime.Shared.Writes);
                _inBody = true;
                yield return batches.Current;
                _inBody = false;
                _batches++;
                _step++;
                if (CheckpointEvery > 0 && _step % CheckpointEvery == 0)
                    Checkpoint();
                TakeAsked(new LoopPosition(PositionKind.BetweenBatches, _epoch, _batches, _step), leaving: false);
            }
            CountEmptyShards();
            completed = true;
        }
        finally
        {
            // Left in a batch's body (break or return): the batch counts when it was trained (or was asked for a
            // checkpoint after). A checkpoint asked for there is built now, before the loader is let go (its epoch is not
            // over yet), as of the point after that batch; whether that is where a resumed run goes on is known only
            // later: it is written when the run stops (return out of the epoch loop too, or the process exits), and
            // replaced by one at the epoch's end when the run goes on after the batch loop (break).
            if (!completed && _inBody)
            {
                bool trained = _asked || TrainedSinceFetchedOrUnknown();
                _inBody = false;
                if (trained)
                {
                    _batches++;
                    _step++;
                }
                KeepLeftBatches(new LoopPosition(PositionKind.BetweenBatches, _epoch, _batches, _step));
            }
            _inBody = false;
            batches.Dispose();
            _phase = Phase.AfterBatches;
        }
    }

    /// <summary>Builds the checkpoint asked for in the body of the batch the loop was left in, if one was, and keeps it until the run stops or goes on.</summary>
    private void KeepLeftBatches(LoopPosition position)
    {
        if (!_asked)
            return;
        _asked = false;
        if (_exceptionSinceAsked)
        {
            AppDomain.CurrentDomain.FirstChanceException -= NoteException;
            State.BlockRuntime.Shared.WarningHandler?.Invoke(
                $"the checkpoint asked for at {position} was not taken: an exception was thrown after it was asked for, so the loop's state there may not be whole.");
            return;
        }
        _leftBatches = (Build(position), position);
        AppDomain.CurrentDomain.ProcessExit += CommitAtExit; // a program that ends without leaving the epoch loop still gets it
    }

    /// <summary>Forgets the kept checkpoint of a batch loop that was left; whether there was one.</summary>
    private bool DropLeftBatches()
    {
        if (_leftBatches is null)
            return false;
        _leftBatches = null;
        AppDomain.CurrentDomain.ProcessExit -= CommitAtExit;
        AppDomain.CurrentDomain.FirstChanceException -= NoteException;
        return true;
    }

    /// <summary>The run stops: writes the kept checkpoint, unless an exception was thrown since it was asked for.</summary>
    private void CommitLeftBatches()
    {
        if (_leftBatches is not { } kept)
            return;
        bool exception = _exceptionSinceAsked;
        DropLeftBatches();
        if (exception)
        {
            State.BlockRuntime.Shared.WarningHandler?.Invoke(
                $"the checkpoint asked for at {kept.Position} was not taken: an exception was thrown after the batch loop was left, before the run stopped, "
                + "so whether the run went on after that loop is not known.");
            return;
        }
        Commit(kept.Bytes, kept.Position.Step);
    }

    private void CommitAtExit(object? sender, EventArgs e)
    {
        try
        {
            CommitLeftBatches();
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            State.BlockRuntime.Shared.WarningHandler?.Invoke($"the checkpoint asked for as the batch loop was left could not be written as the process exited: {exception.Message}");
        }
    }

    /// <summary>
    /// A rank with no share of an epoch's partial last global batch gets no batch for it; it still counts as a step, so
    /// that every rank counts the same global steps and takes the same checkpoints (with <see cref="CheckpointEvery"/>).
    /// </summary>
    private void CountEmptyShards()
    {
        long global = _samplers.Max(s => s.GlobalBatchesOfExhaustedEpoch) ?? 0;
        while (_batches < global)
        {
            _batches++;
            _step++;
            if (CheckpointEvery > 0 && _step % CheckpointEvery == 0)
                Write(new LoopPosition(PositionKind.BetweenBatches, _epoch, _batches, _step));
        }
    }

    /// <summary>
    /// Puts the resumed checkpoint's generators back when the loop reaches a point of <paramref name="kind"/> that is the
    /// checkpoint's. What the iterations skipped built (a module per epoch or per batch) counts as built, so that what is
    /// built from here on gets the keys it got in the run that wrote the checkpoint.
    /// </summary>
    private void ApplyPendingRestoreIfDue(PositionKind kind)
    {
        if (_resume is not { } pending || pending.Position.Kind != kind)
            return;
        _resume = null;
        State.BlockRuntime.Shared.Restore(pending.Snapshot.Data, adoptConstructions: true);
    }

    /// <summary>
    /// The epoch a checkpoint taken inside its batch loop resumes in starts as it started in the run that wrote it: with
    /// its generators, streams and construction counters, so that its code before the batch loop (a model built per
    /// epoch, a random validation subset) does and draws exactly what it did.
    /// </summary>
    private void ReplayEpochStart(long epoch)
    {
        if (_resume is { EpochStart: { } start, Position: var at } && at.Epoch == epoch)
            State.BlockRuntime.Shared.Restore(start.Data, adoptConstructions: true);
    }

    /// <summary>An epoch of the resumed checkpoint that ends before its restore point was reached means the loop differs.</summary>
    private void CheckRestoreReached()
    {
        if (_resume is { } pending && pending.Position.Epoch <= _epoch && pending.Position.Kind is not (PositionKind.EpochEnd or PositionKind.Finished or PositionKind.Setup))
        {
            _resume = null;
            throw new InvalidOperationException(
                $"The run resumed from {LastCheckpoint} should have picked up at {pending.Position}, but epoch {_epoch} ended without getting there: "
                + "its batch loop must be run.Batches(loader), once in each epoch's body, as in the run that wrote the checkpoint.");
        }
    }
}
