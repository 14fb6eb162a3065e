using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using ReproducibleBlock.Tool.Show;
using ReproducibleBlock.Tool.Traces;
using Spectre.Console;

namespace ReproducibleBlock.Tool.Rendering;

/// <summary><c>show</c>'s readable report: seeds and environment, the block tree, whether the trace is complete.</summary>
internal static class ShowReport
{
    public static void Write(IAnsiConsole console, TraceSummary summary)
    {
        TraceHeader header = summary.Header;
        console.MarkupInterpolated($"[bold]Trace[/]  {summary.File}: format {header.Format}, ");
        console.MarkupLineInterpolated($"ReproducibleBlock {header.Library}, pid {header.Pid}, started {header.Started}{(header.Tensors ? ", output tensors traced" : "")}");

        switch (summary.Seedings.Count)
        {
            case 0:
                console.MarkupLine("[bold]Seed[/]   none (no seed event)");
                break;
            case 1 when summary.Seedings[0].Count == 1:
                SeedingSummary only = summary.Seedings[0];
                console.MarkupLineInterpolated($"[bold]Seed[/]   {only.RootSeed} ({only.Derivation}), line {only.FirstLine}");
                break;
            default:
                console.MarkupLine("[bold]Seeds[/]");
                var seeds = new Table().AddColumn("Root seed").AddColumn("Derivation").AddColumn("Times").AddColumn("First line");
                foreach (SeedingSummary seeding in summary.Seedings)
                    seeds.AddRow(Number(seeding.RootSeed), Markup.Escape(seeding.Derivation), Number(seeding.Count), Number(seeding.FirstLine));
                console.Write(seeds);
                break;
        }

        if (summary.Environment is { Count: > 0 } environment)
        {
            console.MarkupLine("[bold]Environment[/]");
            var table = new Table().AddColumn("Key").AddColumn("Value");
            foreach (KeyValuePair<string, string> pair in environment)
                table.AddRow(Markup.Escape(pair.Key), Markup.Escape(pair.Value));
            console.Write(table);
        }

        if (summary.Code.Count > 0)
        {
            console.MarkupLine("[bold]Code[/]");
            var code = new Table().AddColumn("Assembly").AddColumn("Version").AddColumn("MVID").AddColumn("Line");
            foreach (CodeEvent assembly in summary.Code)
                code.AddRow(Markup.Escape(assembly.Assembly), Markup.Escape(assembly.Version), Markup.Escape(assembly.Mvid), Number(assembly.Line));
            console.Write(code);
        }

        console.MarkupLineInterpolated(
            $"[bold]Blocks[/]  distinct paths: {summary.Paths}, blocks entered: {summary.Entered}, marks: {summary.Marks}");
        if (header.Format >= 2)
            console.MarkupLineInterpolated($"[bold]Also[/]    outputs: {summary.Outputs}, passive calls: {summary.PassiveCalls}, refused draws: {summary.DrawCount}");
        var tree = new Tree(Markup.Escape($"{summary.File} (top level)"));
        AddItems(tree, summary.Root);
        console.Write(tree);

        if (summary.Complete)
        {
            console.MarkupLineInterpolated($"[green bold]Complete[/]: ends with its end event on line {summary.LastLine} ({summary.Events} events).");
        }
        else
        {
            console.MarkupInterpolated($"[yellow bold]Incomplete[/]: no end event, the run stopped early (crashed, killed, or still running) ");
            console.MarkupLineInterpolated($"after line {summary.LastLine} ({summary.Events} events).");
            if (summary.OpenAtEnd.Count > 0)
            {
                console.WriteLine("Blocks open where it stops, outermost first:");
                foreach (EnterEvent open in summary.OpenAtEnd)
                    console.WriteLine($"  {EventText.Block(open.Name, open.Path)}, entered on line {open.Line}");
            }
        }
        foreach (string warning in summary.Warnings)
            console.MarkupLineInterpolated($"[yellow]warning:[/] {warning}");
    }

    /// <summary>A node's marks and child paths, in the order they first appear in the trace.</summary>
    private static void AddItems(IHasTreeNodes parent, BlockNode node)
    {
        int mark = 0, child = 0;
        while (mark < node.Marks.Count || child < node.Children.Count)
        {
            bool markFirst = child == node.Children.Count
                || mark < node.Marks.Count && node.Marks[mark].FirstLine < node.Children[child].FirstLine;
            if (markFirst)
            {
                MarkSummary m = node.Marks[mark++];
                parent.AddNode(Markup.Escape(
                    $"mark '{m.Name}' {Times(m.Count)}, {(m.Count == 1 ? "fingerprint" : "last fingerprint")} {m.LastFingerprint}"));
            }
            else
            {
                BlockNode c = node.Children[child++];
                AddItems(parent.AddNode(Label(c)), c);
            }
        }
    }

    private static string Label(BlockNode node)
    {
        string left = node.Exited == node.Entered ? "" : $", left {Times(node.Exited)}";
        if (node.Entries.Count == 1)
        {
            BlockEntry entry = node.Entries[0];
            return $"[bold]{Markup.Escape(node.Segment)}[/]  {Markup.Escape(entry.Name ?? "(unnamed)")}  [dim]{entry.Kind.ToText()}[/]  " +
                Markup.Escape($"entered {Times(node.Entered)}{left}");
        }
        if (node.Entries.Count == 0)
            return $"[bold]{Markup.Escape(node.Segment)}[/]  [dim](never entered here: a path only seen under it)[/]";
        IEnumerable<string> entries = node.Entries.Select(e =>
            Markup.Escape($"    {e.Name ?? "(unnamed)"}  {e.Kind.ToText()}  entered {Times(e.Entered)}"));
        return $"[bold]{Markup.Escape(node.Segment)}[/]  " + Markup.Escape($"entered {Times(node.Entered)}{left}, by {node.Entries.Count} openers:") +
            "\n" + string.Join("\n", entries);
    }

    private static string Times(long count) => count.ToString(CultureInfo.InvariantCulture) + "×";

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);
}
