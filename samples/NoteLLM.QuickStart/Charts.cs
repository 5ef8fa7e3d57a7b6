using NoteLLM.MLNet.Evaluation;
using NoteLLM.MLNet.Training;
using ScottPlot;

namespace NoteLLM.QuickStart;

/// <summary>The two PNG charts of the quick start, drawn with ScottPlot.</summary>
public static class Charts
{
    /// <summary>Training loss (total, contrastive, generation) per optimizer step, with the validation loss where measured.</summary>
    public static void TrainingLoss(IReadOnlyList<TrainingProgress> history, string path)
    {
        var plot = new Plot();
        double[] steps = history.Select(p => (double)p.Step).ToArray();
        Line(plot, steps, history.Select(p => p.Loss), "loss (total)");
        Line(plot, steps, history.Select(p => p.ContrastiveLoss), "contrastive (GCL)");
        Line(plot, steps, history.Select(p => p.GenerationLoss), "generation (CSFT)");
        var validation = history.Where(p => p.ValidationLoss is not null).ToList();
        if (validation.Count > 0)
        {
            var points = plot.Add.Scatter(validation.Select(p => (double)p.Step).ToArray(), validation.Select(p => p.ValidationLoss!.Value).ToArray());
            points.LegendText = "validation loss";
            points.MarkerSize = 8;
        }
        plot.Title("NoteLLM training loss");
        plot.XLabel("optimizer step");
        plot.YLabel("loss");
        plot.ShowLegend(Alignment.UpperRight);
        Save(plot, path);
    }

    /// <summary>Recall@k of each embedder over the same cut-offs.</summary>
    public static void RecallAtK(IReadOnlyList<(string Name, RecallMetrics Recall)> rows, string path)
    {
        var plot = new Plot();
        var cutoffs = rows[0].Recall.Cutoffs;
        double[] positions = Enumerable.Range(0, cutoffs.Count).Select(i => (double)i).ToArray();
        foreach (var (name, recall) in rows)
        {
            var line = plot.Add.Scatter(positions, recall.Recall.Select(r => 100 * r).ToArray());
            line.LegendText = name;
            line.MarkerSize = 7;
        }
        plot.Axes.Bottom.SetTicks(positions, cutoffs.Select(k => $"R@{k}").ToArray());
        plot.Axes.SetLimitsY(0, 100);
        plot.Title($"I2I recall on the test split ({rows[0].Recall.QueryCount} queries, corpus {rows[0].Recall.CorpusSize} notes)");
        plot.YLabel("recall (%)");
        plot.ShowLegend(Alignment.LowerRight);
        Save(plot, path);
    }

    private static void Line(Plot plot, double[] xs, IEnumerable<double> ys, string label)
    {
        var line = plot.Add.ScatterLine(xs, ys.ToArray());
        line.LegendText = label;
    }

    // written beside the target and moved over it, so a failed run never leaves half a PNG
    private static void Save(Plot plot, string path)
    {
        string temp = path + ".tmp.png";
        plot.SavePng(temp, 900, 520);
        File.Move(temp, path, overwrite: true);
    }
}
