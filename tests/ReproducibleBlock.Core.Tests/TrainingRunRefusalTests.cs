using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;

namespace ReproducibleBlock.Tests;

/// <summary>
/// A checkpoint is refused, with a message naming what differs, when it could not resume this run exactly: another
/// seed, model shape, dataset, scheduler or library minor version, a damaged or cut file; and the set-up order cannot
/// be got wrong. Each refusal has its control: the same checkpoint resumes the run it was written by.
/// </summary>
[TestClass]
public sealed class TrainingRunRefusalTests : RuntimeTest
{
    private string _folder = "";

    [TestInitialize]
    public void CreateFolder() => _folder = Directory.CreateTempSubdirectory("rb-refuse-").FullName;

    [TestCleanup]
    public void DeleteFolder() => Directory.Delete(_folder, recursive: true);

    private sealed record Parts(TrainingRun Run, nn.Module Model, optim.Optimizer Optimizer, ReproducibleSampler Sampler);

    /// <summary>Sets a run up as a user does, with what a test varies, and without resuming.</summary>
    private Parts SetUp(long seed = 3, int hidden = 4, int count = 10, bool scheduler = true, string? folder = null)
    {
        var run = new TrainingRun(seed, folder ?? _folder, deterministic: false);
        var model = nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, 1));
        var optimizer = optim.SGD(model.parameters(), 0.1);
        ReproducibleSampler sampler = run.Sampler(count);
        run.Track(model).Track(optimizer);
        if (scheduler)
            run.Track(optim.lr_scheduler.StepLR(optimizer, step_size: 1));
        return new Parts(run, model, optimizer, sampler);
    }

    /// <summary>Writes a checkpoint after one epoch of a run with the default set-up, and returns its file.</summary>
    private string WriteOne(int count = 10)
    {
        Parts parts = SetUp(count: count);
        foreach (long epoch in parts.Run.Epochs(1))
        {
            foreach (long index in parts.Sampler)
                Assert.IsGreaterThanOrEqualTo(0L, index);
        }
        parts.Run.Checkpoint();
        return parts.Run.LastCheckpoint!;
    }

    private static string Refused<T>(Parts parts, string? file = null) where T : Exception =>
        Assert.ThrowsExactly<T>(() => parts.Run.Resume(file)).Message;

    [TestMethod]
    public void AnotherSeed_IsRefused_NamingBoth()
    {
        WriteOne();
        string message = Refused<InvalidDataException>(SetUp(seed: 4));
        StringAssert.Contains(message, "the seed is 3 there and 4 here");
        Assert.IsTrue(SetUp().Run.Resume(), "control: the run that wrote it resumes");
    }

    [TestMethod]
    public void AnotherModelShape_IsRefused_NamingTheFirstParameterThatDiffers()
    {
        WriteOne();
        string message = Refused<InvalidDataException>(SetUp(hidden: 5));
        StringAssert.Contains(message, "the model 'model'");
        StringAssert.Contains(message, "0.weight:Float32[4x2] there and 0.weight:Float32[5x2] here");
    }

    [TestMethod]
    public void AnotherDatasetSize_IsRefused()
    {
        WriteOne();
        string message = Refused<InvalidDataException>(SetUp(count: 11));
        StringAssert.Contains(message, "the samplers (dataset size/shuffle/stream seed) is 10/True/0 there and 11/True/0 here");
    }

    [TestMethod]
    public void AScheduleTrackedThereButNotHere_IsRefused()
    {
        WriteOne();
        string message = Refused<InvalidDataException>(SetUp(scheduler: false));
        StringAssert.Contains(message, "the number of schedulers is 1 there and 0 here");
    }

    [TestMethod]
    public void AnotherLibraryMinorVersion_IsRefused_NamingTheVersionToUse()
    {
        string file = WriteOne();
        Rewrite(file, manifest => manifest.Replace($"library={Ours()}", "library=0.2.1"));
        string message = Refused<InvalidDataException>(SetUp());
        StringAssert.Contains(message, "written by ReproducibleBlock 0.2.1");
        StringAssert.Contains(message, "resume with ReproducibleBlock 0.2.x");

        // Control: a patch version of this minor version resumes (patches never move streams).
        string[] version = Ours().Split('.', '-', '+');
        Rewrite(file, manifest => manifest.Replace("library=0.2.1", $"library={version[0]}.{version[1]}.99"));
        Assert.IsTrue(SetUp().Run.Resume());
    }

    private static string Ours() => ReproducibleEnvironment.VersionOf(typeof(TrainingRun).Assembly);

    /// <summary>Rewrites the manifest of <paramref name="file"/> as a whole, valid checkpoint (new checksum).</summary>
    private static void Rewrite(string file, Func<string, string> edit)
    {
        Dictionary<string, byte[]> sections = CheckpointFile.Read(File.ReadAllBytes(file), file);
        string manifest = edit(Encoding.UTF8.GetString(sections[CheckpointFile.ManifestSection]));
        sections[CheckpointFile.ManifestSection] = Encoding.UTF8.GetBytes(manifest);
        File.WriteAllBytes(file, CheckpointFile.Write([.. sections.Select(s => (s.Key, s.Value))]));
    }

    [TestMethod]
    [DataRow(-1, DisplayName = "the last byte changed")]
    [DataRow(20, DisplayName = "a byte in the first section changed")]
    public void ADamagedFile_IsRefused_NamingIt(int at)
    {
        string file = WriteOne();
        byte[] bytes = File.ReadAllBytes(file);
        bytes[at < 0 ? bytes.Length + at : at] ^= 0x10;
        File.WriteAllBytes(file, bytes);
        string message = Refused<FormatException>(SetUp());
        StringAssert.Contains(message, file);
        StringAssert.Contains(message, "checksum does not match");
    }

    [TestMethod]
    public void AFileCutShort_IsRefused()
    {
        string file = WriteOne();
        byte[] bytes = File.ReadAllBytes(file);
        File.WriteAllBytes(file, bytes[..(bytes.Length / 2)]);
        StringAssert.Contains(Refused<FormatException>(SetUp()), "checksum does not match");
    }

    [TestMethod]
    public void SomethingElseGivenAsACheckpoint_IsRefused()
    {
        string other = Path.Combine(_folder, "notes.txt");
        File.WriteAllText(other, "not a checkpoint, but long enough to have a header");
        StringAssert.Contains(Refused<FormatException>(SetUp(), other), "is not a ReproducibleBlock checkpoint");
        StringAssert.Contains(Refused<InvalidDataException>(SetUp(), Path.Combine(_folder, "missing.rbck")), "cannot be read");
    }

    [TestMethod]
    public void ATemporaryFileLeftByACrash_IsNeverRead()
    {
        string file = WriteOne();
        // What a crash during the next write leaves: a later sequence number, under its temporary name, cut short.
        string newer = file.Replace("0000000000", "0000000001", StringComparison.Ordinal);
        Assert.AreNotEqual(file, newer);
        File.WriteAllBytes(newer + ".tmp-1-0", File.ReadAllBytes(file)[..40]);
        Parts parts = SetUp();
        Assert.IsTrue(parts.Run.Resume());
        Assert.AreEqual(file, parts.Run.LastCheckpoint);
    }

    [TestMethod]
    public void TheFolder_KeepsTheNewestCheckpoints_AndResumesFromTheNewest()
    {
        Parts parts = SetUp();
        parts.Run.KeepCheckpoints = 2;
        foreach (long epoch in parts.Run.Epochs(4))
        {
            foreach (long index in parts.Sampler)
                Assert.IsGreaterThanOrEqualTo(0L, index);
            parts.Run.Checkpoint(); // taken when the epoch's body ends
        }
        // Four checkpoints, sequence numbers 0 to 3: the newest two are kept.
        string[] kept = [.. Directory.GetFiles(_folder).Select(Path.GetFileName).Order(StringComparer.Ordinal)!];
        CollectionAssert.AreEqual(new[] { "checkpoint-0000000002.step-0000000000.rbck", "checkpoint-0000000003.step-0000000000.rbck" }, kept);
        Assert.AreEqual(Path.Combine(_folder, kept[1]), parts.Run.LastCheckpoint);
        Parts resumed = SetUp();
        Assert.IsTrue(resumed.Run.Resume());
        Assert.AreEqual(Path.Combine(_folder, kept[1]), resumed.Run.LastCheckpoint);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => resumed.Run.KeepCheckpoints = 0);
    }

    [TestMethod]
    public void SettingUpAfterResume_IsRefused_SayingTheOrder()
    {
        WriteOne();
        Parts parts = SetUp();
        Assert.IsTrue(parts.Run.Resume());
        var late = nn.Linear(1, 1);
        StringAssert.Contains(Assert.ThrowsExactly<InvalidOperationException>(() => parts.Run.Track("late", late)).Message, "call it before Resume");
        Assert.ThrowsExactly<InvalidOperationException>(() => parts.Run.Sampler(3));
        StringAssert.Contains(Assert.ThrowsExactly<InvalidOperationException>(() => parts.Run.Resume()).Message, "called once");
    }

    [TestMethod]
    public void ASchedulerSteppedBeforeResume_IsRefused()
    {
        WriteOne();
        var run = new TrainingRun(3, _folder, deterministic: false);
        var model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1));
        var optimizer = optim.SGD(model.parameters(), 0.1);
        run.Sampler(10);
        var scheduler = optim.lr_scheduler.StepLR(optimizer, step_size: 1);
        run.Track(model).Track(optimizer).Track(scheduler);
        scheduler.step();
        StringAssert.Contains(Assert.ThrowsExactly<InvalidOperationException>(() => run.Resume()).Message, "was stepped before Resume");
    }

    [TestMethod]
    public void AHiddenStateScheduler_IsRefused_PointingToTrackingItsState()
    {
        var run = new TrainingRun(3, _folder, deterministic: false);
        var optimizer = optim.SGD(nn.Linear(2, 1).parameters(), 0.1);
        var plateau = optim.lr_scheduler.ReduceLROnPlateau(optimizer);
        StringAssert.Contains(Assert.ThrowsExactly<NotSupportedException>(() => run.Track(plateau)).Message, "ReduceLROnPlateau");
    }

    [TestMethod]
    public void NoCheckpointYet_ResumesNothing_AndARunWithoutAFolderCannotCheckpoint()
    {
        Assert.IsFalse(SetUp().Run.Resume(), "an empty folder: a fresh start");
        var run = new TrainingRun(3, deterministic: false);
        Assert.IsFalse(run.Resume());
        StringAssert.Contains(Assert.ThrowsExactly<InvalidOperationException>(run.Checkpoint).Message, "new TrainingRun(seed, \"checkpoints\")");
    }
}
