using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;

namespace ReproducibleBlock.Tests;

/// <summary>
/// The contract of examples/ReproducibleTraining, run as the user runs it: its built dll in processes of its own (this
/// project builds it first, through a project reference that does not reference its assembly). The same seed gives the
/// same <c>weights:</c> line with 1, 2 or 4 DataLoader workers; a run stopped at 2:3 and resumed in a new process, with
/// another worker count, ends with the uninterrupted run's weights; another seed gives other weights.
/// </summary>
[TestClass]
public sealed class ReproducibleTrainingExampleTests
{
    private static readonly Lazy<string> Uninterrupted = new(() => WeightsOf(Run("--workers", "1")));

    private static readonly string ExampleDll = Path.Combine(
        FindRepositoryRoot(), "examples", "ReproducibleTraining", "bin", BuildConfiguration(), "net10.0", "ReproducibleTraining.dll");

    [TestMethod]
    public void OneTwoAndFourWorkers_GiveTheSameWeights()
    {
        string one = Uninterrupted.Value;
        Assert.AreEqual(one, WeightsOf(Run("--workers", "2")), "2 workers");
        Assert.AreEqual(one, WeightsOf(Run("--workers", "4")), "4 workers");
    }

    [TestMethod]
    public void StoppedMidEpoch_AndResumedInANewProcessWithAnotherWorkerCount_GivesTheUninterruptedWeights()
    {
        string directory = Path.Combine(Path.GetTempPath(), "rb-training-" + Guid.NewGuid().ToString("N"));
        try
        {
            ExampleRun stopped = Run("--workers", "4", "--stop-after", "2:3", "--checkpoint", directory);
            Assert.AreEqual(0, stopped.ExitCode, stopped.Describe());
            Assert.DoesNotContain("weights:", stopped.Output, "a stopped run prints no weights line");
            StringAssert.Contains(stopped.Error, "Stopped after epoch 2, batch 3", stopped.Describe());
            Assert.IsNotEmpty(Directory.GetFiles(directory), "the checkpoint was written");

            ExampleRun resumed = Run("--workers", "2", "--resume", directory);
            StringAssert.Contains(resumed.Error, "Resumed from", resumed.Describe());
            Assert.AreEqual(Uninterrupted.Value, WeightsOf(resumed), "stopped at 2:3 on 4 workers, resumed on 2, against 1 worker uninterrupted");
        }
        finally
        {
            if (Directory.Exists(directory))
                Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    public void StoppedAtTheEndOfAnEpoch_ResumesWithTheNextEpoch()
    {
        string directory = Path.Combine(Path.GetTempPath(), "rb-training-" + Guid.NewGuid().ToString("N"));
        try
        {
            ExampleRun stopped = Run("--workers", "1", "--stop-after", "1:6", "--checkpoint", directory);
            Assert.AreEqual(0, stopped.ExitCode, stopped.Describe());
            Assert.AreEqual(Uninterrupted.Value, WeightsOf(Run("--workers", "3", "--resume", directory)));
        }
        finally
        {
            if (Directory.Exists(directory))
                Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    public void AnotherSeed_GivesOtherWeights() =>
        Assert.AreNotEqual(Uninterrupted.Value, WeightsOf(Run("--workers", "1", "--seed", "43")));

    [TestMethod]
    public void Help_ExitsWithZero_AndAWrongOption_NamesTheProblemAndExitsWithTwo()
    {
        ExampleRun help = Run("--help");
        Assert.AreEqual(0, help.ExitCode, help.Describe());
        StringAssert.Contains(help.Output, "--stop-after EPOCH:BATCH");

        foreach (string[] wrong in new string[][] { ["--workers", "0"], ["--stop-after", "2:3"], ["--stop-after", "2-3", "--checkpoint", "x"], ["--frobnicate"] })
        {
            ExampleRun run = Run(wrong);
            Assert.AreEqual(2, run.ExitCode, run.Describe());
            StringAssert.StartsWith(run.Error, "ReproducibleTraining: ", run.Describe());
            Assert.AreEqual("", run.Output, run.Describe());
        }
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

    /// <summary>The hash from the last line of a finished run's standard output, which must be <c>weights: </c> and 16 hex digits.</summary>
    private static string WeightsOf(ExampleRun run)
    {
        Assert.AreEqual(0, run.ExitCode, run.Describe());
        string last = run.Output.TrimEnd('\n', '\r').Split('\n')[^1].TrimEnd('\r');
        Match match = Regex.Match(last, "^weights: ([0-9a-f]{16})$");
        Assert.IsTrue(match.Success, $"the last line is not 'weights: ' and 16 lowercase hex digits: '{last}'.\n{run.Describe()}");
        return match.Groups[1].Value;
    }

    /// <summary>Runs the example's dll with <paramref name="arguments"/>, with both output streams redirected.</summary>
    private static ExampleRun Run(params string[] arguments)
    {
        Assert.IsTrue(File.Exists(ExampleDll), $"The example is not built at {ExampleDll}: build this test project, which builds it first.");
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path ? path : "dotnet";
        var start = new ProcessStartInfo(host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(ExampleDll);
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        using Process process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"ReproducibleTraining {string.Join(' ', arguments)} did not finish in two minutes.");
        }
        process.WaitForExit(); // the output streams are complete
        return new ExampleRun(string.Join(' ', arguments), process.ExitCode, output.Result, error.Result);
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "ReproducibleBlock.sln")))
                return directory.FullName;
        }
        throw new InvalidOperationException("The repository root (with ReproducibleBlock.sln) is not above the test output.");
    }

    /// <summary>The configuration these tests were built in, which the project reference built the example in too.</summary>
    private static string BuildConfiguration() =>
        typeof(ReproducibleTrainingExampleTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
}
