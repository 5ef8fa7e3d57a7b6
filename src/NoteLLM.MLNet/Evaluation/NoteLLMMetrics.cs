using System.Globalization;
using System.Text;

namespace NoteLLM.MLNet.Evaluation;

/// <summary>I2I recall of one set of queries (paper section 4.1). Values are shares in [0, 1].</summary>
public sealed class RecallMetrics
{
    internal RecallMetrics(int queryCount, int corpusSize, IReadOnlyList<int> cutoffs, IReadOnlyList<double> recall, IReadOnlyList<int> averagedCutoffs)
    {
        QueryCount = queryCount;
        CorpusSize = corpusSize;
        Cutoffs = cutoffs;
        Recall = recall;
        AveragedCutoffs = averagedCutoffs;
        Average = averagedCutoffs.Count == 0 ? 0 : averagedCutoffs.Average(RecallAt);
    }

    /// <summary>Number of queries (kept test pairs) measured.</summary>
    public int QueryCount { get; }

    /// <summary>Number of corpus notes ranked (test notes minus query notes); cut-offs above it are capped to it.</summary>
    public int CorpusSize { get; }

    /// <summary>The cut-offs k, in the order of <see cref="Recall"/>.</summary>
    public IReadOnlyList<int> Cutoffs { get; }

    /// <summary>Recall@k for each of <see cref="Cutoffs"/>: share of queries whose ground truth ranks within the top min(k, <see cref="CorpusSize"/>).</summary>
    public IReadOnlyList<double> Recall { get; }

    /// <summary>The cut-offs <see cref="Average"/> averages (the paper's table: 100, 1k, 10k, 100k).</summary>
    public IReadOnlyList<int> AveragedCutoffs { get; }

    /// <summary>Mean of Recall@k over <see cref="AveragedCutoffs"/> (the paper's "avg" column).</summary>
    public double Average { get; }

    /// <summary>Recall at cut-off <paramref name="k"/>, which must be one of <see cref="Cutoffs"/>.</summary>
    public double RecallAt(int k)
    {
        for (int i = 0; i < Cutoffs.Count; i++) if (Cutoffs[i] == k) return Recall[i];
        throw new ArgumentOutOfRangeException(nameof(k), k, $"not a measured cut-off ({string.Join(", ", Cutoffs)})");
    }
}

/// <summary>Category generation quality (paper section 4.1). Values are shares in [0, 1].</summary>
public sealed class CategoryMetrics
{
    internal CategoryMetrics(int noteCount, double accuracy, double illegalRate)
    {
        NoteCount = noteCount;
        Accuracy = accuracy;
        IllegalRate = illegalRate;
    }

    /// <summary>Notes with a ground-truth category, over which both rates are computed.</summary>
    public int NoteCount { get; }

    /// <summary>Share of notes whose generated category equals the ground truth (ordinal, surrounding whitespace ignored).</summary>
    public double Accuracy { get; }

    /// <summary>Share of notes whose generated category is not in the legal category set (an empty output is illegal).</summary>
    public double IllegalRate { get; }
}

/// <summary>Hashtag generation quality (paper section 4.1), sentence-level scores averaged over notes. Values in [0, 1].</summary>
public sealed class HashtagMetrics
{
    internal HashtagMetrics(int noteCount, double bleu4, double rouge1F1, double rouge2F1, double rougeLF1)
    {
        NoteCount = noteCount;
        Bleu4 = bleu4;
        Rouge1F1 = rouge1F1;
        Rouge2F1 = rouge2F1;
        RougeLF1 = rougeLF1;
    }

    /// <summary>Notes with at least one ground-truth hashtag token, over which the scores are averaged.</summary>
    public int NoteCount { get; }

    /// <summary>Mean sentence BLEU-4 (<see cref="TextOverlap.SentenceBleu4"/>, Chen and Cherry smoothing method 1).</summary>
    public double Bleu4 { get; }

    /// <summary>Mean ROUGE-1 F1.</summary>
    public double Rouge1F1 { get; }

    /// <summary>Mean ROUGE-2 F1.</summary>
    public double Rouge2F1 { get; }

    /// <summary>Mean ROUGE-L F1.</summary>
    public double RougeLF1 { get; }
}

/// <summary>
/// The NoteLLM evaluation of a test split (paper section 4.1), in the style of ML.NET's <c>RegressionMetrics</c>:
/// immutable, every value a share in [0, 1]; <see cref="ToTable"/> prints them as percentages like the paper.
/// </summary>
public sealed class NoteLLMMetrics
{
    internal NoteLLMMetrics(int testPairCount, RecallMetrics recall, RecallMetrics? lowExposure, RecallMetrics? highExposure,
        CategoryMetrics? category, HashtagMetrics? hashtags)
    {
        TestPairCount = testPairCount;
        Recall = recall;
        LowExposureRecall = lowExposure;
        HighExposureRecall = highExposure;
        Category = category;
        Hashtags = hashtags;
    }

    /// <summary>Test pairs given, before the protocol's de-duplication (<see cref="RecallMetrics.QueryCount"/> were kept).</summary>
    public int TestPairCount { get; }

    /// <summary>I2I recall over every kept query.</summary>
    public RecallMetrics Recall { get; }

    /// <summary>I2I recall over the queries whose note has low exposure; null without an exposure column.</summary>
    public RecallMetrics? LowExposureRecall { get; }

    /// <summary>I2I recall over the queries whose note has high exposure; null without an exposure column.</summary>
    public RecallMetrics? HighExposureRecall { get; }

    /// <summary>Category accuracy and illegal rate; null when the notes have no generated or ground-truth category column.</summary>
    public CategoryMetrics? Category { get; }

    /// <summary>Hashtag BLEU-4 and ROUGE F1; null when the notes have no generated or ground-truth hashtags column.</summary>
    public HashtagMetrics? Hashtags { get; }

    /// <summary>The metrics as a plain-text table (percentages, two decimals, as in the paper's tables).</summary>
    public string ToTable()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"I2I recall (%): {TestPairCount} test pairs, {Recall.QueryCount} kept queries, corpus {Recall.CorpusSize} notes");
        text.Append("| queries |");
        foreach (int k in Recall.Cutoffs) text.Append(CultureInfo.InvariantCulture, $" R@{Short(k)} |");
        text.AppendLine(" avg |");
        text.Append("|---|");
        foreach (int _ in Recall.Cutoffs) text.Append("---|");
        text.AppendLine("---|");
        RecallRow(text, "all", Recall);
        if (LowExposureRecall is not null) RecallRow(text, "low exposure", LowExposureRecall);
        if (HighExposureRecall is not null) RecallRow(text, "high exposure", HighExposureRecall);
        text.AppendLine(CultureInfo.InvariantCulture, $"(avg = mean of R@{string.Join(", R@", Recall.AveragedCutoffs.Select(Short))})");
        if (Category is not null)
            text.AppendLine(CultureInfo.InvariantCulture, $"Category ({Category.NoteCount} notes): accuracy {Percent(Category.Accuracy)}, illegal {Percent(Category.IllegalRate)}");
        if (Hashtags is not null)
            text.AppendLine(CultureInfo.InvariantCulture,
                $"Hashtags ({Hashtags.NoteCount} notes): BLEU-4 {Percent(Hashtags.Bleu4)}, ROUGE-1 {Percent(Hashtags.Rouge1F1)}, " +
                $"ROUGE-2 {Percent(Hashtags.Rouge2F1)}, ROUGE-L {Percent(Hashtags.RougeLF1)}");
        return text.ToString();
    }

    /// <inheritdoc/>
    public override string ToString() => ToTable();

    private static void RecallRow(StringBuilder text, string name, RecallMetrics metrics)
    {
        text.Append(CultureInfo.InvariantCulture, $"| {name} ({metrics.QueryCount}) |");
        foreach (double r in metrics.Recall) text.Append(CultureInfo.InvariantCulture, $" {Percent(r)} |");
        text.AppendLine(CultureInfo.InvariantCulture, $" {Percent(metrics.Average)} |");
    }

    private static string Percent(double share) => (100 * share).ToString("F2", CultureInfo.InvariantCulture);

    private static string Short(int k) => k >= 1000 && k % 1000 == 0 ? $"{k / 1000}k" : k.ToString(CultureInfo.InvariantCulture);
}
