using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;

namespace ReproducibleBlock;

/// <summary>Writing and reading a run's checkpoints.</summary>
public sealed partial class TrainingRun
{
    /// <summary>Writes a checkpoint of the run at <paramref name="position"/>, after checking that it reads back whole.</summary>
    /// <param name="position">Where the loop is.</param>
    /// <param name="rewinds">Positions to save samplers at instead of their own: a batch taken but not trained yet.</param>
    private void Write(LoopPosition position, long?[]? rewinds = null) => Commit(Build(position, rewinds), position.Step);

    /// <summary>The bytes of a checkpoint of the run at <paramref name="position"/>, checked to read back whole; nothing written yet.</summary>
    private byte[] Build(LoopPosition position, long?[]? rewinds = null)
    {
        RequireStore();
        var sections = new List<(string Name, byte[] Bytes)> { (CheckpointFile.ManifestSection, CheckpointFile.Manifest(Manifest(position))) };
        sections.Add(("rng", Reproducible.Capture().ToBytes()));
        if (position.Kind is PositionKind.BeforeBatches or PositionKind.BetweenBatches)
            sections.Add((EpochStartSection, State.SnapshotFormat.Write(_epochStart!)));
        for (int i = 0; i < _samplers.Count; i++)
            sections.Add(($"sampler.{i}", _samplers[i].SaveState(rewinds?[i])));
        sections.AddRange(_tracked.Save());
        byte[] bytes = CheckpointFile.Write(sections);
        CheckReadsBack(bytes);
        return bytes;
    }

    /// <summary>Writes a checkpoint built by <see cref="Build"/> (at global step <paramref name="step"/>) as the run's next one.</summary>
    private void Commit(byte[] bytes, long step)
    {
        CheckpointStore store = RequireStore();
        if (!_written)
        {
            store.DiscardFrom(_sequence, message => State.BlockRuntime.Shared.WarningHandler?.Invoke(message));
            _written = true;
        }
        LastCheckpoint = store.Write(_sequence, step, bytes, KeepCheckpoints);
        _sequence++;
    }

    private CheckpointStore RequireStore() => _store ?? throw new InvalidOperationException(
        "This run has no checkpoint folder: pass one to the TrainingRun constructor (new TrainingRun(seed, \"checkpoints\")) to take checkpoints.");

    /// <summary>A checkpoint that would not read back is refused now, not found unreadable at resume.</summary>
    private void CheckReadsBack(byte[] bytes)
    {
        try
        {
            Dictionary<string, byte[]> sections = CheckpointFile.Read(bytes, "the checkpoint being written");
            LoopPosition.Parse(CheckpointFile.Manifest(sections[CheckpointFile.ManifestSection], "the checkpoint being written")["position"]);
            RngSnapshot.FromBytes(sections["rng"]);
            if (sections.TryGetValue(EpochStartSection, out byte[]? epochStart))
                RngSnapshot.FromBytes(epochStart);
            for (int i = 0; i < _samplers.Count; i++)
                _samplers[i].Twin().LoadState(sections[$"sampler.{i}"]);
        }
        catch (FormatException e)
        {
            throw new InvalidOperationException($"The checkpoint does not read back ({e.Message}); it was not written. This is a defect of ReproducibleBlock: please report it.", e);
        }
    }

    /// <summary>A checkpoint read and checked against this run.</summary>
    private sealed record CheckpointData(Dictionary<string, byte[]> Sections, Dictionary<string, string> Manifest, LoopPosition Position, long Sequence);

    private static class Checkpoints
    {
        public static CheckpointData Read(string file, TrainingRun run)
        {
            byte[] bytes;
            try
            {
                bytes = File.ReadAllBytes(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new InvalidDataException($"The checkpoint {file} cannot be read: {e.Message}", e);
            }
            Dictionary<string, byte[]> sections = CheckpointFile.Read(bytes, file);
            Dictionary<string, string> manifest = CheckpointFile.Manifest(sections[CheckpointFile.ManifestSection], file);
            string Entry(string key) => manifest.TryGetValue(key, out string? value) ? value : throw new FormatException($"{file}: the checkpoint's manifest has no '{key}'.");

            string library = Entry("library");
            string ours = ReproducibleEnvironment.VersionOf(typeof(TrainingRun).Assembly);
            if (ReproducibleEnvironment.MinorVersion(library) != ReproducibleEnvironment.MinorVersion(ours))
            {
                throw new InvalidDataException(
                    $"{file} was written by ReproducibleBlock {library}; this is {ours}. Minor versions may move streams (see the CHANGELOG), so the resumed run "
                    + $"would not draw what the interrupted one would have: resume with ReproducibleBlock {ReproducibleEnvironment.MinorVersion(library)}.x.");
            }
            if (Entry("seed") != run.Seed.ToString(CultureInfo.InvariantCulture))
                throw Mismatch(file, "the seed", Entry("seed"), run.Seed.ToString(CultureInfo.InvariantCulture));
            string derivation = State.BlockRuntime.Shared.Derivation.ToString();
            if (Entry("derivation") != derivation)
                throw Mismatch(file, "the derivation", Entry("derivation"), derivation);
            string samplers = run.SamplersText();
            if (Entry("samplers") != samplers)
                throw Mismatch(file, "the samplers (dataset size/shuffle/stream seed)", Entry("samplers") is "" ? "none" : Entry("samplers"), samplers is "" ? "none" : samplers);
            run._tracked.CheckMatches(manifest, file);
            if (!sections.ContainsKey("rng") || Enumerable.Range(0, run._samplers.Count).Any(i => !sections.ContainsKey($"sampler.{i}")))
                throw new FormatException($"{file}: the checkpoint lacks its generators' or its samplers' section.");
            if (!long.TryParse(Entry("sequence"), NumberStyles.None, CultureInfo.InvariantCulture, out long sequence))
                throw new FormatException($"{file}: the checkpoint's sequence number does not parse.");
            LoopPosition position = LoopPosition.Parse(Entry("position"));
            if (position.Kind is PositionKind.BeforeBatches or PositionKind.BetweenBatches && !sections.ContainsKey(EpochStartSection))
                throw new FormatException($"{file}: the checkpoint, taken in a batch loop, lacks the section of its epoch's start.");
            return new CheckpointData(sections, manifest, position, sequence);
        }

        /// <summary>The parts of one checkpoint were taken at one point of the loop: rank 0's says where.</summary>
        public static void CheckSameAsRankZero(CheckpointData checkpoint, CheckpointStore.Part part, CheckpointStore store)
        {
            CheckpointStore.Part zero = store.Parts().Single(p => p.Sequence == part.Sequence && p.WorldSize == part.WorldSize && p.Rank == 0);
            Dictionary<string, string> theirs = CheckpointFile.Manifest(CheckpointFile.Read(File.ReadAllBytes(zero.Path), zero.Path)[CheckpointFile.ManifestSection], zero.Path);
            foreach (string key in (string[])["position", "global-step", "seed", "samplers"])
            {
                if (theirs.GetValueOrDefault(key) != checkpoint.Manifest.GetValueOrDefault(key))
                {
                    throw new InvalidDataException(
                        $"The parts of checkpoint {part.Sequence} disagree: {key} is {checkpoint.Manifest.GetValueOrDefault(key)} in {part.Path} and {theirs.GetValueOrDefault(key)} "
                        + $"in rank 0's, {zero.Path}. Its ranks did not run the same loop; resume from a checkpoint they took together, or start afresh.");
                }
            }
        }

        private static InvalidDataException Mismatch(string file, string what, string there, string here) =>
            new($"{file} was written by another run: {what} is {there} there and {here} here. Resume with the same code, model and data, or start afresh in another checkpoint folder.");
    }
}
