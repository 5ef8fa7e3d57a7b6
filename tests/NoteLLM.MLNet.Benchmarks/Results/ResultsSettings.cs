using System.Globalization;

namespace NoteLLM.MLNet.Benchmarks.Results;

/// <summary>The sizes and switches of one <c>results</c> run, parsed from its command-line options.</summary>
sealed record ResultsSettings
{
    /// <summary>Dataset folder (notes.jsonl.gz, train-pairs.csv.gz, test-pairs.csv.gz). --data DIR, or --subset for data/debian-notes-subset.</summary>
    public string DataDirectory { get; init; } = "data/debian-notes";
    /// <summary>Optimizer steps of the NoteLLM row. --steps N.</summary>
    public int Steps { get; init; } = 600;
    /// <summary>Optimizer steps of each ablation row. --ablation-steps N (default: 40% of --steps, 240).</summary>
    public int AblationSteps { get; init; } = 240;
    /// <summary>Decoder hidden size. --hidden N.</summary>
    public int Hidden { get; init; } = 128;
    /// <summary>Decoder layers. --layers N.</summary>
    public int Layers { get; init; } = 2;
    /// <summary>Attention heads (also key/value heads). --heads N (default hidden / 32).</summary>
    public int Heads { get; init; } = 4;
    /// <summary>Note embedding size. --embedding N.</summary>
    public int EmbeddingDimension { get; init; } = 128;
    /// <summary>Pairs per optimizer step (one micro-batch). --batch N.</summary>
    public int BatchSize { get; init; } = 16;
    /// <summary>Peak learning rate. --lr X (5e-4: at 1e-3 the contrastive loss of this small model was unstable across seeds).</summary>
    public double LearningRate { get; init; } = 5e-4;
    /// <summary>CSFT weight alpha of the NoteLLM row and the GCL ablations (the "w/o CSFT" row uses 0). --alpha X (default 1, as the quick start; ForSmallModelFromScratch has 0.5).</summary>
    public double Alpha { get; init; } = 1;
    /// <summary>Tagged test notes whose category and hashtags are generated (Table 4's generation columns). --gen-notes N.</summary>
    public int GenerationNotes { get; init; } = 300;
    /// <summary>Most new tokens per generated category or hashtag list. --max-new-tokens N.</summary>
    public int MaxNewTokens { get; init; } = 24;
    /// <summary>Leave out the MiniLM row. --skip-minilm.</summary>
    public bool SkipMiniLm { get; init; }
    /// <summary>Leave out the ablation rows. --skip-ablations.</summary>
    public bool SkipAblations { get; init; }
    /// <summary>Where the tables are written (atomically). --output FILE.</summary>
    public string Output { get; init; } = "docs/results.md";
    /// <summary>Seed of the weights and data order. --seed N.</summary>
    public int Seed { get; init; }

    public const string Usage =
        "options: --subset | --data DIR, --steps N (600), --ablation-steps N (40% of --steps), --hidden N (128), --layers N (2), " +
        "--heads N (hidden/32), --embedding N (128), --batch N (16), --lr X (5e-4), --alpha X (1), --gen-notes N (300), --max-new-tokens N (24), " +
        "--skip-minilm, --skip-ablations, --output FILE (docs/results.md), --seed N (0)";

    /// <exception cref="ArgumentException">An unknown option, a missing value, or a value out of range; the message names it.</exception>
    public static ResultsSettings Parse(string[] args)
    {
        var s = new ResultsSettings();
        int? ablationSteps = null, heads = null;
        for (int i = 0; i < args.Length; i++)
        {
            string name = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"option {name} needs a value ({Usage})");
            int Int() => int.TryParse(Value(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v > 0
                ? v : throw new ArgumentException($"option {name} expects a positive integer, got '{args[i]}'");
            s = name switch
            {
                "--subset" => s with { DataDirectory = "data/debian-notes-subset" },
                "--data" => s with { DataDirectory = Value() },
                "--steps" => s with { Steps = Int() },
                "--ablation-steps" => s with { AblationSteps = (ablationSteps = Int()).Value },
                "--hidden" => s with { Hidden = Int() },
                "--layers" => s with { Layers = Int() },
                "--heads" => s with { Heads = (heads = Int()).Value },
                "--embedding" => s with { EmbeddingDimension = Int() },
                "--batch" => s with { BatchSize = Int() },
                "--lr" => s with
                {
                    LearningRate = double.TryParse(Value(), NumberStyles.Float, CultureInfo.InvariantCulture, out double lr) && lr > 0
                        ? lr : throw new ArgumentException($"option --lr expects a positive number, got '{args[i]}'"),
                },
                "--alpha" => s with
                {
                    Alpha = double.TryParse(Value(), NumberStyles.Float, CultureInfo.InvariantCulture, out double alpha) && alpha >= 0
                        ? alpha : throw new ArgumentException($"option --alpha expects a number >= 0, got '{args[i]}'"),
                },
                "--gen-notes" => s with { GenerationNotes = Int() },
                "--max-new-tokens" => s with { MaxNewTokens = Int() },
                "--skip-minilm" => s with { SkipMiniLm = true },
                "--skip-ablations" => s with { SkipAblations = true },
                "--output" => s with { Output = Value() },
                "--seed" => s with { Seed = int.Parse(Value(), CultureInfo.InvariantCulture) },
                _ => throw new ArgumentException($"unknown option '{name}' ({Usage})"),
            };
        }
        s = s with { AblationSteps = ablationSteps ?? Math.Max(1, s.Steps * 2 / 5), Heads = heads ?? Math.Max(1, s.Hidden / 32) };
        if (s.Hidden % s.Heads != 0) throw new ArgumentException($"--hidden {s.Hidden} must be a multiple of --heads {s.Heads}");
        if (s.BatchSize < 2) throw new ArgumentException("--batch must be at least 2 (GCL needs in-batch negatives)");
        return s;
    }
}
