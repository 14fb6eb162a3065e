using System;
using System.Globalization;

namespace ReproducibleBlock;

/// <summary>Where a checkpoint of a <see cref="TrainingRun"/> was taken: what a resumed run does next.</summary>
internal enum PositionKind
{
    /// <summary>Before the epoch loop: the resumed run starts it.</summary>
    Setup = 0,

    /// <summary>In an epoch's body, before its batch loop: the resumed run starts the loop (and its epoch's order).</summary>
    BeforeBatches = 1,

    /// <summary>Between two batches (after <see cref="LoopPosition.Batches"/> of them): the resumed run fetches the next.</summary>
    BetweenBatches = 2,

    /// <summary>After an epoch's body: the resumed run starts the next epoch.</summary>
    EpochEnd = 4,

    /// <summary>After the epoch loop.</summary>
    Finished = 5,
}

/// <summary>A point of a training loop, as a checkpoint records it and a resumed run finds it again.</summary>
/// <param name="Kind">What comes next.</param>
/// <param name="Epoch">The epoch (for <see cref="PositionKind.Setup"/>, 0; for <see cref="PositionKind.Finished"/>, the epoch count).</param>
/// <param name="Batches">Batches completed in the epoch.</param>
/// <param name="Step">Batches completed in the whole run.</param>
internal readonly record struct LoopPosition(PositionKind Kind, long Epoch, long Batches, long Step)
{
    public override string ToString() => Kind switch
    {
        PositionKind.Setup => "before the epoch loop",
        PositionKind.BeforeBatches => $"epoch {Epoch}, before its first batch",
        PositionKind.BetweenBatches => $"epoch {Epoch}, after batch {Batches}",
        PositionKind.EpochEnd => $"the end of epoch {Epoch}",
        _ => "after the epoch loop",
    };

    /// <summary>Text for the manifest: "kind epoch batches step".</summary>
    public string Text() => string.Create(CultureInfo.InvariantCulture, $"{(int)Kind} {Epoch} {Batches} {Step}");

    public static LoopPosition Parse(string text)
    {
        string[] parts = text.Split(' ');
        if (parts.Length != 4
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int kind) || kind > (int)PositionKind.Finished
            || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long epoch)
            || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out long batches)
            || !long.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out long step))
        {
            throw new FormatException($"The checkpoint's loop position '{text}' is not one this library writes.");
        }
        return new LoopPosition((PositionKind)kind, epoch, batches, step);
    }
}
