using System;
using System.Linq;
using ReproducibleBlock;
using ReproducibleBlock.StreamProbe;

// Prints "name<TAB>output" for the scenarios named on the command line (all of them without arguments), or with
// --environment the environment record. The Core
// tests run it with ATEN_CPU_CAPABILITY set, which libtorch reads once when it loads, so it needs its own process.
if (args is ["--environment"])
{
    Console.WriteLine(ReproducibleEnvironment.Current());
    return 0;
}
var chosen = args.Length == 0 ? Scenarios.All : args.Select(Scenarios.Named).ToList();
Reproducible.WarningHandler = message => Console.Error.WriteLine(message);
foreach (Scenario scenario in chosen)
    Console.WriteLine($"{scenario.Name}\t{scenario.Run()}");
return 0;
