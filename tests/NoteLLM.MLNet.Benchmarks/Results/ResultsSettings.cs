using System.Globalization;
using NoteLLM.MLNet.Prompting;
using NoteLLM.MLNet.Training;

namespace NoteLLM.MLNet.Benchmarks.Results;

/// <summary>What a <c>results</c> invocation does, and the budget every trained row shares, parsed from its options.</summary>
internal sealed record ResultsSettings
{
    /// <summary>What to do: <c>row</c> (measure the rows named), <c>missing</c> (measure every row not yet recorded), <c>assemble</c> (write the tables), <c>list</c>.</summary>
    public string Verb { get; init; } = "list";
    /// <summary>The rows to measure (ids of <see cref="ResultRows"/>), for <c>row</c>.</summary>
    public IReadOnlyList<string> Rows { get; init; } = [];
    /// <summary>Dataset folder (notes.jsonl.gz, train-pairs.csv.gz, test-pairs.csv.gz). --data DIR.</summary>
    public string DataDirectory { get; init; } = "data/debian-notes";
    /// <summary>Optimizer steps of every trained row. --steps N.</summary>
    public int Steps { get; init; } = 300;
    /// <summary>Pairs per optimizer step of every trained row. --batch N.</summary>
    public int BatchSize { get; init; } = 16;
    /// <summary>Word pieces of a note's part of the prompt (title, hashtags, content). --note-tokens N.</summary>
    public int NoteTokens { get; init; } = 48;
    /// <summary>
    /// Word pieces of a note's part of the prompt when the rows embed (null: <see cref="NoteTokens"/>): a model trained
    /// on short prompts, read over longer ones; generation keeps <see cref="NoteTokens"/>. --embedding-note-tokens N.
    /// </summary>
    public int? EmbeddingNoteTokens { get; init; } = 128;
    /// <summary>The prompt limits of training: note parts of <see cref="NoteTokens"/> word pieces.</summary>
    public NotePromptLimits TrainingLimits => new() { MaxNoteTokens = NoteTokens };

    /// <summary>
    /// The prompt limits of embedding when they differ from training's: note parts of <see cref="EmbeddingNoteTokens"/>
    /// word pieces, with room for about 8 characters per word piece of content.
    /// </summary>
    public NotePromptLimits? EmbeddingLimits => EmbeddingNoteTokens is int window && window != NoteTokens
        ? TrainingLimits with { MaxNoteTokens = window, MaxContentCharacters = Math.Max(TrainingLimits.MaxContentCharacters, 8 * window) }
        : null;

    /// <summary>Seeds of the rows measured over several seeds; a single-seed row uses the first. --seeds 1,2,3.</summary>
    public IReadOnlyList<int> Seeds { get; init; } = [1, 2, 3];
    /// <summary>Peak learning rate of every trained row (null: <see cref="NoteLLMTrainerOptions.ForPretrainedEncoder"/>'s). --lr X.</summary>
    public double? LearningRate { get; init; }
    /// <summary>Learning rate of the encoder's pretrained weights as a share of <see cref="LearningRate"/> (null: the preset's). --pretrained-lr-share X.</summary>
    public double? PretrainedLearningRateShare { get; init; }
    /// <summary>
    /// alpha of L = (L_cl + alpha L_gen) / (1 + alpha) for the rows that train both losses (null: the preset's). --alpha X.
    /// </summary>
    public double? Alpha { get; init; }
    /// <summary>Initial GCL temperature tau, similarity scale exp(tau), of the rows that train the contrastive loss (null: the preset's). --tau X.</summary>
    public double? Tau { get; init; }
    /// <summary>What the CSFT loss averages over in the rows that train it (null: the preset's). --gen-loss per-token|per-note.</summary>
    public GenerationLossAverage? GenerationLoss { get; init; }
    /// <summary>
    /// Train notes added to every micro-batch of the rows that train CSFT, generating only (0: the pairs' notes alone, as
    /// before the option existed): drawn from all train notes. --csft-notes N.
    /// </summary>
    public int CsftNotes { get; init; } = 32;
    /// <summary>Tagged test notes whose category and hashtags are generated. --gen-notes N.</summary>
    public int GenerationNotes { get; init; } = 4535;
    /// <summary>Where each measured row is recorded as JSON. --rows-dir DIR.</summary>
    public string RowsDirectory { get; init; } = "docs/results-rows";
    /// <summary>Where <c>assemble</c> writes the tables (atomically). --output FILE.</summary>
    public string Output { get; init; } = "docs/results.md";

    public const string Usage =
        "usage: results list | row ID[,ID...] | missing | assemble; options: --data DIR (data/debian-notes), --steps N (300), --batch N (16), " +
        "--note-tokens N (48), --embedding-note-tokens N (128), --lr X, --pretrained-lr-share X, --alpha X, --tau X and --gen-loss per-token|per-note (the ForPretrainedEncoder preset's), " +
        "--csft-notes N (32), --seeds 1,2,3, --gen-notes N (4535: every tagged test note of the full split), " +
        "--rows-dir DIR (docs/results-rows), --output FILE (docs/results.md)";

    /// <summary>The training recipe every trained row shares: the preset with this invocation's budget and learning rates.</summary>
    public NoteLLMTrainerOptions Recipe
    {
        get
        {
            var preset = NoteLLMTrainerOptions.ForPretrainedEncoder;
            return preset with
            {
                BatchSize = BatchSize,
                MaxSteps = Steps,
                LearningRate = LearningRate ?? preset.LearningRate,
                PretrainedLearningRateShare = PretrainedLearningRateShare ?? preset.PretrainedLearningRateShare,
                Alpha = Alpha ?? preset.Alpha,
                InitialTau = Tau ?? preset.InitialTau,
                GenerationLossAverage = GenerationLoss ?? preset.GenerationLossAverage,
                GenerationNotesPerMicroBatch = CsftNotes,
            };
        }
    }

    /// <summary>
    /// The options that set the measurement (not where files go), recorded with every row so rows measured differently are
    /// told apart. The learning rates are spelled out, so a record stays comparable when the preset changes.
    /// </summary>
    public string Budget => $"--data {DataDirectory} --steps {Steps} --batch {BatchSize} --note-tokens {NoteTokens} --gen-notes {GenerationNotes}" +
        (EmbeddingNoteTokens is int embedding && embedding != NoteTokens ? $" --embedding-note-tokens {embedding}" : "") +
        $" --lr {Number(Recipe.LearningRate)} --pretrained-lr-share {Number(Recipe.PretrainedLearningRateShare)} --alpha {Number(Recipe.Alpha)} --tau {Number(Recipe.InitialTau)}" +
        $" --gen-loss {LossName(Recipe.GenerationLossAverage)} --csft-notes {CsftNotes}";

    private static string LossName(GenerationLossAverage average) => average == GenerationLossAverage.PerNote ? "per-note" : "per-token";

    /// <summary>Whether <paramref name="record"/> was measured with this budget (an untrained row: with this evaluation budget).</summary>
    public bool Measured(RowRecord record)
    {
        string[] independent = IndependentOf(record);
        string budget = Without(SpelledOut(record), independent), current = Without(Budget, independent);
        return budget == current
            || (!Trains(record) && EvaluationPart(budget) == EvaluationPart(current))
            || (ResultRows.Find(record.Id) is { ReadsNoteWindow: false } && DataPart(budget) == DataPart(current));
    }

    /// <summary>The budget <paramref name="record"/> was measured with, in today's spelling (options older records left implicit spelled out).</summary>
    public static string SpelledOut(RowRecord record) => WithLearningRates(WithEmbeddingWindow(record));

    // Records written before generation kept the training window named their longer window --inference-note-tokens and
    // generated from it too; for a row that does not generate, that window is the embedding window.
    private static string WithEmbeddingWindow(RowRecord record) =>
        record.Category is null ? record.Budget.Replace("--inference-note-tokens ", "--embedding-note-tokens ", StringComparison.Ordinal) : record.Budget;

    // untrained rows, and the ML.NET classifier, which trains no network
    private static bool Trains(RowRecord record) => record.Training is { Steps: > 0 };

    // The options a row's result does not depend on: the generation sample, unless the row generates; alpha weighs GCL
    // against CSFT, so it changes only the rows that train both (the contrastive-only baselines set it to 0 and the
    // w/o-GCL ablations weigh the contrastive loss 0); tau scales GCL's similarities, so it changes only the rows that
    // train GCL.
    private static string[] IndependentOf(RowRecord record)
    {
        var independent = new List<string>();
        if (record.Category is null) independent.Add("--gen-notes");
        if (record.Training is { Steps: > 0 } t)
        {
            if (t.Alpha == 0 || t.ContrastiveWeight == 0) independent.Add("--alpha");
            if (t.ContrastiveWeight == 0) independent.Add("--tau");
            if (t.Alpha == 0) independent.AddRange(["--gen-loss", "--csft-notes"]); // no CSFT
        }
        return [.. independent];
    }

    /// <summary>The initial tau of every record written before the budget spelled it out.</summary>
    public const double TauOfOlderRecords = 3.0;

    // Records written before the budget spelled out the learning rates, alpha and tau were all trained at 2e-4 with every
    // weight at the full rate, alpha 0.5 and tau 3, the only recipe of the pretrained encoder until then (and records
    // written before it spelled out tau, with tau 3); records written before --gen-loss and --csft-notes averaged L_gen
    // over tokens and trained CSFT on the pairs' notes alone.
    private static string WithLearningRates(string budget) =>
        budget + (budget.Contains("--lr ", StringComparison.Ordinal) ? "" : " --lr 0.0002")
               + (budget.Contains("--pretrained-lr-share ", StringComparison.Ordinal) ? "" : " --pretrained-lr-share 1")
               + (budget.Contains("--alpha ", StringComparison.Ordinal) ? "" : " --alpha 0.5")
               + (budget.Contains("--tau ", StringComparison.Ordinal) ? "" : $" --tau {Number(TauOfOlderRecords)}")
               + (budget.Contains("--gen-loss ", StringComparison.Ordinal) ? "" : " --gen-loss per-token")
               + (budget.Contains("--csft-notes ", StringComparison.Ordinal) ? "" : " --csft-notes 0");

    private static string Without(string budget, string[] options)
    {
        var words = budget.Split(' ');
        return string.Join(' ', words.Where((w, i) => !options.Contains(w) && (i == 0 || !options.Contains(words[i - 1]))));
    }

    private static string EvaluationPart(string budget) => Part(budget, "--data", "--note-tokens", "--embedding-note-tokens", "--gen-notes");

    // what a row that never builds a prompt depends on (TF-IDF, the encoder run by its authors' code, the classifier)
    private static string DataPart(string budget) => Part(budget, "--data", "--gen-notes");

    private static string Part(string budget, params string[] options)
    {
        var words = budget.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return string.Join(' ', words.Select((w, i) => (w, i))
            .Where(x => options.Contains(x.w) && x.i + 1 < words.Length)
            .Select(x => $"{x.w} {words[x.i + 1]}"));
    }

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <exception cref="ArgumentException">An unknown verb or option, a missing value, or a value out of range; the message names it.</exception>
    public static ResultsSettings Parse(string[] args)
    {
        if (args.Length == 0) return new ResultsSettings();
        var s = new ResultsSettings { Verb = args[0] };
        int first = 1;
        switch (args[0])
        {
            case "row":
                if (args.Length < 2 || args[1].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"results row needs row ids ({Usage})");
                s = s with { Rows = args[1].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) };
                first = 2;
                break;
            case "list" or "missing" or "assemble":
                break;
            default:
                throw new ArgumentException($"unknown verb '{args[0]}' ({Usage})");
        }
        for (int i = first; i < args.Length; i++)
        {
            string name = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"option {name} needs a value ({Usage})");
            double Positive() => double.TryParse(Value(), NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v > 0
                ? v : throw new ArgumentException($"option {name} expects a positive number, got '{args[i]}'");
            int Int() => int.TryParse(Value(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v > 0
                ? v : throw new ArgumentException($"option {name} expects a positive integer, got '{args[i]}'");
            s = name switch
            {
                "--data" => s with { DataDirectory = Value() },
                "--steps" => s with { Steps = Int() },
                "--batch" => s with { BatchSize = Int() },
                "--note-tokens" => s with { NoteTokens = Int() },
                "--embedding-note-tokens" => s with { EmbeddingNoteTokens = Int() },
                "--seeds" => s with
                {
                    Seeds = Value().Split(',').Select(x => int.TryParse(x, NumberStyles.Integer, CultureInfo.InvariantCulture, out int seed)
                        ? seed : throw new ArgumentException($"option --seeds expects integers separated by commas, got '{args[i]}'")).ToArray(),
                },
                "--gen-notes" => s with { GenerationNotes = Int() },
                "--lr" => s with { LearningRate = Positive() },
                "--pretrained-lr-share" => s with { PretrainedLearningRateShare = Positive() },
                "--alpha" => s with { Alpha = Positive() },
                "--tau" => s with { Tau = Positive() },
                "--gen-loss" => s with
                {
                    GenerationLoss = Value() switch
                    {
                        "per-token" => GenerationLossAverage.PerToken,
                        "per-note" => GenerationLossAverage.PerNote,
                        var other => throw new ArgumentException($"option --gen-loss expects per-token or per-note, got '{other}'"),
                    },
                },
                "--csft-notes" => s with
                {
                    CsftNotes = int.TryParse(Value(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n >= 0
                        ? n : throw new ArgumentException($"option --csft-notes expects a count >= 0, got '{args[i]}'"),
                },
                "--rows-dir" => s with { RowsDirectory = Value() },
                "--output" => s with { Output = Value() },
                _ => throw new ArgumentException($"unknown option '{name}' ({Usage})"),
            };
        }
        if (s.BatchSize < 2) throw new ArgumentException("--batch must be at least 2 (GCL needs in-batch negatives)");
        if (s.Seeds.Count == 0) throw new ArgumentException("--seeds needs at least one seed");
        var unknown = s.Rows.FirstOrDefault(r => ResultRows.Find(r) is null);
        if (unknown is not null) throw new ArgumentException($"unknown row '{unknown}'; rows: {string.Join(", ", ResultRows.All.Select(r => r.Id))}");
        return s;
    }
}
