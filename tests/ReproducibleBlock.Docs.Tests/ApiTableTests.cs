using System.Text.RegularExpressions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using ReproducibleBlock.Tests.Shared;

namespace ReproducibleBlock.Docs.Tests;

/// <summary>
/// docs/api.md lists the public surface: for each type of the PublicAPI files of Core and Aspects a heading
/// <c>## `Type`</c>, and under it a table row whose first cell starts with each member's name in backticks.
/// </summary>
[TestClass]
public sealed class ApiTableTests
{
    public static IEnumerable<object[]> Projects() => [["ReproducibleBlock.Core"], ["ReproducibleBlock.Aspects"]];

    [TestMethod]
    [DynamicData(nameof(Projects))]
    public void EveryPublicTypeAndMember_HasARowInTheApiPage(string project)
    {
        Dictionary<string, HashSet<string>> documented = Documented();
        var missing = new List<string>();
        foreach ((string type, string? member) in Surface(project))
        {
            if (!documented.TryGetValue(type, out HashSet<string>? members))
                missing.Add($"type {type} (a heading ## `{type}`)");
            else if (member is not null && !members.Contains(member))
                missing.Add($"{type}.{member} (a row | `{member}...` | under ## `{type}`)");
        }
        Assert.IsEmpty(missing.Distinct(), "docs/api.md lacks:\n" + string.Join('\n', missing.Distinct()));
    }

    /// <summary>Each entry of the PublicAPI files as its type's simple name and its member's name (null for the type itself).</summary>
    private static IEnumerable<(string Type, string? Member)> Surface(string project)
    {
        foreach (string file in new[] { "PublicAPI.Shipped.txt", "PublicAPI.Unshipped.txt" })
        {
            foreach (string raw in File.ReadAllLines(Path.Combine(Repository.Root, "src", project, file)))
            {
                if (raw.Length == 0 || raw.StartsWith('#'))
                    continue;
                string entry = Regex.Replace(raw, @"^((static|override|const|abstract|virtual|sealed|readonly) )+", "");
                string symbol = Regex.Match(entry, @"^[^( =]+").Value; // before the parameters, a value or the type after ->
                symbol = Regex.Replace(symbol, @"\.(get|set|init)$", "").Replace("<T>", "");
                string[] parts = symbol["ReproducibleBlock.".Length..].Split('.');
                yield return parts.Length == 1 ? (parts[0], null) : (parts[0], parts[1]);
            }
        }
    }

    /// <summary>The types docs/api.md has a heading for, each with the members its table rows name.</summary>
    private static Dictionary<string, HashSet<string>> Documented()
    {
        var documented = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        HashSet<string>? current = null;
        foreach (string line in Markdown.Read("docs/api.md").Split('\n'))
        {
            if (Regex.Match(line, @"^## `(?<type>\w+)`") is { Success: true } heading)
                documented[heading.Groups["type"].Value] = current = new HashSet<string>(StringComparer.Ordinal);
            else if (current is not null && Regex.Match(line, @"^\| `(?:new )?(?<member>\w+)") is { Success: true } row)
                current.Add(row.Groups["member"].Value);
        }
        return documented;
    }
}
