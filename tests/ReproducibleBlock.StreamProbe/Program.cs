using System;
using System.Linq;
using ReproducibleBlock;
using ReproducibleBlock.StreamProbe;

// Prints "name<TAB>output" for the scenarios named on the command line (all of them without arguments), or with
// --environment the environment record. The Core
// tests run it with ATEN_CPU_CAPABILITY set, which libtorch reads once when it loads, so it needs its own process.
// With --crash first, it ends with an unhandled exception after the scenarios (the tracing tests' crashed run).
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
bool crash = args.FirstOrDefault() == "--crash";
string[] names = crash ? args[1..] : args;
var chosen = names.Length == 0 ? Scenarios.All : names.Select(Scenarios.Named).ToList();
Reproducible.WarningHandler = message => Console.Error.WriteLine(message);
foreach (Scenario scenario in chosen)
    Console.WriteLine($"{scenario.Name}\t{scenario.Run()}");
if (crash)
    throw new InvalidOperationException("The stream probe crashes on purpose (--crash).");
return 0;
