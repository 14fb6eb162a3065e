using System.Collections.Generic;
using System.Linq;

namespace ReproducibleBlock.Demo;

/// <summary>The loss curves, as a picture (ScottPlot).</summary>
public static class Plot
{
    public static void Losses(IReadOnlyDictionary<(bool Blocks, string Variant), List<EpochResult>> runs, string path)
    {
        var plot = new ScottPlot.Plot();
        foreach (((bool blocks, string variant), List<EpochResult> epochs) in runs.OrderBy(r => r.Key.Blocks).ThenBy(r => r.Key.Variant))
        {
            double[] x = Enumerable.Range(1, epochs.Count).Select(e => (double)e).ToArray();
            var line = plot.Add.Scatter(x, epochs.Select(e => e.Loss).ToArray());
            line.LegendText = $"{variant} {(blocks ? "with" : "without")} blocks";
            line.LinePattern = blocks ? ScottPlot.LinePattern.Solid : ScottPlot.LinePattern.Dashed;
        }
        plot.Title("Training loss per epoch");
        plot.XLabel("epoch");
        plot.YLabel("mean cross-entropy");
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericFixedInterval(1);
        plot.ShowLegend();
        plot.SavePng(path, 900, 520);
    }
}
