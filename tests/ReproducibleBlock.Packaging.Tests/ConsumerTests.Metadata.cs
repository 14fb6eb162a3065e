using System;
using System.Diagnostics;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text.RegularExpressions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.Tests.Shared;

namespace ReproducibleBlock.Packaging.Tests;

public sealed partial class ConsumerTests
{
    private static readonly string[] PackageIds = ["ReproducibleBlock.Core", "ReproducibleBlock.Fody", "ReproducibleBlock.Tool", "ReproducibleBlock.Templates"];

    /// <summary>
    /// What a package page and a debugger read: every package has its readme, the icon, the MIT licence expression and the
    /// repository's commit (SourceLink, through the SDK); each library package (Core, Fody with the attributes) has a
    /// .snupkg beside it with the PDB of its lib/ assembly, and no PDB in the package itself.
    /// </summary>
    [TestMethod]
    public void Packages_CarryReadmeIconLicenseRepositoryAndSymbols()
    {
        string head = Git("rev-parse", "HEAD");
        byte[] icon = File.ReadAllBytes(Path.Combine(Repository.Root, "src", "PackageIcon.png"));
        Assert.IsTrue(icon.Length is > 100 and < 20 * 1024, "a small icon");
        CollectionAssert.AreEqual(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, icon[..4], "a PNG");

        string? coreRepository = null;
        foreach (string id in PackageIds)
        {
            using ZipArchive package = ZipFile.OpenRead(Path.Combine(s_packages, $"{id}.{s_version}.nupkg"));
            string nuspec = ReadEntry(package, id + ".nuspec");
            StringAssert.Contains(nuspec, "<license type=\"expression\">MIT</license>", id);
            StringAssert.Contains(nuspec, "<readme>README.md</readme>", id);
            Assert.IsTrue(ReadEntry(package, "README.md").Length > 200, $"{id}: a readme");
            StringAssert.Contains(nuspec, "<icon>icon.png</icon>", id);
            using (var packed = new MemoryStream())
            {
                package.GetEntry("icon.png")!.Open().CopyTo(packed);
                CollectionAssert.AreEqual(icon, packed.ToArray(), $"{id}: src/PackageIcon.png as icon.png");
            }
            Assert.IsFalse(package.Entries.Any(e => e.FullName.EndsWith(".pdb", StringComparison.Ordinal)), $"{id}: PDBs go to the .snupkg");

            // The commit always; the URL where the clone has an origin (a repository without one packs the commit alone).
            // ReproducibleBlock.Fody's nuspec names both from the same MSBuild properties: NuGet drops its element without a URL.
            Match repository = Regex.Match(nuspec, "<repository type=\"git\"(?: url=\"(?<url>[^\"]+)\")?[^>]*? commit=\"(?<commit>[0-9a-f]{40})\"");
            if (id == "ReproducibleBlock.Core")
                coreRepository = repository.Groups["url"].Value;
            if (id == "ReproducibleBlock.Fody" && coreRepository is "")
            {
                Assert.IsFalse(nuspec.Contains("<repository", StringComparison.Ordinal), nuspec);
                continue;
            }
            Assert.IsTrue(repository.Success, $"{id}: the repository and its commit:\n{nuspec}");
            Assert.AreEqual(head, repository.Groups["commit"].Value, $"{id}: the commit packed");
            Assert.AreEqual(coreRepository, repository.Groups["url"].Value, $"{id}: the repository URL");
        }

        foreach ((string id, string pdb) in new[] { ("ReproducibleBlock.Core", "lib/net8.0/ReproducibleBlock.Core.pdb"), ("ReproducibleBlock.Fody", "lib/net8.0/ReproducibleBlock.Aspects.pdb") })
        {
            string path = Path.Combine(s_packages, $"{id}.{s_version}.snupkg");
            Assert.IsTrue(File.Exists(path), $"{id}: a .snupkg beside the .nupkg");
            using ZipArchive symbols = ZipFile.OpenRead(path);
            CollectionAssert.Contains(symbols.Entries.Select(e => e.FullName).ToArray(), pdb);
        }
        Assert.AreEqual(2, Directory.GetFiles(s_packages, "*.snupkg").Length, "the tool (embedded PDB) and the templates have none");
    }

    private static string ReadEntry(ZipArchive package, string name)
    {
        ZipArchiveEntry entry = package.GetEntry(name) ?? throw new AssertFailedException($"{name} is not in the package.");
        using var reader = new StreamReader(entry.Open());
        return reader.ReadToEnd();
    }

    private static string Git(params string[] arguments)
    {
        var start = new ProcessStartInfo("git", arguments) { WorkingDirectory = Repository.Root, RedirectStandardOutput = true, UseShellExecute = false };
        using Process git = Process.Start(start)!;
        string output = git.StandardOutput.ReadToEnd().Trim();
        git.WaitForExit();
        Assert.AreEqual(0, git.ExitCode, $"git {string.Join(' ', arguments)}");
        return output;
    }
}
