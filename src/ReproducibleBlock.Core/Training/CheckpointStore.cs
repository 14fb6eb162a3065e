using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;

namespace ReproducibleBlock;

/// <summary>
/// A folder of <see cref="TrainingRun"/> checkpoints, one file each, named by their sequence number and global step
/// (<c>checkpoint-0000000012.step-0000000340.rbck</c>); a run of several ranks writes one part per rank
/// (<c>...step-0000000340.rank-1-of-4.rbck</c>), with no barrier between them. A file is written under a temporary
/// name of its own, flushed to the disk, and renamed into place only when whole: a checkpoint is there only when it is
/// complete, and a crash leaves at most a temporary file, which is never read.
/// </summary>
internal sealed partial class CheckpointStore(string directory, DataParallel ranks)
{
    private const string Prefix = "checkpoint-", Extension = ".rbck";

    [GeneratedRegex(@"^checkpoint-(?<sequence>\d{10})\.step-(?<step>\d{10})(\.rank-(?<rank>\d+)-of-(?<world>\d+))?\.rbck$", RegexOptions.CultureInvariant)]
    private static partial Regex Name();

    public string Directory { get; } = directory;

    /// <summary>One file of the folder: the checkpoint's sequence number and global step, and whose part it is.</summary>
    public sealed record Part(long Sequence, long Step, int Rank, int WorldSize, string Path);

    /// <summary>Every checkpoint file of the folder, newest (highest sequence) first.</summary>
    public IReadOnlyList<Part> Parts()
    {
        if (!System.IO.Directory.Exists(Directory))
            return [];
        var parts = new List<Part>();
        foreach (string path in System.IO.Directory.EnumerateFiles(Directory, Prefix + "*" + Extension))
        {
            Match match = Name().Match(Path.GetFileName(path));
            if (!match.Success)
                continue;
            int rank = 0, world = 1;
            if (match.Groups["rank"].Success
                && !(int.TryParse(match.Groups["rank"].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out rank)
                    && int.TryParse(match.Groups["world"].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out world) && rank < world))
            {
                continue;
            }
            parts.Add(new Part(long.Parse(match.Groups["sequence"].ValueSpan, CultureInfo.InvariantCulture), long.Parse(match.Groups["step"].ValueSpan, CultureInfo.InvariantCulture), rank, world, path));
        }
        return [.. parts.OrderByDescending(p => p.Sequence).ThenBy(p => p.WorldSize).ThenBy(p => p.Rank)];
    }

    /// <summary>
    /// The file this rank resumes from: of the newest checkpoint whose every part was written (by every rank of the
    /// world size that wrote it), this rank's part when that world size is this one's, else rank 0's. Null when the
    /// folder holds none: parts of checkpoints that lack one are passed over, since the ranks write with no barrier
    /// between them (a rank that stopped before writing its part, or this run's other ranks, already writing).
    /// </summary>
    /// <param name="warn">Told when parts this rank wrote are passed over (a run stopped while writing a checkpoint).</param>
    public Part? Newest(Action<string> warn)
    {
        IReadOnlyList<Part> parts = Parts();
        bool Own(Part p) => p.Rank == ranks.Rank && p.WorldSize == ranks.WorldSize;
        var passedOver = new List<long>();
        foreach (IGrouping<(long Sequence, long Step, int WorldSize), Part> checkpoint in parts.GroupBy(p => (p.Sequence, p.Step, p.WorldSize)))
        {
            Part[] all = [.. checkpoint];
            if (all.Select(p => p.Rank).Distinct().Count() != checkpoint.Key.WorldSize)
            {
                if (all.Any(Own))
                    passedOver.Add(checkpoint.Key.Sequence);
                continue;
            }
            if (passedOver.Count > 0)
            {
                warn($"checkpoint(s) {string.Join(", ", passedOver)} in {Directory} lack another rank's part (a rank stopped before writing it): "
                    + $"resuming from checkpoint {checkpoint.Key.Sequence}, at global step {checkpoint.Key.Step}, which every rank wrote.");
            }
            return checkpoint.Key.WorldSize == ranks.WorldSize ? all.Single(Own) : all.Single(p => p.Rank == 0);
        }
        if (passedOver.Count > 0)
            warn($"no checkpoint in {Directory} has every rank's part (checkpoint(s) {string.Join(", ", passedOver)} lack one): the run starts afresh.");
        return null;
    }

    /// <summary>
    /// Removes this rank's parts numbered <paramref name="sequence"/> and later, before the run writes its first
    /// checkpoint there: parts a stopped run left must never complete a checkpoint with this run's parts.
    /// </summary>
    public void DiscardFrom(long sequence, Action<string> warn)
    {
        Part[] stale = [.. Parts().Where(p => p.Rank == ranks.Rank && p.WorldSize == ranks.WorldSize && p.Sequence >= sequence)];
        if (stale.Length == 0)
            return;
        warn($"{Directory} held checkpoint(s) {string.Join(", ", stale.Select(p => p.Sequence).Order())} of an earlier run, numbered from this run's first one on: "
            + "they are removed (call run.Resume() before the loop to continue from the newest instead).");
        foreach (Part part in stale)
            TryDelete(part.Path);
    }

    /// <summary>Writes this rank's part of the checkpoint with <paramref name="sequence"/> and keeps its newest <paramref name="keep"/>.</summary>
    /// <returns>The file written.</returns>
    public string Write(long sequence, long step, byte[] bytes, int keep)
    {
        System.IO.Directory.CreateDirectory(Directory);
        string rank = ranks.WorldSize == 1 ? "" : string.Create(CultureInfo.InvariantCulture, $".rank-{ranks.Rank}-of-{ranks.WorldSize}");
        string final = Path.Combine(Directory, string.Create(CultureInfo.InvariantCulture, $"{Prefix}{sequence:D10}.step-{step:D10}{rank}{Extension}"));
        string temporary = $"{final}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}";
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.WriteThrough))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, final, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
        // This rank's older parts beyond the newest kept, and parts that a run of another world size left and that are
        // older than every kept one (no rank of this run reads them any more). Other ranks' parts are theirs to remove.
        Part[] own = [.. Parts().Where(p => p.Rank == ranks.Rank && p.WorldSize == ranks.WorldSize)];
        foreach (Part old in own.Skip(Math.Max(keep, 1)))
            TryDelete(old.Path);
        if (own.Length >= keep)
        {
            long oldestKept = own[Math.Max(keep, 1) - 1].Sequence;
            foreach (Part other in Parts().Where(p => p.WorldSize != ranks.WorldSize && p.Sequence < oldestKept))
                TryDelete(other.Path);
        }
        return final;
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // An old checkpoint that cannot be removed now is removed by a later write.
        }
    }
}
