using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using TorchSharp;
using LRScheduler = TorchSharp.torch.optim.lr_scheduler.LRScheduler;

namespace ReproducibleBlock;

/// <summary>
/// A training run's reproducibility in one object: the seed, deterministic kernels, the samplers, the loop position and
/// every random stream, saved with the model, the optimizers, the schedulers and state of your own in one checkpoint
/// that resumes, in a new process and on any number of data-loading workers, to exactly the uninterrupted run.
/// </summary>
/// <remarks>
/// <para>
/// Use it in this order: create it (it calls <see cref="Reproducible.SetSeed"/>), build the model, the optimizer and the
/// scheduler, make the data's sampler with <see cref="Sampler"/>, <see cref="Track(torch.nn.Module)"/> what a checkpoint
/// holds, call <see cref="Resume"/> (it does nothing when there is no checkpoint yet), then loop:
/// <code>
/// foreach (long epoch in run.Epochs(10))
/// {
///     foreach (var batch in run.Batches(loader)) { ... one training step ... }
///     scheduler.step();            // end-of-epoch code
///     run.Checkpoint();
/// }
/// </code>
/// </para>
/// <para>
/// A checkpoint is taken at the next point where the loop's state is whole, so that a resumed run can start exactly
/// there: asked for inside a batch's body, when that body ends (before the next batch is fetched; the last batch's too,
/// and the resumed run then runs the end-of-epoch code); before the batch loop, when the loop starts; after it, when the
/// epoch's body ends; <see cref="CheckpointEvery"/> takes one every so many batches. Leaving the batch loop right after
/// asking depends on what follows: when the run stops (<c>return</c> out of the epoch loop too, or the program ends),
/// the checkpoint is of the point after that batch, and the resumed run goes on with the next batch; when the run goes
/// on after the batch loop (<c>break</c>: a step limit, a NaN), it is taken at the end of the epoch's body instead, and
/// the resumed run goes on with the next epoch, as this one did. Until then it is kept in memory, so a process that dies
/// in between leaves the previous checkpoint. An exception on the way drops it, with a warning. A batch the loop was
/// left in counts as trained (<see cref="BatchInEpoch"/>, <see cref="Step"/>) unless it visibly was not.
/// </para>
/// <para>
/// A resumed run runs the code before the loop again (building, tracking), and the start of the epoch it resumes in up
/// to its batch loop. That epoch starts with the generators, streams and construction counters it started with in the
/// run that wrote the checkpoint, so a module built per epoch or a random subset drawn there is what it was; then the
/// generators are put back where the checkpoint was taken. Modules the skipped iterations built (one per batch, say)
/// count as built, so those built from there on get the keys they got, and everything draws exactly what the
/// uninterrupted run drew.
/// </para>
/// </remarks>
public sealed partial class TrainingRun
{
    private readonly CheckpointStore? _store;
    private readonly List<ReproducibleSampler> _samplers = [];
    private readonly TrackedState _tracked = new();
    private Pending? _resume;
    private long _sequence;
    private bool _written; // this process has written a checkpoint

    /// <summary>Starts a run: seeds every generator with <paramref name="seed"/> and, unless told not to, turns deterministic algorithms on.</summary>
    /// <param name="seed">The run's seed (see <see cref="Reproducible.SetSeed"/>).</param>
    /// <param name="checkpointDirectory">Where checkpoints are written and resumed from; null for none.</param>
    /// <param name="deterministic">Whether to call <see cref="Reproducible.UseDeterministicAlgorithms"/>.</param>
    /// <param name="ranks">
    /// For one of several processes training one model: its rank and the world size (<see cref="DataParallel.FromEnvironment"/>
    /// reads a launcher's). Its samplers take its shard of every global batch, and it writes its own part of each
    /// checkpoint. Null (the default) for one process.
    /// </param>
    /// <exception cref="InvalidOperationException">A block is open (a run starts outside every block).</exception>
    /// <exception cref="PlatformNotSupportedException">
    /// <paramref name="deterministic"/> is true and the loaded libtorch does not export the switches (pass false to run without them).
    /// </exception>
    public TrainingRun(long seed, string? checkpointDirectory = null, bool deterministic = true, DataParallel? ranks = null)
    {
        Reproducible.SetSeed(seed);
        if (deterministic)
            Reproducible.UseDeterministicAlgorithms();
        Seed = seed;
        Deterministic = deterministic;
        Ranks = ranks ?? DataParallel.Single;
        DataParallel.Current = Ranks;
        _store = checkpointDirectory is null ? null : new CheckpointStore(Path.GetFullPath(checkpointDirectory), Ranks);
    }

    /// <summary>This process's rank and the world size: <see cref="DataParallel.Single"/> for one process.</summary>
    public DataParallel Ranks { get; }

    /// <summary>The run's seed.</summary>
    public long Seed { get; }

    /// <summary>Whether the run turned deterministic algorithms on.</summary>
    public bool Deterministic { get; }

    /// <summary>The folder checkpoints are written to and resumed from; null when the run has none.</summary>
    public string? CheckpointDirectory => _store?.Directory;

    /// <summary>Takes a checkpoint every this many batches (counted over the whole run), between two batches; 0 (the default) for none.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public int CheckpointEvery
    {
        get;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            field = value;
        }
    }

    /// <summary>How many checkpoints the folder keeps, newest first (2 by default, at least 1).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public int KeepCheckpoints
    {
        get;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            field = value;
        }
    } = 2;

    /// <summary>The file of the last checkpoint written, or resumed from; null before either.</summary>
    public string? LastCheckpoint { get; private set; }

    /// <summary>Whether <see cref="Resume"/> found a checkpoint to resume from.</summary>
    public bool IsResumed { get; private set; }

    /// <summary>
    /// A sampler for a dataset of <paramref name="count"/> samples, whose position checkpoints hold: pass it to the
    /// <c>DataLoader</c> as its shuffler, and call <see cref="ReproducibleSampler.Resolve"/> in <c>GetTensor</c>.
    /// </summary>
    /// <param name="count">How many samples to order (the dataset's <c>Count</c>).</param>
    /// <param name="shuffle">True (the default) for a fresh random order each epoch; false for 0, 1, ... each epoch.</param>
    /// <param name="streamSeed">Separates the streams of samplers that start their epochs in the same block (a training and a validation set).</param>
    /// <param name="globalBatchSize">
    /// The batch size over every rank, which shards the sampler (see <see cref="ReproducibleSampler.ForRank"/>): required
    /// in a run of several ranks, whose <c>DataLoader</c> batch size is then <see cref="ReproducibleSampler.LocalBatchSize"/>.
    /// Null (the default) in a run of one process: the <c>DataLoader</c>'s batch size and <c>drop_last</c> decide.
    /// </param>
    /// <param name="dropLast">With <paramref name="globalBatchSize"/>: whether a partial last global batch is left out, on every rank.</param>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="count"/> is negative or too large for one array, or <paramref name="globalBatchSize"/> is not a
    /// positive multiple of the world size.
    /// </exception>
    /// <exception cref="ArgumentException"><paramref name="dropLast"/> is true without a <paramref name="globalBatchSize"/>.</exception>
    /// <exception cref="InvalidOperationException">
    /// The run has resumed or started its loop (make samplers before), or it has several ranks and no
    /// <paramref name="globalBatchSize"/> was given.
    /// </exception>
    public ReproducibleSampler Sampler(long count, bool shuffle = true, long streamSeed = 0, int? globalBatchSize = null, bool dropLast = false)
    {
        CheckSettingUp(nameof(Sampler));
        if (globalBatchSize is null && Ranks.WorldSize > 1)
        {
            throw new InvalidOperationException(
                $"This run is {Ranks}: its samplers take their rank's shard of every global batch, so they need the global batch size. "
                + "Call run.Sampler(count, globalBatchSize: ...) and make the DataLoader with batchSize: sampler.LocalBatchSize.");
        }
        if (globalBatchSize is null && dropLast)
            throw new ArgumentException("dropLast applies to global batches: give globalBatchSize too, or pass drop_last to the DataLoader in a run of one process.", nameof(dropLast));
        ReproducibleSampler sampler = globalBatchSize is { } size
            ? ReproducibleSampler.ForRank(count, size, Ranks, dropLast, shuffle, streamSeed)
            : new ReproducibleSampler(count, shuffle, streamSeed);
        _samplers.Add(sampler);
        return sampler;
    }

    /// <summary>Saves <paramref name="model"/>'s parameters and buffers in every checkpoint, as the model.</summary>
    /// <returns>This run, to chain calls.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="InvalidOperationException">The run has resumed or started its loop: track before.</exception>
    public TrainingRun Track(torch.nn.Module model) => Track("model", model);

    /// <summary>Saves a module's parameters and buffers under <paramref name="name"/> (an EMA copy of the model, a discriminator).</summary>
    /// <param name="name">Its name in the checkpoint.</param>
    /// <param name="module">The module.</param>
    /// <returns>This run, to chain calls.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="module"/> is null.</exception>
    /// <exception cref="ArgumentException">Something is tracked under <paramref name="name"/> already, or the module is.</exception>
    /// <exception cref="InvalidOperationException">The run has resumed or started its loop: track before.</exception>
    public TrainingRun Track(string name, torch.nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        CheckSettingUp(nameof(Track));
        _tracked.Add(name, module);
        return this;
    }

    /// <summary>Saves the optimizer's state (momentum buffers, Adam's moments) in every checkpoint.</summary>
    /// <returns>This run, to chain calls.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="optimizer"/> is null.</exception>
    /// <exception cref="InvalidOperationException">The run has resumed or started its loop: track before.</exception>
    public TrainingRun Track(TorchSharp.Modules.OptimizerHelper optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        CheckSettingUp(nameof(Track));
        _tracked.Add(optimizer);
        return this;
    }

    /// <summary>
    /// Saves how many times the scheduler was stepped; <see cref="Resume"/> replays as many <c>step()</c> calls on the
    /// fresh scheduler (before it loads the optimizer's state), which puts back exactly every scheduler stepped with
    /// <c>step()</c>. TorchSharp 0.107's schedulers have no state of their own to save.
    /// </summary>
    /// <returns>This run, to chain calls.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="scheduler"/> is null.</exception>
    /// <exception cref="NotSupportedException">It is a <c>ReduceLROnPlateau</c>, whose state is hidden (track it with <see cref="Track(string, Func{byte[]}, Action{byte[]})"/>).</exception>
    /// <exception cref="InvalidOperationException">The run has resumed or started its loop: track before.</exception>
    public TrainingRun Track(LRScheduler scheduler)
    {
        ArgumentNullException.ThrowIfNull(scheduler);
        CheckSettingUp(nameof(Track));
        _tracked.Add(scheduler);
        return this;
    }

    /// <summary>Saves state of your own (a best metric, an early-stopping counter, a log) in every checkpoint.</summary>
    /// <param name="name">Its name in the checkpoint.</param>
    /// <param name="save">Returns the state's bytes, when a checkpoint is taken.</param>
    /// <param name="load">Puts the state back from those bytes, in <see cref="Resume"/>.</param>
    /// <returns>This run, to chain calls.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="save"/> or <paramref name="load"/> is null.</exception>
    /// <exception cref="ArgumentException">Something is tracked under <paramref name="name"/> already.</exception>
    /// <exception cref="InvalidOperationException">The run has resumed or started its loop: track before.</exception>
    public TrainingRun Track(string name, Func<byte[]> save, Action<byte[]> load)
    {
        ArgumentNullException.ThrowIfNull(save);
        ArgumentNullException.ThrowIfNull(load);
        CheckSettingUp(nameof(Track));
        _tracked.Add(name, save, load);
        return this;
    }

    private void CheckSettingUp(string what)
    {
        if (IsResumed || _phase != Phase.Setup || _epochsTaken)
        {
            throw new InvalidOperationException(
                $"{what} is for setting the run up: call it before Resume and before the epoch loop, so that a resumed run has everything a checkpoint holds in place before it is put back.");
        }
    }

    /// <summary>
    /// Resumes from the newest checkpoint in <see cref="CheckpointDirectory"/> (or from <paramref name="file"/>): puts the
    /// model, optimizers, schedulers, your state and the samplers back now, and the generators where the checkpoint was
    /// taken, when the loop gets there. Does nothing when there is no checkpoint yet.
    /// </summary>
    /// <param name="file">A checkpoint file to resume from instead of the folder's newest.</param>
    /// <returns>Whether a checkpoint was found and resumed from.</returns>
    /// <remarks>Call it after building and tracking everything, and before the epoch loop.</remarks>
    /// <exception cref="InvalidOperationException">It was called twice, after the loop started, or after a scheduler was stepped.</exception>
    /// <exception cref="FormatException">The file is not an intact checkpoint (the message names the file).</exception>
    /// <exception cref="InvalidDataException">
    /// The checkpoint was written by another run: another seed, another model shape, another dataset size or sampler,
    /// other tracked things, or a ReproducibleBlock version whose streams differ. The message names what differs.
    /// </exception>
    public bool Resume(string? file = null)
    {
        if (IsResumed || _phase != Phase.Setup || _epochsTaken)
            throw new InvalidOperationException("Resume is called once, before the epoch loop starts.");
        CheckpointStore.Part? part = null;
        if (file is null)
        {
            if (_store?.Newest(message => State.BlockRuntime.Shared.WarningHandler?.Invoke(message)) is not { } newest)
                return false;
            part = newest;
            file = newest.Path;
        }
        var checkpoint = Checkpoints.Read(file, this);
        if (part is { Rank: > 0 })
            Checkpoints.CheckSameAsRankZero(checkpoint, part, _store!);
        _tracked.Load(checkpoint.Sections, checkpoint.Manifest, file);
        for (int i = 0; i < _samplers.Count; i++)
            _samplers[i].LoadState(checkpoint.Sections[$"sampler.{i}"]);
        RngSnapshot? epochStart = checkpoint.Position.Kind is PositionKind.BeforeBatches or PositionKind.BetweenBatches
            ? RngSnapshot.FromBytes(checkpoint.Sections[EpochStartSection])
            : null;
        _resume = new Pending(checkpoint.Position, RngSnapshot.FromBytes(checkpoint.Sections["rng"]), epochStart);
        _sequence = checkpoint.Sequence + 1;
        _step = checkpoint.Position.Step;
        IsResumed = true;
        LastCheckpoint = file;
        return true;
    }

    /// <summary>
    /// A checkpoint waiting for its point of the loop, where its generators are put back; taken inside a batch loop, it
    /// also holds everything as its epoch started, put back as that epoch starts again.
    /// </summary>
    private sealed record Pending(LoopPosition Position, RngSnapshot Snapshot, RngSnapshot? EpochStart);

    private const string EpochStartSection = "rng.epoch-start";

    /// <summary>Each sampler's count, shuffle and stream seed (and global batch size and drop-last, when sharded): what a resumed run's must be.</summary>
    private string SamplersText() =>
        string.Join(",", _samplers.Select(s => $"{s.Count}/{s.Shuffle}/{s.StreamSeed}" + (s.GlobalBatchSize is { } size ? $"/global batch {size}{(s.DropLast ? " drop last" : "")}" : "")));

    /// <summary>The manifest entries every checkpoint of this run carries, and that a resumed run must match.</summary>
    private IEnumerable<(string Key, string Value)> Manifest(LoopPosition position)
    {
        yield return ("library", ReproducibleEnvironment.VersionOf(typeof(TrainingRun).Assembly));
        yield return ("seed", Seed.ToString(CultureInfo.InvariantCulture));
        yield return ("derivation", State.BlockRuntime.Shared.Derivation.ToString());
        yield return ("position", position.Text());
        yield return ("sequence", _sequence.ToString(CultureInfo.InvariantCulture));
        yield return ("samplers", SamplersText());
        yield return ("global-step", _step.ToString(CultureInfo.InvariantCulture));
        yield return ("ranks", $"{Ranks.Rank}/{Ranks.WorldSize}");
        foreach ((string key, string value) in _tracked.Describe())
            yield return (key, value);
        yield return ("written", DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture));
    }
}
