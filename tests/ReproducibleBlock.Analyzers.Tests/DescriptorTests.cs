using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.Tests.Shared;

namespace ReproducibleBlock.Analyzers.Tests;

/// <summary>Every diagnostic has an ID in order, a title, a help link to a heading the README has, and a release-tracking row.</summary>
[TestClass]
public sealed class DescriptorTests
{
    private static readonly DiagnosticDescriptor[] All = [.. new BlockAnalyzer().SupportedDiagnostics];

    /// <summary>GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens.</summary>
    private static string Anchor(string heading) =>
        Regex.Replace(heading.Trim().ToLowerInvariant(), @"[^\p{L}\p{Nd}\s_-]", "").Replace(' ', '-');

    [TestMethod]
    public void HelpLinks_PointAtHeadingsOfTheReadme()
    {
        string[] anchors = File.ReadAllLines(Path.Combine(Repository.Root, "README.md"))
            .Where(l => l.StartsWith('#')).Select(l => Anchor(l.TrimStart('#'))).ToArray();
        foreach (DiagnosticDescriptor descriptor in All)
        {
            StringAssert.StartsWith(descriptor.HelpLinkUri, "https://github.com/ReproducibleBlock/ReproducibleBlock#", descriptor.Id);
            string anchor = descriptor.HelpLinkUri[(descriptor.HelpLinkUri.IndexOf('#', StringComparison.Ordinal) + 1)..];
            CollectionAssert.Contains(anchors, anchor, $"{descriptor.Id}: no README heading has the anchor #{anchor}");
        }
        CollectionAssert.Contains(anchors, "diagnostics-while-typing");
    }

    [TestMethod]
    public void Ids_AreRB0001Onwards_EachInTheReleaseTrackingFile_AndInTheReadmeTable()
    {
        CollectionAssert.AreEqual(Enumerable.Range(1, All.Length).Select(i => $"RB{i:D4}").ToArray(), All.Select(d => d.Id).ToArray());
        string unshipped = File.ReadAllText(Path.Combine(Repository.Root, "src", "ReproducibleBlock.Analyzers", "AnalyzerReleases.Unshipped.md"));
        string readme = File.ReadAllText(Path.Combine(Repository.Root, "README.md"));
        foreach (DiagnosticDescriptor descriptor in All)
        {
            Assert.IsFalse(string.IsNullOrWhiteSpace(descriptor.Title.ToString()), descriptor.Id);
            StringAssert.Contains(unshipped, $"{descriptor.Id} | ReproducibleBlock | {descriptor.DefaultSeverity} | {descriptor.Title}");
            StringAssert.Contains(readme, $"| {descriptor.Id} | {descriptor.DefaultSeverity} |");
            Assert.IsTrue(descriptor.IsEnabledByDefault, descriptor.Id);
        }
    }
}
