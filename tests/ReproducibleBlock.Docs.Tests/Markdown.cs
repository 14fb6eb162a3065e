using System.Text.RegularExpressions;
using ReproducibleBlock.Tests.Shared;

namespace ReproducibleBlock.Docs.Tests;

/// <summary>A fenced <c>csharp</c> listing of a page, with the <c>&lt;!-- listing: ... --&gt;</c> comment on the line above it, if any.</summary>
public sealed record Listing(string Page, int Line, string Code, string? Marker)
{
    public override string ToString() => $"{Page}:{Line}";
}

/// <summary>The documentation pages: README.md and docs/*.md, their listings, headings and links.</summary>
internal static class Markdown
{
    public static IReadOnlyList<string> Pages { get; } =
        ["README.md", .. Directory.GetFiles(Path.Combine(Repository.Root, "docs"), "*.md").Select(p => "docs/" + Path.GetFileName(p)).Order(StringComparer.Ordinal)];

    public static string Read(string page) => File.ReadAllText(Path.Combine(Repository.Root, page)).Replace("\r\n", "\n");

    public static IEnumerable<Listing> Listings(string page)
    {
        string[] lines = Read(page).Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i] != "```csharp")
                continue;
            int end = Array.IndexOf(lines, "```", i + 1);
            string? marker = i > 0 && Regex.Match(lines[i - 1], @"^<!-- listing: (?<marker>.+) -->$") is { Success: true } m ? m.Groups["marker"].Value : null;
            yield return new Listing(page, i + 1, string.Join('\n', lines[(i + 1)..end]), marker);
            i = end;
        }
    }

    /// <summary>GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens.</summary>
    public static string Anchor(string heading) =>
        Regex.Replace(heading.Trim().ToLowerInvariant(), @"[^\p{L}\p{Nd}\s_-]", "").Replace(' ', '-');

    /// <summary>The anchors of a page's headings (outside fenced blocks).</summary>
    public static HashSet<string> Anchors(string page)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        bool fenced = false;
        foreach (string line in Read(page).Split('\n'))
        {
            if (line.StartsWith("```", StringComparison.Ordinal))
                fenced = !fenced;
            else if (!fenced && Regex.Match(line, @"^#+ (?<heading>.+)$") is { Success: true } m)
                anchors.Add(Anchor(m.Groups["heading"].Value));
        }
        return anchors;
    }

    /// <summary>The text of a page outside fenced blocks.</summary>
    public static string Prose(string page) => Regex.Replace(Read(page), "^```.*?^```", "", RegexOptions.Singleline | RegexOptions.Multiline);
}
