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
if (args is ["--trace-run", string rootSeed, string extraDraws])
{
    // Three blocks for the tracing tests: block 2 draws 1 + extraDraws numbers, so two runs with different extraDraws
    // differ inside block 2 only (blocks 1 and 3 start from their own keyed states).
    Reproducible.SetSeed(long.Parse(rootSeed, System.Globalization.CultureInfo.InvariantCulture));
    using (Reproducible.Block(1))
        Reproducible.Random.NextInt64();
    using (Reproducible.Block(2))
    {
        for (int i = 0; i <= int.Parse(extraDraws, System.Globalization.CultureInfo.InvariantCulture); i++)
            Reproducible.Random.NextInt64();
    }
    using (Reproducible.Block(3))
        Reproducible.Random.NextInt64();
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
