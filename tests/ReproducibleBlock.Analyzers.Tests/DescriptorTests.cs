using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.Tests.Shared;

namespace ReproducibleBlock.Analyzers.Tests;

/// <summary>Every diagnostic has an ID in order, a title, a help link to a page of docs/ (and a heading it has), and a release-tracking row.</summary>
[TestClass]
public sealed class DescriptorTests
{
    private static readonly DiagnosticDescriptor[] All = [.. new BlockAnalyzer().SupportedDiagnostics];

    /// <summary>GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens.</summary>
    private static string Anchor(string heading) =>
        Regex.Replace(heading.Trim().ToLowerInvariant(), @"[^\p{L}\p{Nd}\s_-]", "").Replace(' ', '-');

    [TestMethod]
    public void HelpLinks_PointAtPagesOfTheDocs_AndTheirHeadings()
    {
        const string docs = "https://github.com/ReproducibleBlock/ReproducibleBlock/blob/main/docs/";
        foreach (DiagnosticDescriptor descriptor in All)
        {
            StringAssert.StartsWith(descriptor.HelpLinkUri, docs, descriptor.Id);
            string[] pageAndAnchor = descriptor.HelpLinkUri[docs.Length..].Split('#');
            string page = Path.Combine(Repository.Root, "docs", pageAndAnchor[0]);
            Assert.IsTrue(File.Exists(page), $"{descriptor.Id}: {descriptor.HelpLinkUri} names no page of docs/");
            if (pageAndAnchor.Length > 1)
            {
                string[] anchors = [.. File.ReadAllLines(page).Where(l => l.StartsWith('#')).Select(l => Anchor(l.TrimStart('#')))];
                CollectionAssert.Contains(anchors, pageAndAnchor[1], $"{descriptor.Id}: no heading of docs/{pageAndAnchor[0]} has the anchor #{pageAndAnchor[1]}");
            }
        }
        Assert.IsTrue(All.Any(d => d.HelpLinkUri.EndsWith("weaving.md#diagnostics-while-typing", StringComparison.Ordinal)));
    }

    [TestMethod]
    public void Ids_AreRB0001Onwards_EachInTheReleaseTrackingFile_AndInTheDocsTable()
    {
        CollectionAssert.AreEqual(Enumerable.Range(1, All.Length).Select(i => $"RB{i:D4}").ToArray(), All.Select(d => d.Id).ToArray());
        string unshipped = File.ReadAllText(Path.Combine(Repository.Root, "src", "ReproducibleBlock.Analyzers", "AnalyzerReleases.Unshipped.md"));
        string readme = File.ReadAllText(Path.Combine(Repository.Root, "docs", "weaving.md"));
        foreach (DiagnosticDescriptor descriptor in All)
        {
            Assert.IsFalse(string.IsNullOrWhiteSpace(descriptor.Title.ToString()), descriptor.Id);
            StringAssert.Contains(unshipped, $"{descriptor.Id} | ReproducibleBlock | {descriptor.DefaultSeverity} | {descriptor.Title}");
            StringAssert.Contains(readme, $"| {descriptor.Id} | {descriptor.DefaultSeverity} |");
            Assert.IsTrue(descriptor.IsEnabledByDefault, descriptor.Id);
        }
    }
}
