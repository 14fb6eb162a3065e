using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.Tests.Shared;
using TorchSharp;
using static TorchSharp.torch;

namespace ReproducibleBlock.Tests;

/// <summary>
/// The contract of examples/ReproducibleTraining, run as the user runs it: its built dll in processes of its own (this
/// project builds it first, through a project reference that does not reference its assembly). A finished run prints
/// <c>classifier-masks:</c>, <c>data-order:</c> and <c>weights:</c> (last). The same seed gives the same three lines
/// with 1, 2 or 4 DataLoader workers, and after a stop mid-epoch and a resume in a new process with another worker
/// count; a dropout added to the feature extractor changes the weights but not the classifier's masks nor the data
/// order; the classifier draws a different mask at every step; another seed gives other lines. No hash is written
/// down here: runs are compared with each other.
/// </summary>
/// <remarks>Each run takes a few seconds, so the runs several tests compare with are made once per test run and kept.</remarks>
[TestClass]
public sealed class ReproducibleTrainingExampleTests
{
    private static readonly string Scratch = Path.Combine(Path.GetTempPath(), "rb-training-" + Guid.NewGuid().ToString("N"));

    /// <summary>1 worker, no extractor dropout, with a mask log: the reference run.</summary>
    private static readonly Lazy<FinishedRun> Uninterrupted = new(() => FinishedWithLog("plain.log", "--workers", "1"));

    /// <summary>1 worker, with the extractor's dropout and a mask log.</summary>
    private static readonly Lazy<FinishedRun> WithExtractorDropout =
        new(() => FinishedWithLog("extractor-dropout.log", "--workers", "1", "--extractor-dropout"));

    /// <summary>A checkpoint written after batch 3 of epoch 2 by a run on 4 workers, without the extractor's dropout.</summary>
    private static readonly Lazy<string> CheckpointAt2_3 = new(() =>
    {
        string directory = ScratchPath("checkpoint-2-3");
        ExampleRun stopped = Run("--workers", "4", "--stop-after", "2:3", "--checkpoint", directory);
        Assert.AreEqual(0, stopped.ExitCode, stopped.Describe());
        Assert.AreEqual("", stopped.Output, "a stopped run prints none of the three lines");
        StringAssert.Contains(stopped.Error, "Stopped after epoch 2, batch 3", stopped.Describe());
        return directory;
    });

    private static readonly string ExampleDll = Path.Combine(
        Repository.Root, "examples", "ReproducibleTraining", "bin", Repository.Configuration, "net10.0", "ReproducibleTraining.dll");

    [ClassCleanup]
    public static void DeleteScratch()
    {
        if (Directory.Exists(Scratch))
            Directory.Delete(Scratch, recursive: true);
    }

    [TestMethod]
    public void OneTwoAndFourWorkers_GiveTheSameMasksOrdersAndWeights()
    {
        FinishedRun one = Uninterrupted.Value;
        Assert.AreEqual(one.Lines, Finished(Run("--workers", "2")).Lines, "2 workers");
        Assert.AreEqual(one.Lines, Finished(Run("--workers", "4")).Lines, "4 workers");
    }

    [TestMethod]
    public void ExtractorDropout_LeavesTheClassifierMasksAndTheDataOrder_AndChangesTheWeights()
    {
        FinishedRun plain = Uninterrupted.Value, dropout = WithExtractorDropout.Value;
        Assert.AreEqual(plain.Lines.ClassifierMasks, dropout.Lines.ClassifierMasks, "classifier-masks");
        Assert.AreEqual(plain.Lines.DataOrder, dropout.Lines.DataOrder, "data-order");
        Assert.AreNotEqual(plain.Lines.Weights, dropout.Lines.Weights, "the extractor's dropout changes the training, so the weights");
        CollectionAssert.AreEqual(plain.MaskLog, dropout.MaskLog, "every single mask, step by step");
    }

    [TestMethod]
    public void ExtractorDropout_WithFourWorkers_GivesTheOneWorkerLines() =>
        Assert.AreEqual(WithExtractorDropout.Value.Lines, Finished(Run("--workers", "4", "--extractor-dropout")).Lines);

    [TestMethod]
    public void MaskLog_HasALinePerStep_AndNoTwoMasksOfTheRunAreEqual()
    {
        string[] log = Uninterrupted.Value.MaskLog;
        string[] steps = [.. from epoch in Enumerable.Range(1, 3) from batch in Enumerable.Range(1, 6) select $"{epoch}:{batch}"];
        CollectionAssert.AreEqual(steps, log.Select(line => line.Split(' ')[0]).ToArray(), "one line per training step, in order");
        string[] masks = [.. log.Select(line => line.Split(' ')[1])];
        Assert.IsTrue(masks.All(mask => Regex.IsMatch(mask, "^[0-9a-f]{16}$")), string.Join('\n', log));
        for (int step = 1; step < masks.Length; step++)
            Assert.AreNotEqual(masks[step - 1], masks[step], $"steps {steps[step - 1]} and {steps[step]} drew the same mask");
        Assert.HasCount(masks.Length, masks.Distinct(), "all 18 masks of 4,608 elements differ:\n" + string.Join('\n', log));
    }

    [TestMethod]
    public void StoppedMidEpoch_AndResumedInANewProcessWithAnotherWorkerCount_GivesTheUninterruptedLines()
    {
        string log = ScratchPath("resumed.log");
        ExampleRun resumed = Run("--workers", "2", "--resume", CheckpointAt2_3.Value, "--mask-log", log);
        StringAssert.Contains(resumed.Error, "Resumed from", resumed.Describe());
        Assert.AreEqual(Uninterrupted.Value.Lines, Finished(resumed).Lines, "stopped at 2:3 on 4 workers, resumed on 2, against 1 worker uninterrupted");
        CollectionAssert.AreEqual(Uninterrupted.Value.MaskLog[9..], File.ReadAllLines(log), "the resumed process draws the masks of 2:4 to 3:6");
    }

    [TestMethod]
    public void StoppedMidEpochWithExtractorDropout_AndResumed_GivesTheUninterruptedLines()
    {
        string directory = ScratchPath("checkpoint-dropout-2-3");
        ExampleRun stopped = Run("--workers", "2", "--extractor-dropout", "--stop-after", "2:3", "--checkpoint", directory);
        Assert.AreEqual(0, stopped.ExitCode, stopped.Describe());
        ExampleRun resumed = Run("--workers", "4", "--extractor-dropout", "--resume", directory);
        Assert.AreEqual(WithExtractorDropout.Value.Lines, Finished(resumed).Lines);
    }

    [TestMethod]
    public void StoppedAtTheEndOfAnEpoch_ResumesWithTheNextEpoch()
    {
        string directory = ScratchPath("checkpoint-1-6");
        ExampleRun stopped = Run("--workers", "1", "--stop-after", "1:6", "--checkpoint", directory);
        Assert.AreEqual(0, stopped.ExitCode, stopped.Describe());
        Assert.AreEqual(Uninterrupted.Value.Lines, Finished(Run("--workers", "3", "--resume", directory)).Lines);
    }

    [TestMethod]
    public void AnotherSeed_GivesOtherMasksOrdersAndWeights()
    {
        Lines other = Finished(Run("--workers", "1", "--seed", "43")).Lines, lines = Uninterrupted.Value.Lines;
        Assert.AreNotEqual(lines.ClassifierMasks, other.ClassifierMasks);
        Assert.AreNotEqual(lines.DataOrder, other.DataOrder);
        Assert.AreNotEqual(lines.Weights, other.Weights);
    }

    /// <summary>A checkpoint whose recorded masks or orders are missing, damaged or of another length is refused before training, with exit status 1.</summary>
    [TestMethod]
    public void ACheckpointWithAMissingOrDamagedRecord_CannotBeRead_AndExitsWithOne()
    {
        const string Masks = "classifier-masks.bin", Order = "data-order.bin";
        var damages = new (string Name, string File, Func<byte[], byte[]?> Damage)[]
        {
            ("masks missing", Masks, bytes => null),
            ("order missing", Order, bytes => null),
            ("a mask byte flipped from 0 to 1 or back", Masks, bytes => { bytes[100] ^= 1; return bytes; }),
            ("the order one index short", Order, bytes => bytes[8..]),
        };
        for (int i = 0; i < damages.Length; i++)
        {
            (string name, string damaged, Func<byte[], byte[]?> damage) = damages[i];
            string directory = ScratchPath($"damaged-{i}");
            Directory.CreateDirectory(directory);
            foreach (string file in Directory.GetFiles(CheckpointAt2_3.Value))
                File.Copy(file, Path.Combine(directory, Path.GetFileName(file)));
            string path = Path.Combine(directory, damaged);
            if (damage(File.ReadAllBytes(path)) is { } bytes)
                File.WriteAllBytes(path, bytes);
            else
                File.Delete(path);

            ExampleRun run = Run("--resume", directory);
            Assert.AreEqual(1, run.ExitCode, $"{name}: {run.Describe()}");
            StringAssert.Contains(run.Error, "cannot read the checkpoint", $"{name}: {run.Describe()}");
            StringAssert.Contains(run.Error, damaged, $"{name}: the message names the file. {run.Describe()}");
            Assert.AreEqual("", run.Output, name);
        }
    }

    [TestMethod]
    public void ResumingWithAnotherExtractorDropoutChoice_ExitsWithTwo()
    {
        ExampleRun run = Run("--extractor-dropout", "--resume", CheckpointAt2_3.Value);
        Assert.AreEqual(2, run.ExitCode, run.Describe());
        StringAssert.Contains(run.Error, "without --extractor-dropout", run.Describe());
        Assert.AreEqual("", run.Output);
    }

    [TestMethod]
    public void Help_ExitsWithZero_AndAWrongOption_NamesTheProblemAndExitsWithTwo()
    {
        ExampleRun help = Run("--help");
        Assert.AreEqual(0, help.ExitCode, help.Describe());
        foreach (string documented in new[] { "--stop-after EPOCH:BATCH", "--extractor-dropout", "--mask-log FILE", "classifier-masks:", "data-order:", "1 = kept, 0 = dropped" })
            StringAssert.Contains(help.Output, documented);

        foreach (string[] wrong in new string[][] { ["--workers", "0"], ["--stop-after", "2:3"], ["--stop-after", "2-3", "--checkpoint", "x"], ["--mask-log"], ["--frobnicate"] })
        {
            ExampleRun run = Run(wrong);
            Assert.AreEqual(2, run.ExitCode, run.Describe());
            StringAssert.StartsWith(run.Error, "ReproducibleTraining: ", run.Describe());
            Assert.AreEqual("", run.Output, run.Describe());
        }
    }

    /// <summary>
    /// What the example's RecordedDropout relies on: libtorch's CPU dropout is <c>empty_like(x).bernoulli_(1 - p)</c>,
    /// the mask divided by 1 - p, then multiplied with x. The same draws and the same result, bit for bit, and the
    /// generator left in the same state.
    /// </summary>
    [TestMethod]
    public void LibtorchCpuDropout_IsABernoulliMaskDividedThenMultiplied_BitForBit()
    {
        const double p = 0.3;
        using Tensor x = torch.linspace(-3, 3, 32 * 144).reshape(32, 144);
        torch.random.manual_seed(1234);
        using Tensor expected = nn.functional.dropout(x, p, training: true);
        using Tensor expectedNext = torch.rand(4);
        torch.random.manual_seed(1234);
        using Tensor mask = torch.empty_like(x).bernoulli_(1 - p);
        using Tensor scaled = mask.div(1 - p);
        using Tensor actual = x.mul(scaled);
        using Tensor actualNext = torch.rand(4);
        CollectionAssert.AreEqual(expected.data<float>().ToArray(), actual.data<float>().ToArray());
        CollectionAssert.AreEqual(expectedNext.data<float>().ToArray(), actualNext.data<float>().ToArray(), "the same number of draws");
        Assert.IsTrue(mask.eq(0).logical_or(mask.eq(1)).all().item<bool>(), "the mask is 0 or 1");
    }

    /// <summary>
    /// The trap the example's checkpoint code avoids: SGD's <c>load_state_dict</c> creates the momentum buffers, a
    /// <c>torch.NewDisposeScope()</c> open around it disposes them when it ends, and the next <c>step</c> fails. Loaded
    /// outside any scope, the state round-trips: the next step is the one the original optimizer takes.
    /// </summary>
    [TestMethod]
    public void OptimizerState_LoadedInsideADisposeScope_LosesItsMomentumBuffers()
    {
        using Tensor input = torch.linspace(-1, 1, 12).reshape(4, 3);
        using var original = nn.Linear(3, 2);
        using var optimizer = optim.SGD(original.parameters(), 0.1, momentum: 0.9);
        Step(original, optimizer, input); // the momentum buffers exist from the first step
        byte[] model = Save(writer => original.save(writer)), state = Save(optimizer.save_state_dict);
        Step(original, optimizer, input);
        float[] expected = Parameters(original);

        using var outside = Load(model);
        using var loadedOutside = optim.SGD(outside.parameters(), 0.1, momentum: 0.9);
        using (var reader = new BinaryReader(new MemoryStream(state)))
            loadedOutside.load_state_dict(reader);
        Step(outside, loadedOutside, input);
        CollectionAssert.AreEqual(expected, Parameters(outside), "loaded outside a dispose scope: the same step, bit for bit");

        using var inside = Load(model);
        using var loadedInside = optim.SGD(inside.parameters(), 0.1, momentum: 0.9);
        using (torch.NewDisposeScope())
        using (var reader = new BinaryReader(new MemoryStream(state)))
            loadedInside.load_state_dict(reader);
        Exception thrown = Assert.Throws<Exception>(() => Step(inside, loadedInside, input));
        StringAssert.Contains(thrown.Message, "Tensor invalid -- empty handle");

        static void Step(TorchSharp.Modules.Linear model, TorchSharp.Modules.SGD optimizer, Tensor input)
        {
            using (torch.NewDisposeScope())
            {
                optimizer.zero_grad();
                model.forward(input).square().sum().backward();
                optimizer.step();
            }
        }

        static byte[] Save(Action<BinaryWriter> save)
        {
            using var stream = new MemoryStream();
            using (var writer = new BinaryWriter(stream))
                save(writer);
            return stream.ToArray();
        }

        static TorchSharp.Modules.Linear Load(byte[] bytes)
        {
            var model = nn.Linear(3, 2);
            using (var reader = new BinaryReader(new MemoryStream(bytes)))
                model.load(reader);
            return model;
        }

        static float[] Parameters(TorchSharp.Modules.Linear model) =>
            model.parameters().SelectMany(p => p.data<float>().ToArray()).ToArray();
    }

    /// <summary>What one run of the example printed, and how it ended.</summary>
    private sealed record ExampleRun(string Arguments, int ExitCode, string Output, string Error)
    {
        public string Describe() => $"ReproducibleTraining {Arguments} exited with {ExitCode}.\nstdout:\n{Output}\nstderr:\n{Error}";
    }

    /// <summary>The three hashes a finished run prints.</summary>
    private sealed record Lines(string ClassifierMasks, string DataOrder, string Weights);

    /// <summary>A finished run's lines, and its mask log's lines when it wrote one.</summary>
    private sealed record FinishedRun(Lines Lines, string[] MaskLog);

    /// <summary>
    /// The three lines of a finished run's standard output, which must be exactly <c>classifier-masks: </c>,
    /// <c>data-order: </c> and <c>weights: </c> (the last line), each with 16 lowercase hex digits.
    /// </summary>
    private static FinishedRun Finished(ExampleRun run, string? maskLog = null)
    {
        Assert.AreEqual(0, run.ExitCode, run.Describe());
        string[] lines = run.Output.TrimEnd('\n', '\r').Split('\n').Select(line => line.TrimEnd('\r')).ToArray();
        Assert.HasCount(3, lines, run.Describe());
        string[] hashes = new string[3];
        string[] names = ["classifier-masks", "data-order", "weights"];
        for (int i = 0; i < 3; i++)
        {
            Match match = Regex.Match(lines[i], $"^{names[i]}: ([0-9a-f]{{16}})$");
            Assert.IsTrue(match.Success, $"line {i + 1} is not '{names[i]}: ' and 16 lowercase hex digits: '{lines[i]}'.\n{run.Describe()}");
            hashes[i] = match.Groups[1].Value;
        }
        return new FinishedRun(new Lines(hashes[0], hashes[1], hashes[2]), maskLog is null ? [] : File.ReadAllLines(maskLog));
    }

    /// <summary>Runs the example with <c>--mask-log</c> into the scratch file <paramref name="log"/>, and reads its lines.</summary>
    private static FinishedRun FinishedWithLog(string log, params string[] arguments)
    {
        string path = ScratchPath(log);
        return Finished(Run([.. arguments, "--mask-log", path]), path);
    }

    /// <summary>A path in this test class's scratch directory, which is deleted after the class's tests.</summary>
    private static string ScratchPath(string name)
    {
        Directory.CreateDirectory(Scratch);
        return Path.Combine(Scratch, name);
    }

    /// <summary>Runs the example's dll with <paramref name="arguments"/>, with both output streams redirected.</summary>
    private static ExampleRun Run(params string[] arguments)
    {
        Assert.IsTrue(File.Exists(ExampleDll), $"The example is not built at {ExampleDll}: build this test project, which builds it first.");
        AppRun run = Repository.RunApp(ExampleDll, arguments);
        return new ExampleRun(string.Join(' ', arguments), run.ExitCode, run.Output, run.Error);
    }
}
