using System;
using System.Linq;
using ReproducibleBlock;
using ReproducibleBlock.StreamProbe;

// Prints "name<TAB>output" for the scenarios named on the command line (all of them without arguments), or with
// --environment the environment record. The Core
// tests run it with ATEN_CPU_CAPABILITY set, which libtorch reads once when it loads, so it needs its own process.
// With --crash first, it ends with an unhandled exception after the scenarios (the tracing tests' crashed run).
// --trace-run and --output-run are the woven programs the tracing tests trace (TraceRun.cs, OutputRun.cs).
if (args is ["--environment"])
{
    Console.WriteLine(ReproducibleEnvironment.Current());
    return 0;
}
if (args is ["--trace-run", string rootSeed, string inside, string outside])
{
    TraceRun.Run(long.Parse(rootSeed, System.Globalization.CultureInfo.InvariantCulture),
        int.Parse(inside, System.Globalization.CultureInfo.InvariantCulture), int.Parse(outside, System.Globalization.CultureInfo.InvariantCulture));
    return 0;
}
if (args is ["--output-run", .. string[] options])
{
    // --output-run [--threads N] [--clock] [--steps N]: the tracing tests' model (OutputRun.cs).
    int? threads = null;
    int steps = 3;
    for (int i = 0; i < options.Length; i++)
    {
        switch (options[i])
        {
            case "--threads": threads = int.Parse(options[++i], System.Globalization.CultureInfo.InvariantCulture); break;
            case "--steps": steps = int.Parse(options[++i], System.Globalization.CultureInfo.InvariantCulture); break;
            case "--clock": break;
            default: throw new ArgumentException($"--output-run: unknown option '{options[i]}'.");
        }
    }
    OutputRun.Run(threads, options.Contains("--clock"), steps);
    return 0;
}
bool crash = args.FirstOrDefault() == "--crash";
string[] names = crash ? args[1..] : args;
var chosen = names.Length == 0 ? Scenarios.All : names.Select(Scenarios.Named).ToList();
Reproducible.WarningHandler = message => Console.Error.WriteLine(message);
foreach (Scenario scenario in chosen)
    Console.WriteLine($"{scenario.Name}\t{scenario.Run()}");
if (crash)
    throw new InvalidOperationException("The stream probe crashes on purpose (--crash).");
return 0;
