using System;
using System.Collections.Generic;
using System.IO;
using System.Reflection;
using ReproducibleBlock.Tool.Diff;
using ReproducibleBlock.Tool.Rendering;
using ReproducibleBlock.Tool.Show;
using ReproducibleBlock.Tool.Traces;

namespace ReproducibleBlock.Tool;

/// <summary>
/// The command line of <c>reproducible-block</c>: reads the arguments, runs <c>diff</c> or <c>show</c>, writes the
/// report, and returns the exit code (<see cref="ExitCodes"/>). The program's entry point is this with the console's
/// writers; tests call it with their own.
/// </summary>
public static class Cli
{
    /// <summary>The program's name in messages.</summary>
    public const string ProgramName = "reproducible-block";

    /// <summary>What <c>--help</c> prints on standard output, and a usage error on standard error.</summary>
    public const string Usage = """
        Usage: reproducible-block diff A B [--json]
               reproducible-block show TRACE [--json]
               reproducible-block --help | --version

        Reads the trace files ReproducibleBlock writes while tracing is on (REPRODUCIBLEBLOCK_TRACE=path before the
        process starts, or BlockTrace.Start(path); REPRODUCIBLEBLOCK_TRACE_TENSORS=1 adds modules' outputs); the
        format is the README's trace format (versions 1 and 2).

        Commands:
          diff A B     compare the traces of two runs of the same program: whether the code differs (said first),
                       the first divergence (structure, entry, inside, output, mark, draw or truncated), the block
                       or module where it happens and why, how many later blocks agree, and the environment
                       differences (warnings)
          show TRACE   the block tree of one run: each distinct path once, with its name, kind, how many times it was
                       entered and its marks; the seeds and environment; whether the trace is complete

        Options:
          --json       write one JSON object on standard output instead of the report (see the tool's README)
          -h, --help   print this text and exit
          --version    print the tool's version and exit
          --           what follows is a file name, even if it starts with '-'

        Exit status:
          0  diff: the traces agree (environment differences are warnings; two traces that stop early at the same
             point agree as far as they go, with a warning); show: the trace was read; --help, --version
          1  diff: the traces diverge (a trace that ends early while the other goes on included)
          2  an input is not a readable trace (missing, not JSON, not this format): the message names the file and line
          3  a usage error: an unknown command or option, or the wrong number of arguments
        """;

    /// <summary>Runs the command line <paramref name="args"/>.</summary>
    /// <param name="args">The arguments, without the program's name.</param>
    /// <param name="output">Standard output: the report, the JSON object, the help text.</param>
    /// <param name="error">Standard error: usage errors and unreadable input.</param>
    /// <returns>The exit code: one of <see cref="ExitCodes"/>.</returns>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);

        string? command = null;
        var files = new List<string>();
        bool json = false, help = false, version = false, optionsEnded = false;
        string? problem = null;
        foreach (string arg in args)
        {
            if (!optionsEnded && arg == "--")
                optionsEnded = true;
            else if (!optionsEnded && arg.Length > 1 && arg[0] == '-')
            {
                switch (arg)
                {
                    case "--json": json = true; break;
                    case "-h" or "--help": help = true; break;
                    case "--version": version = true; break;
                    default: problem ??= $"unknown option '{arg}'"; break;
                }
            }
            else if (command is null)
                command = arg;
            else
                files.Add(arg);
        }

        if (help || command == "help" && problem is null)
        {
            output.WriteLine(Usage);
            return ExitCodes.Same;
        }
        if (problem is null && version)
        {
            output.WriteLine($"{ProgramName} {Version}");
            return ExitCodes.Same;
        }
        problem ??= command switch
        {
            null => "no command: diff or show",
            "diff" when files.Count != 2 => $"diff takes two trace files, A and B; {Count(files.Count)} given",
            "show" when files.Count != 1 => $"show takes one trace file; {Count(files.Count)} given",
            "diff" or "show" => null,
            _ => $"unknown command '{command}': diff or show",
        };
        if (problem is not null)
        {
            error.WriteLine($"{ProgramName}: {problem}.");
            error.WriteLine();
            error.WriteLine(Usage);
            return ExitCodes.Usage;
        }

        try
        {
            if (command == "diff")
            {
                TraceDiff diff = TraceDiffer.Diff(files[0], files[1]);
                if (json)
                    Consoles.WriteJson(output, writer => DiffJson.Write(writer, diff));
                else
                    DiffReport.Write(Consoles.For(output), diff);
                return diff.ExitCode;
            }
            TraceSummary summary = TraceSummary.Read(files[0]);
            if (json)
                Consoles.WriteJson(output, writer => ShowJson.Write(writer, summary));
            else
                ShowReport.Write(Consoles.For(output), summary);
            return ExitCodes.Same;
        }
        catch (TraceFormatException unreadable)
        {
            error.WriteLine($"{ProgramName}: {unreadable.Message}");
            if (json)
                Consoles.WriteJson(output, writer => DiffJson.WriteUnreadable(writer, unreadable));
            return ExitCodes.Unreadable;
        }
    }

    private static string Count(int count) => count == 0 ? "none" : count.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string Version =>
        typeof(Cli).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
}
