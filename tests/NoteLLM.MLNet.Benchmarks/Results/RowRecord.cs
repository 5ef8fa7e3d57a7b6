using System.Text.Json;
using System.Text.Json.Serialization;
using NoteLLM.MLNet.Evaluation;
using NoteLLM.MLNet.Training;

namespace NoteLLM.MLNet.Benchmarks.Results;

/// <summary>
/// One measured row of the results tables, as recorded by the invocation that measured it (a JSON file per row and
/// seed), so rows measured in separate invocations are assembled into one report with how each was measured.
/// </summary>
internal sealed record RowRecord
{
    public required string Id { get; init; }
    public required int Seed { get; init; }
    /// <summary>The command that measured it, the repository commit, when, how long, and the machine's load.</summary>
    public required string Command { get; init; }
    public required string Commit { get; init; }
    public required DateTime Started { get; init; }
    public required double WallSeconds { get; init; }
    public required string LoadAtStart { get; init; }
    public required string LoadAtEnd { get; init; }
    public required string Machine { get; init; }
    /// <summary><see cref="ResultsSettings.Budget"/> of the invocation: rows are comparable when these are equal.</summary>
    public required string Budget { get; init; }
    public required string Size { get; init; }
    public RecallRecord? Recall { get; init; }
    public RecallRecord? LowExposure { get; init; }
    public RecallRecord? HighExposure { get; init; }
    public double? RandomPairCosine { get; init; }
    public double? EmbedSeconds { get; init; }
    /// <summary>The category the model outputs (constrained to the training categories), and the same model decoding freely.</summary>
    public CategoryRecord? Category { get; init; }
    public CategoryRecord? FreeCategory { get; init; }
    public HashtagRecord? Hashtags { get; init; }
    public double? GenerationSeconds { get; init; }
    public TrainingRecord? Training { get; init; }
    public IReadOnlyList<string> Examples { get; init; } = [];

    /// <summary>
    /// The file name of a row's record: its id, with the seed for rows measured over several seeds and the learning rates
    /// alpha and tau when they are not the preset's, so a variant never overwrites the row the tables use.
    /// </summary>
    public static string FileName(string id, int? seed, ResultsSettings settings)
    {
        // learning rates, alphas and taus other than the preset's get files of their own, so exploring them never overwrites a row of the report
        var preset = NoteLLMTrainerOptions.ForPretrainedEncoder;
        var recipe = settings.Recipe;
        string Invariant(double x) => x.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        return id + (seed is null ? "" : $"-seed{seed}")
            + (recipe.LearningRate == preset.LearningRate ? "" : $"-lr-{Invariant(recipe.LearningRate)}")
            + (recipe.PretrainedLearningRateShare == preset.PretrainedLearningRateShare ? "" : $"-pretrained-lr-share-{Invariant(recipe.PretrainedLearningRateShare)}")
            + (recipe.Alpha == preset.Alpha ? "" : $"-alpha-{Invariant(recipe.Alpha)}")
            + (recipe.InitialTau == preset.InitialTau ? "" : $"-tau-{Invariant(recipe.InitialTau)}")
            + ".json";
    }

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <exception cref="InvalidDataException">The file is not a row record; the message names it.</exception>
    public static RowRecord Read(string path)
    {
        try { return JsonSerializer.Deserialize<RowRecord>(File.ReadAllText(path), Json) ?? throw new JsonException("empty document"); }
        catch (JsonException e) { throw new InvalidDataException($"{path} is not a results row record: {e.Message}", e); }
    }
}

internal sealed record RecallRecord(int Queries, int Corpus, int[] Cutoffs, double[] Recall, int[] AveragedCutoffs, double Average)
{
    public static RecallRecord? Of(RecallMetrics? m) => m is null ? null
        : new(m.QueryCount, m.CorpusSize, m.Cutoffs.ToArray(), m.Recall.ToArray(), m.AveragedCutoffs.ToArray(), m.Average);

    public double At(int k) => Recall[Array.IndexOf(Cutoffs, k)];
}

internal sealed record CategoryRecord(int Notes, double Accuracy, double IllegalRate)
{
    public static CategoryRecord Of(CategoryMetrics m) => new(m.NoteCount, m.Accuracy, m.IllegalRate);
}

internal sealed record HashtagRecord(int Notes, double Bleu4, double Rouge1, double Rouge2, double RougeL)
{
    public static HashtagRecord Of(HashtagMetrics m) => new(m.NoteCount, m.Bleu4, m.Rouge1F1, m.Rouge2F1, m.RougeLF1);
}

/// <summary>What a trained row was trained with and what it cost.</summary>
internal sealed record TrainingRecord(int Steps, int BatchSize, double LearningRate, double Alpha, double ContrastiveWeight, double HashtagTaskRatio,
    string Readout, long PairsSeen, double WallSeconds, double? LastLoss, double? BestValidationLoss, int? BestValidationStep,
    double? InitialTau); // null in records written before tau was recorded (ResultsSettings.TauOfOlderRecords)
