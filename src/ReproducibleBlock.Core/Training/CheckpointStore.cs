using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;

namespace ReproducibleBlock;

/// <summary>
/// A folder of <see cref="TrainingRun"/> checkpoints, one file each, named by their sequence number
/// (<c>checkpoint-0000000012.rbck</c>). A file is written under a temporary name of its own, flushed to the disk, and
/// renamed into place only when whole: the newest checkpoint switches only when the next one is complete, and a crash
/// leaves at most a temporary file, which is never read.
/// </summary>
internal sealed class CheckpointStore(string directory)
{
    private const string Prefix = "checkpoint-", Extension = ".rbck";

    public string Directory { get; } = directory;

    /// <summary>The checkpoint files, newest (highest sequence) first.</summary>
    public IReadOnlyList<(long Sequence, string Path)> Files()
    {
        if (!System.IO.Directory.Exists(Directory))
            return [];
        var files = new List<(long, string)>();
        foreach (string path in System.IO.Directory.EnumerateFiles(Directory, Prefix + "*" + Extension))
        {
            string name = Path.GetFileName(path);
            string number = name[Prefix.Length..^Extension.Length];
            if (number.Length == 10 && long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out long sequence))
                files.Add((sequence, path));
        }
        return [.. files.OrderByDescending(f => f.Item1)];
    }

    /// <summary>Writes the checkpoint with <paramref name="sequence"/> and keeps the newest <paramref name="keep"/>.</summary>
    /// <returns>The file written.</returns>
    public string Write(long sequence, byte[] bytes, int keep)
    {
        System.IO.Directory.CreateDirectory(Directory);
        string final = Path.Combine(Directory, string.Create(CultureInfo.InvariantCulture, $"{Prefix}{sequence:D10}{Extension}"));
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
        foreach ((long _, string old) in Files().Skip(Math.Max(keep, 1)))
            TryDelete(old);
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
