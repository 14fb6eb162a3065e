using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.Versioning;
using System.Text;
using System.Threading;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace ReproducibleBlock.Tests;

/// <summary>
/// The build step that lets TorchSharp load where libstdc++ is older than GCC 13's. Works on copies of the real
/// libLibTorchSharp.so from the NuGet cache; readelf (binutils), where present, is the independent judge.
/// </summary>
[TestClass]
public sealed class GlibcxxBuildStepTests
{
    public TestContext TestContext { get; set; } = null!;

    private static string OriginalLibrary()
    {
        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string path = Path.Combine(packages, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        if (!File.Exists(path))
            Assert.Inconclusive($"TorchSharp's original library is not at {path}.");
        return path;
    }

    private readonly List<string> _scratch = [];

    /// <summary>
    /// A fresh folder outside the build output (the build step scans its output recursively, so files left there
    /// would be patched, or warned about, by the next build); removed when the test ends.
    /// </summary>
    private string NewFolder()
    {
        string folder = Path.Combine(Path.GetTempPath(), "ReproducibleBlock.GlibcxxTests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        _scratch.Add(folder);
        return folder;
    }

    [TestCleanup]
    public void RemoveScratchFolders()
    {
        foreach (string folder in _scratch)
        {
            if (Directory.Exists(folder))
                Directory.Delete(folder, recursive: true);
        }
    }

    private string CopyOfOriginal()
    {
        string copy = Path.Combine(NewFolder(), GlibcxxWeakener.LibraryFileName);
        File.Copy(OriginalLibrary(), copy);
        return copy;
    }

    private static string? ReadElfVersions(string path) => RunReadElf("-V", "--wide", path)?.Output;

    /// <summary>readelf's standard output and error, or null where binutils is missing or readelf fails.</summary>
    private static (string Output, string Errors)? RunReadElf(params string[] arguments)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("readelf", arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false })!;
            var errors = process.StandardError.ReadToEndAsync();
            string output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0 ? (output, errors.Result) : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // no binutils here
        }
    }

    [TestMethod]
    public void Patch_MarksOnlyTheGlibcxx3432NeedWeak()
    {
        byte[] original = File.ReadAllBytes(OriginalLibrary());
        byte[] patched = (byte[])original.Clone();

        Assert.AreEqual(GlibcxxWeakener.Patched, GlibcxxWeakener.Patch(patched));

        int[] changed = Enumerable.Range(0, original.Length).Where(i => original[i] != patched[i]).ToArray();
        Assert.AreEqual(1, changed.Length, "one byte: the low byte of vna_flags");
        Assert.AreEqual(0x2, patched[changed[0]] ^ original[changed[0]], "VER_FLG_WEAK");
    }

    [TestMethod]
    public void PatchFile_IsSeenAsWeakByReadelf()
    {
        string copy = CopyOfOriginal();
        string? before = ReadElfVersions(copy);
        if (before is null)
            Assert.Inconclusive("readelf is not installed.");
        Assert.IsTrue(before.Split('\n').Any(l => l.Contains("Name: GLIBCXX_3.4.32") && l.Contains("Flags: none")));

        Assert.AreEqual(GlibcxxWeakener.Patched, GlibcxxWeakener.PatchFile(copy));

        string after = ReadElfVersions(copy)!;
        Assert.IsTrue(after.Split('\n').Any(l => l.Contains("Name: GLIBCXX_3.4.32") && l.Contains("Flags: WEAK")));
        Assert.AreEqual(before.Split('\n').Count(l => l.Contains("Flags: WEAK")) + 1, after.Split('\n').Count(l => l.Contains("Flags: WEAK")));
    }

    [TestMethod]
    public void PatchFile_Twice_ChangesNothingTheSecondTime()
    {
        string copy = CopyOfOriginal();
        GlibcxxWeakener.PatchFile(copy);
        byte[] once = File.ReadAllBytes(copy);
        Assert.AreEqual(GlibcxxWeakener.AlreadyWeak, GlibcxxWeakener.PatchFile(copy));
        CollectionAssert.AreEqual(once, File.ReadAllBytes(copy));
    }

    [TestMethod]
    public void PatchFile_NeverWritesThroughAHardLink_AndKeepsTheTimestamp()
    {
        // The SDK can hard-link output files to the NuGet cache; the cache must stay as it was.
        string copy = CopyOfOriginal();
        string link = copy + ".cache-entry";
        if (!CreateHardLink(copy, link))
            Assert.Inconclusive("hard links are not available here.");
        DateTime stamp = File.GetLastWriteTimeUtc(copy);
        byte[] cached = File.ReadAllBytes(link);

        GlibcxxWeakener.PatchFile(copy);

        CollectionAssert.AreEqual(cached, File.ReadAllBytes(link));
        CollectionAssert.AreNotEqual(cached, File.ReadAllBytes(copy));
        Assert.AreEqual(stamp, File.GetLastWriteTimeUtc(copy));
    }

    private static UnixFileMode Octal(string mode) => (UnixFileMode)Convert.ToInt32(mode, 8);

    [TestMethod]
    [DataRow("755")]
    [DataRow("744")] // how the NuGet package ships it
    [DataRow("644")]
    [DataRow("700")]
    [UnsupportedOSPlatform("windows")]
    public void PatchFile_KeepsTheFileMode(string mode)
    {
        if (OperatingSystem.IsWindows())
            Assert.Inconclusive("no Unix file modes here.");
        string copy = CopyOfOriginal();
        File.SetUnixFileMode(copy, Octal(mode));

        Assert.AreEqual(GlibcxxWeakener.Patched, GlibcxxWeakener.PatchFile(copy));

        Assert.AreEqual(Octal(mode), File.GetUnixFileMode(copy), $"expected {mode}, got {Convert.ToString((int)File.GetUnixFileMode(copy), 8)}");
    }

    [TestMethod]
    [UnsupportedOSPlatform("windows")]
    public void PatchFile_ManyAtOnceOnOneFile_NeverLosesOrBreaksTheLibrary()
    {
        // Parallel builds (several projects or target frameworks sharing an output folder) patch the same copy
        // at the same time. The library must exist at every moment, end up patched with its mode, and leave
        // no temporary files behind.
        if (OperatingSystem.IsWindows())
            Assert.Inconclusive("no Unix file modes here.");
        const int Writers = 8, Rounds = 12;
        string original = OriginalLibrary();
        byte[] expected = File.ReadAllBytes(original);
        Assert.AreEqual(GlibcxxWeakener.Patched, GlibcxxWeakener.Patch(expected));
        string copy = CopyOfOriginal();
        string folder = Path.GetDirectoryName(copy)!;
        UnixFileMode mode = Octal("755");
        var failures = new ConcurrentQueue<string>();

        for (int round = 0; round < Rounds; round++)
        {
            File.Copy(original, copy, overwrite: true);
            File.SetUnixFileMode(copy, mode);
            using var start = new Barrier(Writers + 1);
            int writing = Writers;
            var observer = new Thread(() =>
            {
                start.SignalAndWait();
                while (Volatile.Read(ref writing) > 0)
                {
                    if (!File.Exists(copy))
                        failures.Enqueue("the library was missing for a moment");
                }
            });
            var writers = Enumerable.Range(0, Writers).Select(_ => new Thread(() =>
            {
                start.SignalAndWait();
                try
                {
                    string outcome = GlibcxxWeakener.PatchFile(copy);
                    if (outcome != GlibcxxWeakener.Patched && outcome != GlibcxxWeakener.AlreadyWeak)
                        failures.Enqueue("outcome: " + outcome);
                }
                catch (Exception e)
                {
                    failures.Enqueue($"{e.GetType().Name}: {e.Message}");
                }
                finally
                {
                    Interlocked.Decrement(ref writing);
                }
            })).ToArray();
            observer.Start();
            foreach (Thread writer in writers)
                writer.Start();
            foreach (Thread writer in writers)
                writer.Join();
            observer.Join();

            Assert.IsTrue(failures.IsEmpty, $"round {round}: {string.Join("; ", failures.Distinct().Take(5))}");
            Assert.IsTrue(File.Exists(copy), $"round {round}: the library is gone");
            CollectionAssert.AreEqual(expected, File.ReadAllBytes(copy), $"round {round}: content");
            Assert.AreEqual(mode, File.GetUnixFileMode(copy), $"round {round}: mode");
            CollectionAssert.AreEqual(new[] { GlibcxxWeakener.LibraryFileName },
                Directory.EnumerateFileSystemEntries(folder).Select(Path.GetFileName).ToArray(), $"round {round}: files left behind");
        }
    }

    private static bool CreateHardLink(string target, string link)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("ln", [target, link]) { UseShellExecute = false })!;
            process.WaitForExit();
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    [TestMethod]
    public void Patch_RefusesWhenAnotherSymbolNeedsTheVersion()
    {
        // Rename the marker in the dynamic string table: now a "real" symbol needs GLIBCXX_3.4.32, and weakening
        // the requirement would only move the failure to run time.
        byte[] image = File.ReadAllBytes(OriginalLibrary());
        byte[] marker = Encoding.ASCII.GetBytes(GlibcxxWeakener.MarkerSymbol + "\0");
        int at = image.AsSpan().IndexOf(marker);
        Assert.IsTrue(at > 0);
        image[at + marker.Length - 2] = (byte)'w'; // ..._initv -> ..._initw

        var error = Assert.ThrowsExactly<InvalidDataException>(() => GlibcxxWeakener.Patch(image));
        StringAssert.Contains(error.Message, "_ZSt21ios_base_library_initw");
    }

    [TestMethod]
    public void Patch_RejectsWhatIsNotA64BitElf()
    {
        var script = Assert.ThrowsExactly<InvalidDataException>(() => GlibcxxWeakener.Patch(Encoding.ASCII.GetBytes("#!/bin/sh\necho not a library\n")));
        StringAssert.Contains(script.Message, "not an ELF file");
        byte[] truncated = File.ReadAllBytes(OriginalLibrary()).AsSpan(0, 4096).ToArray();
        var cut = Assert.ThrowsExactly<InvalidDataException>(() => GlibcxxWeakener.Patch(truncated));
        StringAssert.Contains(cut.Message, "outside the file");
    }

    [TestMethod]
    [DataRow("32-bit", "Class:                             ELF32", "32-bit")]
    [DataRow("32-bit, header only", "Class:                             ELF32", "32-bit")]
    [DataRow("64-bit big-endian", "Data:                              2's complement, big endian", "big-endian")]
    public void PatchFile_RefusesAWellFormedElfOfAnotherLayout_WithoutTouchingIt(string kind, string readelfSays, string messageSays)
    {
        byte[] image = kind switch
        {
            "32-bit" => GlibcxxElfImages.Elf32LittleEndian(),
            "32-bit, header only" => GlibcxxElfImages.Elf32LittleEndian(sections: false),
            "64-bit big-endian" => GlibcxxElfImages.Elf64BigEndian(),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        string folder = NewFolder();
        string path = Path.Combine(folder, GlibcxxWeakener.LibraryFileName);
        File.WriteAllBytes(path, image);
        (string Output, string Errors)? readelf = RunReadElf("-h", "-S", "--wide", path);
        if (readelf is { } judged) // the crafted file is well-formed: readelf reads it without a complaint
        {
            StringAssert.Contains(judged.Output, readelfSays);
            Assert.AreEqual("", judged.Errors);
        }
        DateTime stamp = File.GetLastWriteTimeUtc(path);

        var error = Assert.ThrowsExactly<InvalidDataException>(() => GlibcxxWeakener.PatchFile(path));

        StringAssert.Contains(error.Message, messageSays);
        StringAssert.Contains(error.Message, "only 64-bit little-endian");
        CollectionAssert.AreEqual(image, File.ReadAllBytes(path));
        Assert.AreEqual(stamp, File.GetLastWriteTimeUtc(path));
        CollectionAssert.AreEqual(new[] { GlibcxxWeakener.LibraryFileName }, Directory.EnumerateFileSystemEntries(folder).Select(Path.GetFileName).ToArray());
    }

    [TestMethod]
    public void HostLibStdCxx_IsFound_AndItsVersionsAreRead()
    {
        string? host = GlibcxxWeakener.FindHostLibStdCxx();
        if (host is null)
            Assert.Inconclusive("no libstdc++.so.6 in the standard folders.");
        Assert.IsTrue(GlibcxxWeakener.DefinesVersion(host, "GLIBCXX_3.4"), "every libstdc++ defines the base version");
        Assert.IsFalse(GlibcxxWeakener.DefinesVersion(host, "GLIBCXX_9.9.99"));
    }

    [TestMethod]
    [DataRow("not ELF")]
    [DataRow("empty")]
    [DataRow("truncated")]
    [DataRow("32-bit")]
    public void Task_WithABadHostLibStdCxxFirstOnLdLibraryPath_WarnsAndPatches(string kind)
    {
        // A broken or foreign libstdc++.so.6 first on LD_LIBRARY_PATH must not fail the build (MSB4018): the step
        // says which file it could not read and why, and patches, since a weak requirement loads on any host.
        string library = CopyOfOriginal();
        string hostFolder = NewFolder();
        string host = Path.Combine(hostFolder, "libstdc++.so.6");
        File.WriteAllBytes(host, kind switch
        {
            "not ELF" => Encoding.ASCII.GetBytes("INPUT ( /usr/lib/libstdc++.so.6.0.33 )\n"),
            "empty" => [],
            "truncated" => File.ReadAllBytes(OriginalLibrary()).AsSpan(0, 4096).ToArray(),
            "32-bit" => GlibcxxElfImages.Elf32LittleEndian(),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        });
        Assert.AreEqual(host, GlibcxxWeakener.FindHostLibStdCxx(hostFolder + "::/no/such/folder"));
        var engine = new GlibcxxRecordingBuildEngine();
        var task = new ReproducibleBlockWeakenGlibcxx { BuildEngine = engine, Directories = [Path.GetDirectoryName(library)!], Mode = "auto" };

        bool succeeded = task.Execute(hostFolder + "::/no/such/folder");

        Assert.IsTrue(succeeded);
        Assert.AreEqual(0, engine.Errors.Count, string.Join("\n", engine.Errors));
        Assert.AreEqual(1, engine.Warnings.Count, string.Join("\n", engine.Warnings));
        StringAssert.Contains(engine.Warnings[0], host);
        StringAssert.Contains(engine.Warnings[0], "ReproducibleBlockPatchTorchSharp");
        Assert.AreEqual(GlibcxxWeakener.AlreadyWeak, GlibcxxWeakener.Patch(File.ReadAllBytes(library)));
    }

    [TestMethod]
    public void Task_WithAFolderNamedLibStdCxxOnLdLibraryPath_LooksFurther()
    {
        // The dynamic loader skips what it cannot open as a file; so does the step, without failing the build.
        string library = CopyOfOriginal();
        string hostFolder = NewFolder();
        Directory.CreateDirectory(Path.Combine(hostFolder, "libstdc++.so.6"));
        Assert.AreEqual(GlibcxxWeakener.FindHostLibStdCxx(""), GlibcxxWeakener.FindHostLibStdCxx(hostFolder));
        var engine = new GlibcxxRecordingBuildEngine();
        var task = new ReproducibleBlockWeakenGlibcxx { BuildEngine = engine, Directories = [Path.GetDirectoryName(library)!], Mode = "auto" };

        Assert.IsTrue(task.Execute(hostFolder));
        Assert.AreEqual(0, engine.Errors.Count, string.Join("\n", engine.Errors));
    }

    [TestMethod]
    public void TheOutputCopyOfThisTestRun_WasPatchedWhenTheHostNeedsIt()
    {
        string? host = GlibcxxWeakener.FindHostLibStdCxx();
        if (host is null || GlibcxxWeakener.DefinesVersion(host, GlibcxxWeakener.RequiredVersion))
            Assert.Inconclusive("this machine's libstdc++ needs no patch.");
        string output = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", GlibcxxWeakener.LibraryFileName);
        byte[] image = File.ReadAllBytes(output);
        Assert.AreEqual(GlibcxxWeakener.AlreadyWeak, GlibcxxWeakener.Patch(image));
        // ...and TorchSharp loads: every other test in this assembly depends on it.
    }
}
