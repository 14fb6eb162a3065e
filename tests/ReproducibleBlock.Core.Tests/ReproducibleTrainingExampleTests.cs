using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.Tests.Shared;
using TorchSharp;
using static TorchSharp.torch;

namespace ReproducibleBlock.Tests;

/// <summary>
/// The contract of examples/ReproducibleTraining, run as the user runs it: its built dll in processes of its own (this
/// project builds it first, through a project reference that does not reference its assembly). A finished run prints
/// <c>classifier-masks:</c>, <c>data-order:</c>, <c>epoch-end:</c> and <c>weights:</c> (last). A run stopped at any
/// point (<c>E:0</c>, <c>E:B</c> mid-epoch or at an epoch's last batch, <c>E:end</c>), with any batch size and
/// <c>--drop-last</c>, and resumed in a new process with another worker count, prints the uninterrupted run's four
/// lines; so do a resume from a resume and a resume from a <c>--checkpoint-every</c> checkpoint. The same seed gives
/// the same lines with 1, 2 or 4 workers; a dropout added to the feature extractor changes the weights only; the
/// classifier draws a different mask at every step; damaged checkpoints and checkpoints of another run are refused. No
/// hash is written down here: runs are compared with each other.
/// </summary>
/// <remarks>
/// Each run takes one to a few seconds, most of it loading libtorch: the uninterrupted runs the tests compare with are
/// made once per test class and kept, and independent runs of one test run side by side.
/// </remarks>
[TestClass]
public sealed partial class ReproducibleTrainingExampleTests
{
    private static readonly string Scratch = Path.Combine(Path.GetTempPath(), "rb-training-" + Guid.NewGuid().ToString("N"));

    private static readonly string ExampleDll = Path.Combine(
        Repository.Root, "examples", "ReproducibleTraining", "bin", Repository.Configuration, "net10.0", "ReproducibleTraining.dll");

    /// <summary>Runs side by side: the processes spend most of their time loading libtorch.</summary>
    private static readonly ParallelOptions SideBySide = new() { MaxDegreeOfParallelism = Math.Clamp(Environment.ProcessorCount, 2, 4) };

    /// <summary>The uninterrupted run on 1 worker of each setting ("" for the defaults), the default one with a mask log.</summary>
    private static readonly ConcurrentDictionary<string, Lazy<FinishedRun>> Uninterrupted = new();

    /// <summary>1 worker, with the extractor's dropout and a mask log.</summary>
    private static readonly Lazy<FinishedRun> WithExtractorDropout =
        new(() => FinishedWithLog("extractor-dropout.log", "--workers", "1", "--extractor-dropout"));

    /// <summary>A checkpoint written after batch 3 of epoch 2 by a run on 4 workers, with the default settings.</summary>
    private static readonly Lazy<string> CheckpointAt2_3 = new(() => Stop("checkpoint-2-3", "2:3", 4, []));

    [ClassCleanup]
    public static void DeleteScratch()
    {
        if (Directory.Exists(Scratch))
            Directory.Delete(Scratch, recursive: true);
    }

    private static FinishedRun Reference(string settings = "") =>
        Uninterrupted.GetOrAdd(settings, s => new Lazy<FinishedRun>(() => s == ""
            ? FinishedWithLog("uninterrupted.log", "--workers", "1")
            : Finished(Run(["--workers", "1", .. Split(s)])))).Value;

    private static string[] Split(string settings) => settings.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>
    /// The contract matrix. Per setting, each kind of stop point: before an epoch's first batch (<c>E:0</c>; 1:0 is before
    /// anything is trained), after a batch mid-epoch, after an epoch's last batch (short with the defaults, the last
    /// whole one with <c>--drop-last</c>, a full one where 40 divides the 200 samples; the resumed run runs that epoch's
    /// end-of-epoch step), and after an epoch's end-of-epoch step (<c>E:end</c>; 3:end is after the run's last draw).
    /// Each is stopped on some number of workers and resumed in a new process on another.
    /// </summary>
    [TestMethod]
    [DataRow("", "1:0", "2:4", "2:7", "1:end", DisplayName = "batch size 32 (7 batches, the last of 8)")]
    [DataRow("--drop-last", "2:0", "3:2", "2:6", "3:end", DisplayName = "batch size 32, --drop-last (6 batches, 8 samples left out)")]
    [DataRow("--batch-size 40", "3:0", "1:2", "1:5", "2:end", DisplayName = "batch size 40 (5 batches, 40 divides 200)")]
    public void StoppedAtEveryKindOfPoint_AndResumedInANewProcessOnAnotherWorkerCount_PrintsTheUninterruptedLines(string settings, params string[] points)
    {
        (int Stop, int Resume)[] workers = [(2, 1), (4, 2), (3, 4), (4, 3)];
        var failures = new ConcurrentBag<string>();
        Parallel.For(-1, points.Length, SideBySide, i =>
        {
            if (i < 0)
            {
                _ = Reference(settings); // made side by side with the stops
                return;
            }
            string name = $"{settings}-{points[i]}".Replace(' ', '_').Replace(':', '_');
            string directory = Stop(name, points[i], workers[i].Stop, Split(settings));
            ExampleRun resumed = Run(["--workers", workers[i].Resume.ToString(), .. Split(settings), "--resume", directory]);
            StringAssert.Contains(resumed.Error, "Resumed from", resumed.Describe());
            Lines lines = Finished(resumed).Lines;
            if (lines != Reference(settings).Lines)
                failures.Add($"--stop-after {points[i]} on {workers[i].Stop} workers, resumed on {workers[i].Resume}: {lines}, uninterrupted {Reference(settings).Lines}");
        });
        Assert.IsEmpty(failures, string.Join('\n', failures));
    }

    [TestMethod]
    public void StoppedMidEpoch_AndResumedWithAMaskLog_LogsTheRestOfTheUninterruptedRunsMasks()
    {
        string log = ScratchPath("resumed.log");
        ExampleRun resumed = Run("--workers", "2", "--resume", CheckpointAt2_3.Value, "--mask-log", log);
        StringAssert.Contains(resumed.Error, "Resumed from", resumed.Describe());
        StringAssert.Contains(resumed.Error, "after epoch 2, batch 3 (seed 42)", resumed.Describe());
        Assert.AreEqual(Reference().Lines, Finished(resumed).Lines, "stopped at 2:3 on 4 workers, resumed on 2, against 1 worker uninterrupted");
        CollectionAssert.AreEqual(Reference().MaskLog[10..], File.ReadAllLines(log), "the resumed process draws the masks of 2:4 to 3:7");
    }

    [TestMethod]
    public void AResumeFromAResume_PrintsTheUninterruptedLines()
    {
        string directory = Stop("resume-of-resume", "1:3", 2, []);
        ExampleRun again = Run("--workers", "4", "--resume", directory, "--stop-after", "2:end");
        Assert.AreEqual(0, again.ExitCode, again.Describe());
        Assert.AreEqual("", again.Output, again.Describe());
        StringAssert.Contains(again.Error, "Stopped after epoch 2's end-of-epoch step", again.Describe());
        ExampleRun resumed = Run("--workers", "3", "--resume", directory);
        StringAssert.Contains(resumed.Error, "after epoch 2's end-of-epoch step", resumed.Describe());
        Assert.AreEqual(Reference().Lines, Finished(resumed).Lines);
    }

    /// <summary>
    /// <c>--checkpoint-every N</c> leaves the run's lines as they are, and its newest checkpoint resumes to them: every
    /// 5 batches of 40 is each epoch's last batch, before its end-of-epoch step (the newest is 3:5); every 6 batches of
    /// 32 ends mid-epoch (the newest is 3:4).
    /// </summary>
    [TestMethod]
    [DataRow("--batch-size 40", 5)]
    [DataRow("", 6)]
    public void CheckpointsEveryNBatches_LeaveTheLines_AndTheNewestResumesToThem(string settings, int every)
    {
        string directory = ScratchPath($"every-{every}");
        Lines reference = default!;
        ExampleRun run = default!;
        Parallel.Invoke(SideBySide,
            () => reference = Reference(settings).Lines,
            () => run = Run(["--workers", "2", .. Split(settings), "--checkpoint-every", every.ToString(), "--checkpoint", directory]));
        Assert.AreEqual(reference, Finished(run).Lines, "with checkpoints every N batches");
        Assert.HasCount(2, Directory.GetFiles(directory), "the folder keeps the newest two");

        ExampleRun resumed = Run(["--workers", "3", .. Split(settings), "--resume", directory]);
        StringAssert.Contains(resumed.Error, every == 5 ? "after epoch 3, batch 5" : "after epoch 3, batch 4", resumed.Describe());
        Assert.AreEqual(reference, Finished(resumed).Lines, "resumed from the newest");
    }

    [TestMethod]
    public void OneTwoAndFourWorkers_GiveTheSameLines()
    {
        var runs = new ExampleRun[2];
        Parallel.Invoke(SideBySide, () => Reference(), () => runs[0] = Run("--workers", "2"), () => runs[1] = Run("--workers", "4"));
        Assert.AreEqual(Reference().Lines, Finished(runs[0]).Lines, "2 workers");
        Assert.AreEqual(Reference().Lines, Finished(runs[1]).Lines, "4 workers");
    }

    [TestMethod]
    public void ExtractorDropout_LeavesTheClassifierMasksTheDataOrderAndTheEpochEnds_AndChangesTheWeights()
    {
        Parallel.Invoke(SideBySide, () => Reference(), () => _ = WithExtractorDropout.Value);
        FinishedRun plain = Reference(), dropout = WithExtractorDropout.Value;
        Assert.AreEqual(plain.Lines.ClassifierMasks, dropout.Lines.ClassifierMasks, "classifier-masks");
        Assert.AreEqual(plain.Lines.DataOrder, dropout.Lines.DataOrder, "data-order");
        Assert.AreEqual(plain.Lines.EpochEnd, dropout.Lines.EpochEnd, "epoch-end: the global generator's draws, which no module's stream moves");
        Assert.AreNotEqual(plain.Lines.Weights, dropout.Lines.Weights, "the extractor's dropout changes the training, so the weights");
        CollectionAssert.AreEqual(plain.MaskLog, dropout.MaskLog, "every single mask, step by step");
    }

    [TestMethod]
    public void ExtractorDropout_OnFourWorkers_AndStoppedAndResumed_GivesTheOneWorkerLines()
    {
        ExampleRun four = default!, resumed = default!;
        Parallel.Invoke(SideBySide,
            () => _ = WithExtractorDropout.Value,
            () => four = Run("--workers", "4", "--extractor-dropout"),
            () =>
            {
                string directory = Stop("checkpoint-dropout-2-3", "2:3", 2, ["--extractor-dropout"]);
                resumed = Run("--workers", "4", "--extractor-dropout", "--resume", directory);
            });
        Assert.AreEqual(WithExtractorDropout.Value.Lines, Finished(four).Lines, "4 workers");
        Assert.AreEqual(WithExtractorDropout.Value.Lines, Finished(resumed).Lines, "stopped at 2:3 on 2 workers, resumed on 4");
    }

    [TestMethod]
    public void MaskLog_HasALinePerStep_AndNoTwoMasksOfTheRunAreEqual()
    {
        string[] log = Reference().MaskLog;
        string[] steps = [.. from epoch in Enumerable.Range(1, 3) from batch in Enumerable.Range(1, 7) select $"{epoch}:{batch}"];
        CollectionAssert.AreEqual(steps, log.Select(line => line.Split(' ')[0]).ToArray(), "one line per training step, in order");
        string[] masks = [.. log.Select(line => line.Split(' ')[1])];
        Assert.IsTrue(masks.All(mask => Regex.IsMatch(mask, "^[0-9a-f]{16}$")), string.Join('\n', log));
        Assert.HasCount(masks.Length, masks.Distinct(), "all 21 masks differ:\n" + string.Join('\n', log));
    }

    [TestMethod]
    public void AnotherSeed_GivesOtherLines()
    {
        ExampleRun other = default!;
        Parallel.Invoke(SideBySide, () => Reference(), () => other = Run("--workers", "1", "--seed", "43"));
        Lines lines = Reference().Lines, others = Finished(other).Lines;
        Assert.AreNotEqual(lines.ClassifierMasks, others.ClassifierMasks);
        Assert.AreNotEqual(lines.DataOrder, others.DataOrder);
        Assert.AreNotEqual(lines.EpochEnd, others.EpochEnd);
        Assert.AreNotEqual(lines.Weights, others.Weights);
    }

    /// <summary>
    /// A damaged checkpoint, or one written by another run, is refused before training with exit status 1 and the
    /// library's message, which names the file and what is wrong; a folder without a checkpoint too.
    /// </summary>
    [TestMethod]
    public void ADamagedCheckpoint_OrOneOfAnotherSeed_IsRefusedWithTheLibrarysMessage_AndExitsWithOne()
    {
        var cases = new (string Name, Func<byte[], byte[]?> Damage, string[] Options, string Message)[]
        {
            ("a byte flipped", bytes => { bytes[bytes.Length / 2] ^= 1; return bytes; }, [], "the checkpoint's checksum does not match its contents"),
            ("cut short", bytes => bytes[..(bytes.Length / 2)], [], "the checkpoint's checksum does not match its contents"),
            ("not a checkpoint", bytes => "weights"u8.ToArray(), [], "is not a ReproducibleBlock checkpoint"),
            ("no checkpoint in the folder", bytes => null, [], "the folder holds no checkpoint"),
            ("another seed", bytes => bytes, ["--seed", "43"], "was written by another run: the seed is 42 there and 43 here"),
        };
        var runs = new ExampleRun[cases.Length];
        Parallel.For(0, cases.Length, SideBySide, i =>
        {
            string directory = ScratchPath($"refused-{i}");
            Directory.CreateDirectory(directory);
            foreach (string file in Directory.GetFiles(CheckpointAt2_3.Value))
            {
                string copy = Path.Combine(directory, Path.GetFileName(file));
                if (cases[i].Damage(File.ReadAllBytes(file)) is { } bytes)
                    File.WriteAllBytes(copy, bytes);
            }
            runs[i] = Run([.. cases[i].Options, "--resume", directory]);
        });
        for (int i = 0; i < cases.Length; i++)
        {
            (string name, _, _, string message) = cases[i];
            Assert.AreEqual(1, runs[i].ExitCode, $"{name}: {runs[i].Describe()}");
            StringAssert.StartsWith(runs[i].Error, $"ReproducibleTraining: --resume {ScratchPath($"refused-{i}")}: ", $"{name}: {runs[i].Describe()}");
            StringAssert.Contains(runs[i].Error, message, $"{name}: {runs[i].Describe()}");
            if (i < 3)
                StringAssert.Contains(runs[i].Error, ScratchPath($"refused-{i}") + Path.DirectorySeparatorChar, $"{name}: the message names the file. {runs[i].Describe()}");
            Assert.AreEqual("", runs[i].Output, name);
        }
    }

    /// <summary>
    /// What the example refuses itself, with exit status 2 (a wrong option): a checkpoint trained with another batch size
    /// or <c>--drop-last</c> (its batches from the checkpoint on would be others; the dataset is always the same 200
    /// images), or another <c>--extractor-dropout</c> choice (a layer without parameters, which the library's model check
    /// cannot see); a <c>--stop-after</c> that is not after the checkpoint; a checkpoint past <c>--epochs</c>; a new run
    /// into a folder that holds checkpoints already.
    /// </summary>
    [TestMethod]
    public void ResumingWithOtherSettings_OrToAPointBeforeTheCheckpoint_ExitsWithTwo()
    {
        string checkpoint = CheckpointAt2_3.Value;
        var cases = new (string[] Options, string Message)[]
        {
            (["--batch-size", "40", "--resume", checkpoint], "the checkpoint was trained with --batch-size 32"),
            (["--drop-last", "--resume", checkpoint], "the checkpoint was trained without --drop-last"),
            (["--extractor-dropout", "--resume", checkpoint], "the checkpoint was trained without --extractor-dropout"),
            (["--resume", checkpoint, "--stop-after", "2:3"], "--stop-after 2:3 is not after the checkpoint's point, 2:3"),
            (["--resume", checkpoint, "--epochs", "1"], "is at 2:3, past --epochs 1"),
            (["--checkpoint", checkpoint, "--stop-after", "3:1"], "the folder is not empty"),
        };
        var runs = new ExampleRun[cases.Length];
        Parallel.For(0, cases.Length, SideBySide, i => runs[i] = Run(cases[i].Options));
        for (int i = 0; i < cases.Length; i++)
        {
            Assert.AreEqual(2, runs[i].ExitCode, runs[i].Describe());
            StringAssert.Contains(runs[i].Error, cases[i].Message, runs[i].Describe());
            Assert.AreEqual("", runs[i].Output, runs[i].Describe());
        }
        Assert.HasCount(1, Directory.GetFiles(checkpoint), "nothing was written into the checkpoint's folder");
    }

    [TestMethod]
    public void Help_ExitsWithZero_AndAWrongOption_NamesTheProblemAndExitsWithTwo()
    {
        ExampleRun help = Run("--help");
        Assert.AreEqual(0, help.ExitCode, help.Describe());
        foreach (string documented in new[]
        {
            "--stop-after POINT", "E:0", "E:end", "--batch-size N", "--drop-last", "--checkpoint-every N", "--resume DIR", "--extractor-dropout",
            "--mask-log FILE", "classifier-masks:", "data-order:", "epoch-end:", "weights:", "1 = kept, 0 = dropped",
            "--sample-log FILE", "--world-size W", "--rank R", "no collective operations",
        })
        {
            StringAssert.Contains(help.Output, documented);
        }

        string[][] wrongs =
        [
            ["--workers", "0"], ["--batch-size", "0"], ["--batch-size", "201"], ["--stop-after", "2:3"], ["--stop-after", "2-3", "--checkpoint", "x"],
            ["--stop-after", "2:8", "--checkpoint", "x"], ["--stop-after", "2:7", "--drop-last", "--checkpoint", "x"], ["--stop-after", "4:end", "--checkpoint", "x"],
            ["--checkpoint-every", "3"], ["--checkpoint", "x"], ["--resume", "x", "--checkpoint", "y", "--stop-after", "3:1"], ["--mask-log"], ["--frobnicate"],
            ["--sample-log"], ["--world-size", "0"], ["--rank", "-1"], ["--world-size", "3"],
        ];
        foreach (string[] wrong in wrongs)
        {
            ExampleRun run = Run(wrong);
            Assert.AreEqual(2, run.ExitCode, run.Describe());
            StringAssert.StartsWith(run.Error, "ReproducibleTraining: ", run.Describe());
            Assert.AreEqual("", run.Output, run.Describe());
        }
    }

    /// <summary>The training listing of docs/training.md is the example's, line for line: it compiles because the example does.</summary>
    [TestMethod]
    public void TheTrainingDocsListing_IsTheExamplesRecipe()
    {
        string[] program = File.ReadAllLines(Path.Combine(Repository.Root, "examples", "ReproducibleTraining", "Program.cs"));
        int start = Array.IndexOf(program, "// <training-recipe>"), end = Array.IndexOf(program, "// </training-recipe>");
        Assert.IsTrue(start >= 0 && end > start, "Program.cs marks its recipe with // <training-recipe> and // </training-recipe>");
        string recipe = string.Join('\n', program[(start + 1)..end]);
        string docs = File.ReadAllText(Path.Combine(Repository.Root, "docs", "training.md")).Replace("\r\n", "\n");
        StringAssert.Contains(docs, "```csharp\n" + recipe + "\n```", "docs/training.md shows the recipe between // <training-recipe> and // </training-recipe>, verbatim");
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
    /// The trap a hand-written resume must avoid (TrainingRun loads outside any scope): SGD's <c>load_state_dict</c>
    /// creates the momentum buffers, a <c>torch.NewDisposeScope()</c> open around it disposes them when it ends, and the
    /// next <c>step</c> fails. Loaded outside any scope, the state round-trips: the next step is the one the original
    /// optimizer takes.
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

    /// <summary>The four hashes a finished run prints.</summary>
    private sealed record Lines(string ClassifierMasks, string DataOrder, string EpochEnd, string Weights);

    /// <summary>A finished run's lines, and its mask log's lines when it wrote one.</summary>
    private sealed record FinishedRun(Lines Lines, string[] MaskLog);

    /// <summary>
    /// The four lines of a finished run's standard output, which must be exactly <c>classifier-masks: </c>,
    /// <c>data-order: </c>, <c>epoch-end: </c> and <c>weights: </c> (the last line), each with 16 lowercase hex digits.
    /// </summary>
    private static FinishedRun Finished(ExampleRun run, string? maskLog = null)
    {
        Assert.AreEqual(0, run.ExitCode, run.Describe());
        string[] lines = run.Output.TrimEnd('\n', '\r').Split('\n').Select(line => line.TrimEnd('\r')).ToArray();
        string[] names = ["classifier-masks", "data-order", "epoch-end", "weights"];
        Assert.HasCount(names.Length, lines, run.Describe());
        string[] hashes = new string[names.Length];
        for (int i = 0; i < names.Length; i++)
        {
            Match match = Regex.Match(lines[i], $"^{names[i]}: ([0-9a-f]{{16}})$");
            Assert.IsTrue(match.Success, $"line {i + 1} is not '{names[i]}: ' and 16 lowercase hex digits: '{lines[i]}'.\n{run.Describe()}");
            hashes[i] = match.Groups[1].Value;
        }
        return new FinishedRun(new Lines(hashes[0], hashes[1], hashes[2], hashes[3]), maskLog is null ? [] : File.ReadAllLines(maskLog));
    }

    /// <summary>Runs the example with <c>--mask-log</c> into the scratch file <paramref name="log"/>, and reads its lines.</summary>
    private static FinishedRun FinishedWithLog(string log, params string[] arguments)
    {
        string path = ScratchPath(log);
        return Finished(Run([.. arguments, "--mask-log", path]), path);
    }

    /// <summary>Runs the example with <c>--stop-after <paramref name="point"/></c> into a new scratch folder, checks that it stopped there, and returns the folder.</summary>
    private static string Stop(string name, string point, int workers, string[] settings)
    {
        string directory = ScratchPath(name);
        ExampleRun stopped = Run(["--workers", workers.ToString(), .. settings, "--stop-after", point, "--checkpoint", directory]);
        Assert.AreEqual(0, stopped.ExitCode, stopped.Describe());
        Assert.AreEqual("", stopped.Output, "a stopped run prints none of the four lines");
        string[] at = point.Split(':');
        string where = at[1] == "end" ? $"after epoch {at[0]}'s end-of-epoch step" : at[1] == "0" ? $"before epoch {at[0]}'s first batch" : $"after epoch {at[0]}, batch {at[1]}";
        StringAssert.Contains(stopped.Error, $"Stopped {where}; checkpoint written to {directory}", stopped.Describe());
        return directory;
    }

    /// <summary>A path in this test class's scratch directory, which is deleted after the class's tests.</summary>
    private static string ScratchPath(string name)
    {
        Directory.CreateDirectory(Scratch);
        return Path.Combine(Scratch, name);
    }

    /// <summary>
    /// libtorch's OpenMP threads wait for work by spinning, which takes most of the CPU of runs side by side (about
    /// 2.5 s of CPU a run instead of 1 s here); waiting passively changes no number (the thread count stays the default).
    /// </summary>
    private static readonly Dictionary<string, string> PassiveThreads = new() { ["OMP_WAIT_POLICY"] = "PASSIVE" };

    /// <summary>Runs the example's dll with <paramref name="arguments"/>, with both output streams redirected.</summary>
    private static ExampleRun Run(params string[] arguments) => RunWith(new Dictionary<string, string>(), arguments);

    /// <summary>Runs the example's dll with <paramref name="arguments"/> and these environment variables (a launcher's RANK and WORLD_SIZE).</summary>
    private static ExampleRun RunWith(IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        Assert.IsTrue(File.Exists(ExampleDll), $"The example is not built at {ExampleDll}: build this test project, which builds it first.");
        // A launcher's variables in the test's own environment must not make every run a rank: empty is unset to the example.
        var variables = new Dictionary<string, string>(PassiveThreads) { ["RANK"] = "", ["WORLD_SIZE"] = "", ["LOCAL_RANK"] = "" };
        foreach ((string name, string value) in environment)
            variables[name] = value;
        AppRun run = Repository.RunApp(ExampleDll, arguments, variables);
        string described = string.Join(' ', environment.Select(v => $"{v.Key}={v.Value}").Concat(arguments));
        return new ExampleRun(described, run.ExitCode, run.Output, run.Error);
    }
}
