using System.Globalization;
using NoteLLM.MLNet.Data;
using NoteLLM.MLNet.Evaluation;
using NoteLLM.MLNet.Retrieval;
using Spectre.Console;

namespace NoteLLM.QuickStart;

/// <summary>The quick start's console tables.</summary>
public static class Report
{
    /// <summary>Recall@k of each embedder (percent), then category and hashtag quality of the generated notes.</summary>
    /// <param name="freeCategory">the categories the same model generates with free decoding, as the paper measures them</param>
    public static void Metrics(IReadOnlyList<(string Name, RecallMetrics Recall)> recall, CategoryMetrics category, CategoryMetrics freeCategory, HashtagMetrics hashtags)
    {
        var first = recall[0].Recall;
        var table = new Table().Title($"I2I recall (%) on the test split: {first.QueryCount} queries, corpus {first.CorpusSize} notes");
        table.AddColumn("embedder");
        foreach (int k in first.Cutoffs) table.AddColumn(new TableColumn($"R@{k}").RightAligned());
        table.AddColumn(new TableColumn($"avg").RightAligned());
        foreach (var (name, metrics) in recall)
            table.AddRow([name, .. metrics.Recall.Select(Percent), Percent(metrics.Average)]);
        table.Caption($"avg = mean of R@{string.Join(", R@", first.AveragedCutoffs)}");
        AnsiConsole.Write(table);

        var generation = new Table().Title("Generation on the test notes (%)");
        generation.AddColumns("task", "notes", "metric", "value");
        generation.AddRow("category", category.NoteCount.ToString(CultureInfo.InvariantCulture), "accuracy", Percent(category.Accuracy));
        generation.AddRow("", "", "illegal rate", Percent(category.IllegalRate));
        generation.AddRow("category, free decoding", freeCategory.NoteCount.ToString(CultureInfo.InvariantCulture), "accuracy", Percent(freeCategory.Accuracy));
        generation.AddRow("", "", "illegal rate", Percent(freeCategory.IllegalRate));
        generation.AddRow("hashtags", hashtags.NoteCount.ToString(CultureInfo.InvariantCulture), "ROUGE-1 F1", Percent(hashtags.Rouge1F1));
        generation.AddRow("", "", "ROUGE-2 F1", Percent(hashtags.Rouge2F1));
        generation.AddRow("", "", "ROUGE-L F1", Percent(hashtags.RougeLF1));
        generation.AddRow("", "", "BLEU-4", Percent(hashtags.Bleu4));
        AnsiConsole.Write(generation);
    }

    /// <summary>Mean cosine of random note pairs per embedder: how spread out the embeddings are.</summary>
    public static void Spread(IReadOnlyList<(string Name, double MeanCosine)> embedders) =>
        AnsiConsole.MarkupLine("Mean cosine of random test-note pairs (near 1 = collapsed): " +
            string.Join(", ", embedders.Select(e => $"{Markup.Escape(e.Name)} {e.MeanCosine.ToString("F3", CultureInfo.InvariantCulture)}")));

    /// <summary>One test note: its generated hashtags and category beside the true ones, and its top related notes (✓ = a test pair).</summary>
    public static void Example(NoteRecord note, (string[] Hashtags, string Category) generated, IReadOnlyList<(RelatedNote Hit, NoteRecord Note, bool IsTestPair)> related)
    {
        var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        grid.AddRow("[bold]note[/]", Markup.Escape($"{note.Id}: {note.Title}"));
        grid.AddRow("[bold]hashtags[/]", $"generated [green]{Markup.Escape(string.Join(", ", generated.Hashtags))}[/]  true {Markup.Escape(string.Join(", ", note.Hashtags))}");
        grid.AddRow("[bold]category[/]", $"generated [green]{Markup.Escape(generated.Category)}[/]  true {Markup.Escape(note.Category)}");
        var table = new Table().AddColumns("rank", "score", "related note", "test pair");
        for (int i = 0; i < related.Count; i++)
            table.AddRow((i + 1).ToString(CultureInfo.InvariantCulture), related[i].Hit.Score.ToString("F3", CultureInfo.InvariantCulture),
                Markup.Escape($"{related[i].Note.Id}: {related[i].Note.Title}"), related[i].IsTestPair ? "✓" : "");
        grid.AddRow("[bold]top 5[/]", "");
        AnsiConsole.Write(new Panel(new Rows(grid, table)).Header("Test note").Expand());
    }

    private static string Percent(double share) => (100 * share).ToString("F2", CultureInfo.InvariantCulture);
}
