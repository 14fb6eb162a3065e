using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.Tests.Shared;

namespace ReproducibleBlock.Weaving.Tests;

/// <summary>Real builds of fixture projects through the weaver built from source, as a user's build runs it.</summary>
[TestClass]
public sealed class BuildTests
{
    private static (int ExitCode, string Output) Build(string project, params string[] properties) =>
        Repository.Dotnet(Repository.Root, ["build", Path.Combine("tests", project), "-c", Repository.Configuration, "-v:n", .. properties]);

    /// <summary>
    /// The "// error: what" (or "// warning: what") markers of the fixture's files (Misuse.cs, and AssemblyInfo.cs,
    /// which holds only assembly attributes): the file and line each message must point to. "// error, no location:
    /// what" marks a member the symbols do not locate (no body): its message must come without a file.
    /// </summary>
    private static (string File, int Line, string What, bool Located)[] Markers(string kind = "error") =>
        Directory.GetFiles(Path.Combine(Repository.Root, "tests", "WeavingErrors"), "*.cs").Order(StringComparer.Ordinal)
            .SelectMany(path => File.ReadAllLines(path)
                .Select((text, index) => (Line: index + 1, Match: Regex.Match(text, $@"// {kind}(?<unlocated>, no location)?: (?<what>.*)$")))
                .Where(m => m.Match.Success)
                .Select(m => (Path.GetFileName(path), m.Line, m.Match.Groups["what"].Value, !m.Match.Groups["unlocated"].Success)))
            .ToArray();

    private static readonly (string Marker, string Message)[] ExpectedMessages =
    [
        ("rule on an interface", "[assembly: ReproducibleConstructors(typeof(System.IDisposable))]: System.IDisposable is an interface, so no type derives from it."),
        ("rule on object", "[assembly: ReproducibleConstructors(typeof(System.Object))]: System.Object cannot be a rule's base type: every class derives from it."),
        ("rule on a sealed class", "[assembly: ReproducibleConstructors(typeof(System.String))]: System.String is a sealed class, so no type derives from it."),
        ("static class", "The static class WeavingErrors.StaticHolder has [ReproducibleBlock]: on a type, the attribute makes its instance constructors blocks, and a static class has none."),
        ("finalizer", "The finalizer WeavingErrors.Finalized.~Finalized() has [ReproducibleBlock]: it runs on the finalizer thread"),
        ("lambda without a seed", "The lambda in WeavingErrors.Nameless.Lambda has [ReproducibleBlock] without a seed: a seed derived from the compiler's name for a lambda changes whenever"),
        ("local function without a seed", "The local function Local in WeavingErrors.Nameless.LocalFunction has [ReproducibleBlock] without a seed: a seed derived from the compiler's name for a local function changes"),
        ("abstract", "The method WeavingErrors.HasAbstract.Abstract() is abstract but has [ReproducibleBlock]"),
        ("extern", "The method WeavingErrors.Misuse.getpid() is extern but has [ReproducibleBlock]"),
        ("async", "The method WeavingErrors.Misuse.Async() is async, so [ReproducibleBlock] cannot wrap it: it would end at the first await"),
        ("iterator", "The method WeavingErrors.Misuse.Iterator() is an iterator, so [ReproducibleBlock] cannot wrap it"),
        ("shared seed", "Block seed 5 of the method WeavingErrors.Misuse.Second() is also the seed of the method WeavingErrors.Misuse.First()"),
        ("shared seed without AllowSharedSeed on both", "Block seed 6 of the method WeavingErrors.Misuse.Fourth() is also the seed of the method WeavingErrors.Misuse.Third()"),
        ("static constructor", "The static constructor WeavingErrors.StaticConstructor() has [ReproducibleBlock]"),
        ("static continuing", "The static method WeavingErrors.Continuing.Static() has [ContinuingBlock]: a continuing block is the stream of an instance"),
        ("both kinds", "The method WeavingErrors.Continuing.Both() has both [ReproducibleBlock] and [ContinuingBlock]."),
        ("continuing opted out", "The method WeavingErrors.Continuing.OptedOut() has both [ContinuingBlock] and [NoReproducibleBlock]."),
        ("async continuing", "The method WeavingErrors.Continuing.Async() is async, so [ContinuingBlock] cannot wrap it"),
        ("struct continuing", "The method WeavingErrors.ContinuingStruct.Draw() belongs to a struct but has [ContinuingBlock]"),
        ("constructor after its field initialisers", "Block seed 17 of the constructor WeavingErrors.InitializedFirst() is also the seed of the method WeavingErrors.InitializedFirst.Method()"),
    ];

    private static readonly (string Marker, string Message)[] ExpectedWarnings =
    [
        ("repeating forward", "[ReproducibleBlock] on the method WeavingErrors.RepeatingForward.forward(Int32): every call starts from the same state, so every call draws the same dropout masks, and the caller's stream after each call continues from the block's state"),
        ("restoring forward", "[ReproducibleBlock] on the method WeavingErrors.RestoringForward.forward(Int32): every call starts from the same state, so every call draws the same dropout masks. For a stream"),
        ("task without async", "The method WeavingErrors.Deferred.NotAsync() returns a task without being async, so draws made when it is awaited happen after [ReproducibleBlock]'s block has ended"),
        ("enumerable", "The method WeavingErrors.Deferred.Lazy() returns an enumerable or enumerator, so draws made when it is enumerated happen after [ReproducibleBlock]'s block has ended"),
        ("delegate", "The method WeavingErrors.Deferred.Later() returns a delegate, so draws made when it is called happen after [ReproducibleBlock]'s block has ended"),
        ("unresolved base", "The base class System.Net.Http.HttpMessageHandler of WeavingErrors.Handler cannot be resolved (its assembly, System.Net.Http, is not among the references the weaver sees), so the weaver cannot tell whether WeavingErrors.Handler derives from WeavingErrors.Module"),
    ];

    /// <summary>
    /// Every "// {kind}: marker" of the fixture has its expected message, reported at its file and line, and nothing
    /// else of that kind is reported. Each message appears in the log and again in the summary: one of each is kept.
    /// </summary>
    /// <returns>The messages of that kind.</returns>
    private static string[] AssertEachMarkerReported(string output, string kind, (string Marker, string Message)[] expected)
    {
        string[] reported = output.Split('\n')
            .Select(line => Regex.Match(line, $@"^\s*(\d+>)?(?<message>.*{kind} : Fody/ReproducibleBlock: .*?)( \[[^\]]*\.csproj\])?\s*$"))
            .Where(m => m.Success).Select(m => m.Groups["message"].Value).Distinct().ToArray();
        var markers = Markers(kind);
        Assert.AreEqual(expected.Length, markers.Length, $"every {kind} marker has an expected message");
        foreach ((string file, int line, string what, bool located) in markers)
        {
            string message = expected.Single(e => e.Marker == what).Message;
            string? found = reported.FirstOrDefault(e => e.Contains(message, StringComparison.Ordinal));
            Assert.IsNotNull(found, $"no {kind} '{message}' in:\n{string.Join("\n", reported)}");
            if (located)
                StringAssert.Contains(found, $"{file}({line},", $"the {kind} for '{what}' points at {file} line {line}");
            else
                Assert.IsFalse(found.Contains(".cs(", StringComparison.Ordinal), $"the {kind} for '{what}' points nowhere (the member has no sequence point): {found}");
        }
        Assert.AreEqual(markers.Length, reported.Length, string.Join("\n", reported));
        return reported;
    }

    [TestMethod]
    public void Misuse_FailsTheBuild_WithEachMessageAtItsLine_AndKeepsFailing()
    {
        (int exitCode, string output) = Build("WeavingErrors");
        Assert.AreNotEqual(0, exitCode, output);

        AssertEachMarkerReported(output, "error", ExpectedMessages);
        // Warnings: a method block on forward, unless RepeatsEachCall says it is meant (DeliberatelyRepeatingForward).
        string[] forwardWarnings = AssertEachMarkerReported(output, "warning", ExpectedWarnings)
            .Where(w => w.Contains(".forward(", StringComparison.Ordinal)).ToArray();
        Assert.IsTrue(forwardWarnings.Length > 0 && forwardWarnings.All(w => w.Contains("RepeatsEachCall = true", StringComparison.Ordinal)), "the forward warnings say how to silence them");

        // The rules sit in AssemblyInfo.cs, a file without method bodies: found through the build's list of compiled files.
        string compiled = File.ReadAllText(Path.Combine(Repository.Root, "tests", "WeavingErrors", "obj", Repository.Configuration, "net10.0", "ReproducibleBlock.Compile.txt"));
        StringAssert.Contains(compiled, Path.Combine("tests", "WeavingErrors", "AssemblyInfo.cs"));

        // Fody writes the assembly even after errors; the weaver deletes it, so an unchanged rebuild fails again.
        (int again, string secondOutput) = Build("WeavingErrors");
        Assert.AreNotEqual(0, again, "the second, unchanged build must fail too:\n" + secondOutput);
    }

    /// <summary>
    /// An assembly that uses the attributes but was not woven (its FodyWeavers.xml lacks &lt;ReproducibleBlock /&gt;)
    /// fails the build, at its FodyWeavers.xml, unless ReproducibleBlockRequireWeaving is false; Fody alone only warns.
    /// </summary>
    [TestMethod]
    public void UnwovenAssemblyUsingTheAttributes_FailsTheBuild_UnlessUnwovenIsAllowed()
    {
        (int exitCode, string output) = Build("WeavingSkipped");
        Assert.AreNotEqual(0, exitCode, output);
        StringAssert.Contains(output, Path.Combine("tests", "WeavingSkipped", "FodyWeavers.xml") + " : error RB1001: The assembly WeavingSkipped uses ReproducibleBlock's attributes "
            + "([ReproducibleBlock], [ContinuingBlock], [assembly: ReproducibleConstructors]) but was not woven, so they would do nothing and its blocks would draw other numbers. "
            + "Add <ReproducibleBlock /> to the FodyWeavers.xml beside the project file (and leave DisableFody unset), or, to build it unwoven on purpose, "
            + "set <ReproducibleBlockRequireWeaving>false</ReproducibleBlockRequireWeaving> in the project.");

        (int again, string secondOutput) = Build("WeavingSkipped");
        Assert.AreNotEqual(0, again, "an unchanged rebuild fails too:\n" + secondOutput);

        (int allowed, string allowedOutput) = Build("WeavingSkipped", "-p:ReproducibleBlockRequireWeaving=false");
        Assert.AreEqual(0, allowed, allowedOutput);
        Assert.IsFalse(allowedOutput.Contains("RB1001", StringComparison.Ordinal), allowedOutput);
    }

    [TestMethod]
    public void ChangedWeaver_WeavesAgain_UnchangedBuild_DoesNot()
    {
        const string woven = "Fody/ReproducibleBlock: ReproducibleBlock: wove 1 block(s).";
        (int exitCode, string first) = Build("WeavingIncremental");
        Assert.AreEqual(0, exitCode, first);

        (_, string unchanged) = Build("WeavingIncremental");
        Assert.IsFalse(unchanged.Contains(woven, StringComparison.Ordinal), "nothing changed: no compile, no weave");

        // What a rebuilt weaver looks like to MSBuild: a newer assembly in the weaver's obj and bin folders.
        DateTime now = DateTime.UtcNow;
        foreach (string folder in new[] { "obj", "bin" })
            File.SetLastWriteTimeUtc(Path.Combine(Repository.Root, "src", "ReproducibleBlock.Fody", folder, Repository.Configuration, "netstandard2.0", "ReproducibleBlock.Fody.dll"), now);
        (int rebuilt, string afterChange) = Build("WeavingIncremental");
        Assert.AreEqual(0, rebuilt, afterChange);
        StringAssert.Contains(afterChange, woven, "a changed weaver must weave again");
    }
}
