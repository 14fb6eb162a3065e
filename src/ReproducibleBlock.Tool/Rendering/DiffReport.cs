using System.Globalization;
using ReproducibleBlock.Tool.Diff;
using Spectre.Console;

namespace ReproducibleBlock.Tool.Rendering;

/// <summary><c>diff</c>'s readable report: the traces, the first divergence, the later blocks, then the warnings.</summary>
internal static class DiffReport
{
    public static void Write(IAnsiConsole console, TraceDiff diff)
    {
        WriteSide(console, "A", diff.A);
        WriteSide(console, "B", diff.B);
        console.WriteLine();

        if (diff.CodeDiffers)
        {
            // Said first: two builds of the code are not two runs of one program, whatever follows.
            foreach (CodeChange change in diff.CodeChanges)
            {
                console.MarkupLineInterpolated($"[red bold]The code differs[/]: {change.Assembly} changed (A {change.A}, line {change.LineA}; B {change.B}, line {change.LineB}).");
            }
            console.WriteLine(diff.Divergence is null
                ? "The traces still agree: the change did not touch what they record."
                : "What follows is a consequence of that change: these are runs of two builds, not two runs of one program.");
            console.WriteLine();
        }

        if (diff.Divergence is { } divergence)
        {
            WriteDivergence(console, divergence);
            console.WriteLine();
            WriteLaterBlocks(console, diff, divergence);
        }
        else if (diff.Complete)
        {
            console.MarkupLineInterpolated($"[green bold]Same[/]: the traces agree, event for event ({diff.A.Events} events, both complete).");
        }
        else
        {
            console.MarkupInterpolated($"[yellow bold]Same as far as they go[/]: the traces agree up to where both stop ");
            console.MarkupLineInterpolated($"({diff.A.Events} events), but both are incomplete (no end event).");
        }

        if (diff.EnvironmentDifferences.Count > 0 || diff.Warnings.Count > 0)
        {
            console.WriteLine();
            console.MarkupLine("[yellow bold]Warnings[/]");
        }
        if (diff.EnvironmentDifferences.Count > 0)
        {
            console.MarkupLine("The environments differ (a warning: the environment alone is no divergence, but it can explain one):");
            var table = new Table().AddColumn("Key").AddColumn("A").AddColumn("B");
            foreach (EnvironmentDifference difference in diff.EnvironmentDifferences)
                table.AddRow(Markup.Escape(difference.Key), Markup.Escape(difference.A ?? "(absent)"), Markup.Escape(difference.B ?? "(absent)"));
            console.Write(table);
        }
        foreach (string warning in diff.Warnings)
            console.MarkupLineInterpolated($"[yellow]warning:[/] {warning}");
    }

    private static void WriteSide(IAnsiConsole console, string label, TraceSide side)
    {
        string state = side.Complete ? "complete" : "incomplete (no end event)";
        console.MarkupInterpolated($"[bold]{label}[/]  {side.File}: {state}, {side.Events} events, ");
        console.MarkupLineInterpolated($"ReproducibleBlock {side.Header.Library}, pid {side.Header.Pid}, started {side.Header.Started}");
    }

    private static void WriteDivergence(IAnsiConsole console, Divergence divergence)
    {
        string consequence = divergence.FollowsCodeChange ? " (a consequence of the code change)" : "";
        console.MarkupLineInterpolated($"[red bold]Diverged[/]: [bold]{DiffJson.Text(divergence.Kind)}[/]{consequence}");
        void Field(string label, string value) => console.MarkupLineInterpolated($"  [bold]{label,-5}[/]  {value}");
        Field(divergence.Kind switch { DivergenceKind.Mark => "mark", DivergenceKind.Draw => "by", _ => "block" }, divergence.Name ?? "(unnamed)");
        Field("path", divergence.Path is null ? "(none)" : divergence.Path.Length == 0 ? "(top level)" : divergence.Path);
        if (divergence.Step is { } step)
            Field("call", $"{step.ToString(CultureInfo.InvariantCulture)} (the module's call in the run: with one call per step, the step)");
        Field("lines", $"A {Line(divergence.LineA)}, B {Line(divergence.LineB)}");
        if (divergence.Cause is { } cause)
            Field("cause", DiffJson.Text(cause));
        Field("A", divergence.A ?? "(none)");
        Field("B", divergence.B ?? "(none)");
        console.WriteLine(divergence.Detail);
        if (divergence.Environment is { Count: > 0 } environment)
        {
            // Beside the divergence, not only among the warnings: for an output divergence they are the first suspects.
            console.WriteLine("Environment differences where it happens:");
            var table = new Table().AddColumn("Key").AddColumn("A").AddColumn("B");
            foreach (EnvironmentDifference difference in environment)
                table.AddRow(Markup.Escape(difference.Key), Markup.Escape(difference.A ?? "(absent)"), Markup.Escape(difference.B ?? "(absent)"));
            console.Write(table);
        }
    }

    private static string Line(long? line) => line is { } l ? l.ToString(CultureInfo.InvariantCulture) : "(no event)";

    private static void WriteLaterBlocks(IAnsiConsole console, TraceDiff diff, Divergence divergence)
    {
        LaterBlocks later = diff.LaterBlocks;
        switch (later.StoppedBy)
        {
            case CountStop.Structure when divergence.Kind == DivergenceKind.Structure:
                console.WriteLine("Later blocks: not compared, the structure parts at the divergence itself.");
                return;
            case CountStop.Truncated when divergence.Kind == DivergenceKind.Truncated:
                console.WriteLine("Later blocks: none to compare, one trace ends there.");
                return;
        }
        string how = later.StoppedBy switch
        {
            CountStop.End => "to the end of both traces",
            CountStop.Structure => $"counting stopped where the structure parts: A line {Line(later.StopLineA)}, " +
                $"B line {Line(later.StopLineB)}; later events no longer line up",
            _ => $"counting stopped where one trace ends early: A line {Line(later.StopLineA)}, B line {Line(later.StopLineB)}",
        };
        console.WriteLine(later.Compared == 0
            ? $"Later blocks: none entered and left after the divergence ({how})."
            : $"Later blocks: {later.Agree} agree, {later.Differ} differ ({later.Compared} compared, {how}).");
        if (divergence.Kind is DivergenceKind.Inside or DivergenceKind.Output && later.Agree > later.Differ)
        {
            string blocks = diff.A.Derivation is { } d ? $"With the {d} derivation, blocks" : "Blocks";
            string after = divergence.FollowsCodeChange
                ? "after the changed one start from their own derived state, so the change does not spread to their draws."
                : divergence.Kind == DivergenceKind.Output
                    ? "after it start from their own derived state: their random streams agree, whatever values flow through them."
                    : "after the nondeterministic one start from their own derived state, so its nondeterminism does not spread to them.";
            console.WriteLine($"Most later blocks agree: this is the library isolating blocks. {blocks} {after}");
        }
    }
}
