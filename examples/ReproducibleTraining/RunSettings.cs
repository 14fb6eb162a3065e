using System;
using System.Globalization;
using System.Text;

namespace ReproducibleBlock.Training;

/// <summary>
/// The options a resumed run must share with the run that wrote its checkpoint, beyond what the
/// <see cref="TrainingRun"/> checks itself (the seed, the model's parameters and buffers, the dataset's size): the batch
/// size and <c>--drop-last</c>, which decide the batches from the checkpoint on, and <c>--extractor-dropout</c>, a layer
/// without parameters. A checkpoint carries them (<see cref="Save"/>); <see cref="Check"/> refuses another choice.
/// </summary>
internal sealed record RunSettings(int BatchSize, bool DropLast, bool ExtractorDropout)
{
    public byte[] Save() => Encoding.UTF8.GetBytes(Text());

    private string Text() => string.Create(CultureInfo.InvariantCulture, $"batch-size={BatchSize}\ndrop-last={DropLast}\nextractor-dropout={ExtractorDropout}\n");

    /// <summary>Compares the checkpoint's settings with these.</summary>
    /// <exception cref="MismatchException">They differ; the message says how, as options.</exception>
    public void Check(byte[] saved)
    {
        string text = Encoding.UTF8.GetString(saved);
        if (text == Text())
            return;
        string Setting(string name) => Array.Find(text.Split('\n'), line => line.StartsWith(name + "=", StringComparison.Ordinal))?[(name.Length + 1)..] ?? "";
        string checkpointBatchSize = Setting("batch-size");
        if (checkpointBatchSize != BatchSize.ToString(CultureInfo.InvariantCulture))
            throw new MismatchException($"the checkpoint was trained with --batch-size {checkpointBatchSize}: resume with the same batch size");
        if (Setting("drop-last") != DropLast.ToString())
            throw new MismatchException($"the checkpoint was trained {(DropLast ? "without" : "with")} --drop-last: resume with the same batches");
        if (Setting("extractor-dropout") != ExtractorDropout.ToString())
            throw new MismatchException($"the checkpoint was trained {(ExtractorDropout ? "without" : "with")} --extractor-dropout: resume with the same model");
        throw new MismatchException("the checkpoint's settings are not ones this example writes");
    }

    /// <summary>A checkpoint trained with other settings (a wrong option, exit status 2).</summary>
    internal sealed class MismatchException(string message) : Exception(message);
}
