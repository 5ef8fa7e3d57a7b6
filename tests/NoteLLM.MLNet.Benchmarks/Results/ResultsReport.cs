using System.Globalization;
using System.Text;
using NoteLLM.MLNet.Evaluation;

namespace NoteLLM.MLNet.Benchmarks.Results;

/// <summary>The results tables as Markdown, in the paper's layout (values in %), with how they were measured.</summary>
sealed class ResultsReport
{
    public required string Command { get; init; }
    public required DateTime Started { get; init; }
    public required TimeSpan Wall { get; init; }
    public required int Cores { get; init; }
    public required string LoadAtStart { get; init; }
    public required string LoadAtEnd { get; init; }
    public required string Machine { get; init; }
    public required ResultsSettings Settings { get; init; }
    public required ResultsDataset Dataset { get; init; }
    public required IReadOnlyList<ResultRow> Rows { get; init; }
    public required IReadOnlyList<int> Cutoffs { get; init; }
    public required IReadOnlyList<int> AveragedCutoffs { get; init; }
    public required string DecoderDescription { get; init; }
    public required long PeakRss { get; init; }

    /// <remarks>Numbers are formatted with the current culture; the benchmark runs under the invariant culture.</remarks>
    public string ToMarkdown()
    {
        var s = Settings;
        var any = Rows[0].Recall!;
        int corpus = any.Recall.CorpusSize;
        var md = new StringBuilder();
        void Line(string text) => md.AppendLine(text);

        md.AppendLine("# Results: NoteLLM and baselines on the Debian notes test split");
        md.AppendLine();
        md.AppendLine("Written by the `results` benchmark; every number below was measured in the one run described here, none edited by hand.");
        md.AppendLine();
        Line($"- Command: `{Command}`");
        Line($"- Date: {Started:yyyy-MM-dd HH:mm} UTC; wall time {Wall:hh\\:mm\\:ss}; peak RSS {ProcessMemory.Mib(PeakRss)}");
        Line($"- Machine: {Cores} CPU cores, {Machine}; shared with other jobs (load average {LoadAtStart} at the start, {LoadAtEnd} at the end), so times are slower than on an idle machine");
        Line($"- Data: `{Path.GetRelativePath(Directory.GetCurrentDirectory(), Dataset.Directory)}`: {Dataset.TrainNotes.Count:N0} train notes and {Dataset.TrainPairs.Count:N0} train pairs ({Dataset.TrainPairsWithUnknownNote} pairs naming no train note left out); " +
             $"{Dataset.TestNotes.Count:N0} test notes, {any.TestPairCount} test pairs, {any.Recall.QueryCount} kept queries (authors' protocol), corpus {corpus:N0} notes");
        Line($"- Exposure split (Table 3): a query is high exposure when its in-degree is at least {Dataset.ExposureMedian}, the median over the test notes ({any.LowExposureRecall!.QueryCount} low, {any.HighExposureRecall!.QueryCount} high queries)");
        Line($"- NoteLLM: {DecoderDescription}. Trainer: `NoteLLMTrainerOptions.ForSmallModelFromScratch` with batch {s.BatchSize} pairs per step, learning rate {s.LearningRate}, " +
             $"{s.Steps} steps for NoteLLM and {s.AblationSteps} per ablation, 2% of the train pairs held out for validation (weights of the lowest validation loss kept), seed {s.Seed}");
        Line($"- Generation (Table 4): greedy decoding, repetition penalty 1.2, at most {s.MaxNewTokens} new tokens, 3 hashtags asked, on {Dataset.GenerationSample.Count} evenly spaced test notes of the {Dataset.TaggedTestNotes:N0} with hashtags and a category; " +
             "legal categories = the categories of the training pairs' notes (`model.Categories`)");
        Line($"- Baselines embed title, hashtags and content as plain text (the fields NoteLLM's embedding prompt shows); TF-IDF learns its vocabulary and IDF from the train notes; MiniLM reads the first 160 words (its 256-word-piece window), in batches of similar length");
        md.AppendLine();

        string Caps() => string.Join("", Cutoffs.Select(k => $" R@{Short(k)}{(k > corpus ? "*" : "")} |"));
        string AvgName = $"avg (R@{string.Join(", R@", AveragedCutoffs.Select(Short))})";
        md.AppendLine("## Table 2: I2I recall (%)");
        md.AppendLine();
        md.AppendLine($"| model | parameters |{Caps()} {AvgName} |");
        md.AppendLine("|---|---|" + string.Concat(Cutoffs.Select(_ => "---:|")) + "---:|");
        foreach (var row in Rows)
            md.AppendLine($"| {row.Name} | {row.Size} |{RecallCells(row.Recall!.Recall)}");
        Line($"\n\\* k above the corpus size ({corpus:N0}) is capped to it, so that column is 100% by construction. The paper also reports R@100k; with fewer than 10k test notes it would equal R@10k, so the average leaves it out.");
        md.AppendLine();

        md.AppendLine("## Table 3: I2I recall (%) by the query note's exposure");
        md.AppendLine();
        md.AppendLine($"| model | low:{Caps()} low: avg | high:{Caps()} high: avg |");
        md.AppendLine("|---|" + string.Concat(Enumerable.Repeat(string.Concat(Cutoffs.Select(_ => "---:|")) + "---:|", 2)));
        foreach (var row in Rows)
            md.AppendLine($"| {row.Name} |{RecallCells(row.Recall!.LowExposureRecall!)}{RecallCells(row.Recall!.HighExposureRecall!)}");
        md.AppendLine();

        md.AppendLine("## Table 4: ablations (%)");
        md.AppendLine();
        md.AppendLine("| model | R@100 | Avg | Acc | Ill | BLEU4 | ROUGE-L | ROUGE-1 | ROUGE-2 |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var row in Rows)
        {
            var r = row.Recall!.Recall;
            md.AppendLine($"| {row.Name} | {P(r.RecallAt(100))} | {P(r.Average)} | {P(row.Category?.Accuracy)} | {P(row.Category?.IllegalRate)} | " +
                $"{P(row.Hashtags?.Bleu4)} | {P(row.Hashtags?.RougeLF1)} | {P(row.Hashtags?.Rouge1F1)} | {P(row.Hashtags?.Rouge2F1)} |");
        }
        md.AppendLine();
        md.AppendLine("\"-\": the row does not generate. Acc: exact match of the generated category; Ill: share of generated categories outside the legal set. " +
            "BLEU4: sentence BLEU-4 with Chen and Cherry smoothing method 1, ROUGE: F1, both averaged over notes, on hashtags tokenised by `HashtagTokenizer` " +
            "(lower-cased runs of letters and digits, so `use::editing` gives `use`, `editing`).");
        md.AppendLine();

        md.AppendLine("## Cost per row");
        md.AppendLine();
        md.AppendLine("| model | parameters (without token embeddings) | alpha | GCL weight | r | steps | pairs seen | training wall | last loss (cl, gen) | best validation loss (step) | embedding the test notes | generation |");
        md.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---|---|---:|---:|");
        foreach (var row in Rows)
        {
            string embed = $"{row.EmbedWall.TotalSeconds:F0} s ({Dataset.TestNotes.Count / Math.Max(row.EmbedWall.TotalSeconds, 1e-9):F0} notes/s)";
            if (row.Training is not { } t)
            {
                md.AppendLine($"| {row.Name} | {row.Size} | - | - | - | - | - | - | - | - | {embed} | - |");
                continue;
            }
            string last = t.Last is { } l ? $"{l.Loss:F3} ({l.ContrastiveLoss:F3}, {l.GenerationLoss:F3})" : "-";
            string best = t.BestValidationLoss is double v ? $"{v:F3} ({t.BestValidationStep})" : "-";
            md.AppendLine(
                $"| {row.Name} | {t.Parameters:N0} ({t.ParametersWithoutTokenEmbeddings:N0}) | {t.Options.Alpha} | {t.Options.ContrastiveWeight} | {t.Options.HashtagTaskRatio} | {t.Steps} | {t.PairsSeen:N0} | " +
                $"{t.Wall:hh\\:mm\\:ss} | {last} | {best} | {embed} | {row.GenerationWall?.TotalSeconds:F0} s ({Dataset.GenerationSample.Count} notes) |");
        }
        md.AppendLine();
        var examples = Rows.Where(r => r.Examples.Count > 0).ToList();
        if (examples.Count > 0)
        {
            md.AppendLine("## Generated examples (first notes of the generation sample)");
            md.AppendLine();
            foreach (var row in examples)
                foreach (var example in row.Examples)
                    md.AppendLine($"- {row.Name}: {example.Replace("|", "\\|")}");
        }
        return md.ToString();
    }

    static string RecallCells(RecallMetrics metrics) =>
        string.Concat(metrics.Recall.Select(r => $" {P(r)} |")) + $" {P(metrics.Average)} |";

    static string P(double? share) => share is double v ? (100 * v).ToString("F2", CultureInfo.InvariantCulture) : "-";

    static string Short(int k) => k >= 1000 && k % 1000 == 0 ? $"{k / 1000}k" : k.ToString(CultureInfo.InvariantCulture);
}
