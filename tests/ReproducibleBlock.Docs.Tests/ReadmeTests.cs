using System.Text.RegularExpressions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.Tests.Shared;

namespace ReproducibleBlock.Docs.Tests;

/// <summary>The README is a recipe: short, its commands CI's, its quick start the program that runs; every link resolves.</summary>
[TestClass]
public sealed class ReadmeTests
{
    [TestMethod]
    public void Readme_IsAtMost200Lines_WithTheTwoSetUpCommands_TheTestOneCis()
    {
        string readme = Markdown.Read("README.md");
        Assert.IsLessThanOrEqualTo(200, readme.TrimEnd('\n').Split('\n').Length);
        string[] bash = [.. Regex.Matches(readme, "```bash\n(?<code>.*?)\n```", RegexOptions.Singleline).Select(m => m.Groups["code"].Value)];
        CollectionAssert.Contains(bash, "dotnet run --project examples/ReproducibleBlock.Demo -c Release");
        CollectionAssert.Contains(bash, "dotnet test ReproducibleBlock.sln -c Release");
        CollectionAssert.Contains(File.ReadAllLines(Path.Combine(Repository.Root, ".ci", "run")), "dotnet test ReproducibleBlock.sln -c Release");
        StringAssert.Contains(readme, "<!-- listing: file examples/QuickStart/Program.cs -->\n```csharp\n", "the quick start is examples/QuickStart");
    }

    [TestMethod]
    public void QuickStart_Runs_AndKeepsItsPromise()
    {
        string dll = Path.Combine(Repository.Root, "examples", "QuickStart", "bin", Repository.Configuration, "net10.0", "QuickStart.dll");
        AppRun run = Repository.RunApp(dll, [], timeout: TimeSpan.FromMinutes(3));
        string describe = $"exit {run.ExitCode}\n{run.Output}\n{run.Error}";
        Assert.AreEqual(0, run.ExitCode, describe);
        CollectionAssert.AreEqual(
            new[]
            {
                "The classifier starts from the same weights with 2 or 3 conv layers: True",
                "Stopped after epoch 1, resumed for epochs 2 and 3, training ends with the uninterrupted run's weights: True",
            },
            run.Output.Replace("\r\n", "\n").TrimEnd('\n').Split('\n'), describe);
    }

    public static IEnumerable<object[]> AllPages() => Markdown.Pages.Select(p => new object[] { p });

    /// <summary>Every relative link of the README and docs/ names a file that exists, and a heading it has.</summary>
    [TestMethod]
    [DynamicData(nameof(AllPages))]
    public void RelativeLinks_Resolve(string page)
    {
        string directory = Path.GetDirectoryName(page)!;
        foreach (Match link in Regex.Matches(Markdown.Prose(page), @"\]\((?<target>[^)\s]+)\)"))
        {
            string target = link.Groups["target"].Value;
            if (target.Contains("://", StringComparison.Ordinal))
                continue;
            string[] parts = target.Split('#', 2);
            string file = parts[0] == "" ? page : Path.GetRelativePath(Repository.Root, Path.GetFullPath(Path.Combine(Repository.Root, directory, parts[0]))).Replace('\\', '/');
            Assert.IsTrue(File.Exists(Path.Combine(Repository.Root, file)) || Directory.Exists(Path.Combine(Repository.Root, file)), $"{page}: {target} names no file");
            if (parts.Length == 2)
                Assert.Contains(parts[1], Markdown.Anchors(file), $"{page}: {target} names no heading of {file}");
        }
    }

    /// <summary>The README links every page of docs/.</summary>
    [TestMethod]
    public void Readme_LinksEveryDocsPage()
    {
        string readme = Markdown.Read("README.md");
        foreach (string page in Markdown.Pages.Where(p => p.StartsWith("docs/", StringComparison.Ordinal)))
            StringAssert.Contains(readme, "](" + page, $"the README links {page}");
    }
}
