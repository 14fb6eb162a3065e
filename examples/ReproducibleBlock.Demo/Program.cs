using System;
using System.Collections.Generic;
using System.Linq;
using ReproducibleBlock;
using ReproducibleBlock.Demo;
using Spectre.Console;
using TorchSharp;
using static TorchSharp.torch;

// dotnet run --project examples/ReproducibleBlock.Demo -c Release [-- --device cpu|cuda] [--check] [--plot losses.png] [--help]
Options? options = Options.Parse(args, Console.Out, Console.Error, out int exitCode);
if (options is null)
    return exitCode;

// Progress bars only on an interactive terminal: redirected, Spectre would print progress lines at moments that depend on
// timing, and two runs of the same program would not give the same output.
bool showProgress = !Console.IsOutputRedirected && !Console.IsErrorRedirected && AnsiConsole.Profile.Capabilities.Interactive;

var warnings = new List<string>();
Reproducible.WarningHandler = message =>
{
    warnings.Add(message);
    AnsiConsole.MarkupLineInterpolated($"[yellow]warning:[/] {message}");
};

Device device;
if (options.Cuda)
{
    if (!cuda.is_available())
    {
        AnsiConsole.MarkupLine("[red]--device cuda: CUDA is not available to TorchSharp here.[/] Give the application a CUDA backend (see docs/cuda.md) or run on CPU.");
        return 2;
    }
    device = CUDA;
}
else
{
    device = CPU;
}

var failures = new List<string>();
void Check(bool holds, string property)
{
    if (!holds)
        failures.Add(property);
}

AnsiConsole.Write(new Rule("[bold]ReproducibleBlock demo[/]").LeftJustified());
AnsiConsole.MarkupLineInterpolated($"Device: [bold]{device.type}[/]. Root seed 42. Fingerprints are the first six hex digits of XXH32 of the bytes; [green]green[/] = the same in every variant that has the layer, [red]red[/] = changed.");
AnsiConsole.WriteLine();

// 1. The seed package's two diagrams: initial weights per layer, for variants A, B and C, under each strategy.
AnsiConsole.MarkupLine("[bold]1. Initial weights[/]  A: extractor + 3 convs + classifier, B: extractor + 2 convs + classifier, C: 2 convs + classifier");
foreach (Strategy strategy in Enum.GetValues<Strategy>())
{
    var fingerprints = new Dictionary<string, Dictionary<string, string>>();
    foreach (Variant variant in Variant.All)
    {
        Reproducible.SetSeed(42);
        using var network = new Network(variant, strategy, device);
        fingerprints[variant.Name] = network.Layers().ToDictionary(l => l.Layer, l => Fingerprint.Of(l.Weight));
    }
    string[] layers = fingerprints["A"].Keys.ToArray();
    var table = new Table().Title(strategy switch
    {
        Strategy.WithoutBlocks => "without blocks",
        Strategy.Scopes => "with Reproducible.Block scopes",
        _ => "with the assembly rule (woven constructors)",
    }).AddColumn("layer");
    foreach (Variant variant in Variant.All)
        table.AddColumn(variant.Name);
    foreach (string layer in layers)
    {
        string[] values = Variant.All.Select(v => fingerprints[v.Name].GetValueOrDefault(layer, "")).ToArray();
        bool same = values.Where(v => v != "").Distinct().Count() == 1;
        string colour = same ? "green" : "red";
        table.AddRow([layer, .. values.Select(v => v == "" ? "[grey]–[/]" : $"[{colour}]{v}[/]")]);
        if (strategy != Strategy.WithoutBlocks)
            Check(same, $"{strategy}: {layer} differs between variants");
    }
    AnsiConsole.Write(table);
}
AnsiConsole.WriteLine();

// 2. Training: data order and dropout masks, without and with blocks.
AnsiConsole.MarkupLineInterpolated($"[bold]2. Training[/]  {Trainer.Epochs} epochs of SGD on 256 synthetic images, batches of 32, dropout 0.3, a shuffling DataLoader");
var runs = new Dictionary<(bool Blocks, string Variant), List<EpochResult>>();
void TrainAll(Func<string, Action> startRun)
{
    foreach (bool blocks in new[] { false, true })
    {
        foreach (Variant variant in Variant.All)
        {
            Action onEpoch = startRun($"{(blocks ? "with" : "without")} blocks, variant {variant.Name}");
            Reproducible.SetSeed(42);
            using var data = new SyntheticData(device);
            using var network = new Network(variant, blocks ? Strategy.Woven : Strategy.WithoutBlocks, device);
            runs[(blocks, variant.Name)] = blocks
                ? Trainer.InBlock(network, data, device, onEpoch)
                : Trainer.WithoutBlocks(network, data, device, onEpoch);
        }
    }
}
if (showProgress)
{
    AnsiConsole.Progress().AutoClear(true).Start(progress => TrainAll(name =>
    {
        ProgressTask task = progress.AddTask(name, maxValue: Trainer.Epochs);
        return () => task.Increment(1);
    }));
}
else
{
    TrainAll(_ => () => { });
}
foreach (bool blocks in new[] { false, true })
{
    var table = new Table().Title(blocks ? "with blocks ([[ReproducibleBlock(128)]] Train, woven model)" : "without blocks").AddColumn("epoch");
    foreach (Variant variant in Variant.All)
        table.AddColumn($"loss {variant.Name}");
    table.AddColumn("data order A / B / C").AddColumn("dropout mask A / B / C");
    for (int epoch = 0; epoch < Trainer.Epochs; epoch++)
    {
        EpochResult[] results = Variant.All.Select(v => runs[(blocks, v.Name)][epoch]).ToArray();
        string Same(Func<EpochResult, string> pick)
        {
            string[] values = results.Select(pick).ToArray();
            bool same = values.Distinct().Count() == 1;
            return same ? $"[green]{values[0]} (same)[/]" : $"[red]{string.Join(" / ", values)}[/]";
        }
        table.AddRow([(epoch + 1).ToString(), .. results.Select(r => r.Loss.ToString("0.0000")), Same(r => r.DataOrder), Same(r => r.DropoutMask)]);
        if (blocks)
        {
            Check(results.Select(r => r.DataOrder).Distinct().Count() == 1, $"epoch {epoch + 1}: data order differs between variants");
            Check(results.Select(r => r.DropoutMask).Distinct().Count() == 1, $"epoch {epoch + 1}: dropout mask differs between variants");
        }
    }
    AnsiConsole.Write(table);
}
AnsiConsole.MarkupLine("[grey]The losses differ between variants because the networks do; with blocks, what they are trained on does not.[/]");
if (options.PlotPath is { } plotPath)
{
    Plot.Losses(runs, plotPath);
    AnsiConsole.MarkupLineInterpolated($"Loss curves written to [bold]{plotPath}[/].");
}
AnsiConsole.WriteLine();

// 3. The seed package's defect that Keyed fixes.
AnsiConsole.MarkupLine("[bold]3. Neighbouring block seeds[/]  Linear(8, 8) weights created in block 64 and in block 65");
var seeds = new Table().AddColumn("derivation").AddColumn("block 64, first six").AddColumn("block 65, first six").AddColumn("block 65 = block 64 shifted by one?");
foreach (BlockDerivation derivation in new[] { BlockDerivation.ResetAndAdvance, BlockDerivation.Keyed })
{
    Reproducible.SetSeed(42, derivation);
    float[] Weights(long seed)
    {
        using (Reproducible.Block(seed))
        {
            using var linear = nn.Linear(8, 8);
            return linear.weight!.data<float>().ToArray();
        }
    }
    float[] block64 = Weights(64), block65 = Weights(65);
    bool shifted = block64.Skip(1).SequenceEqual(block65.Take(block65.Length - 1));
    static string Six(float[] w) => string.Join(" ", w.Take(6).Select(x => x.ToString("+0.000;-0.000")));
    seeds.AddRow(derivation.ToString(), Six(block64), Six(block65), shifted ? "[red]yes: overlapping streams[/]" : "[green]no: unrelated[/]");
    Check(shifted == (derivation == BlockDerivation.ResetAndAdvance), $"{derivation}: the shift property does not hold as documented");
}
AnsiConsole.Write(seeds);

// 4. On CUDA, the generator state the library reads and writes through libtorch_cuda's exports.
if (options.Cuda)
{
    AnsiConsole.WriteLine();
    AnsiConsole.MarkupLine("[bold]4. CUDA generator state[/]");
    var table = new Table().AddColumn("property").AddColumn("holds");
    foreach ((string property, bool holds) in CudaChecks.Run(device, warnings))
    {
        table.AddRow(property, holds ? "[green]yes[/]" : "[red]no[/]");
        Check(holds, "CUDA: " + property);
    }
    AnsiConsole.Write(table);
}

AnsiConsole.WriteLine();
AnsiConsole.MarkupLine("[grey]When two of your runs differ: trace both (REPRODUCIBLEBLOCK_TRACE=run-{pid}.jsonl) and compare them with "
    + "reproducible-block diff, which names the first block where they part and why (docs/two-runs-differ.md).[/]");
if (failures.Count == 0)
{
    AnsiConsole.MarkupLine("[green]Every isolation property holds.[/]");
    return 0;
}
foreach (string failure in failures)
    AnsiConsole.MarkupLineInterpolated($"[red]FAILED:[/] {failure}");
return options.Check ? 1 : 0;
