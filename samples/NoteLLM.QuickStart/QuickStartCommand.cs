using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using NoteLLM.MLNet;
using NoteLLM.MLNet.Data;
using NoteLLM.MLNet.Evaluation;
using NoteLLM.MLNet.Generation;
using NoteLLM.MLNet.Modeling;
using NoteLLM.MLNet.Prompting;
using NoteLLM.MLNet.Retrieval;
using NoteLLM.MLNet.Runtime;
using NoteLLM.MLNet.Training;
using Npgsql;
using Spectre.Console;
using Spectre.Console.Cli;

namespace NoteLLM.QuickStart;

/// <summary>
/// The quick start: trains NoteLLM on the Debian notes' training pairs, evaluates it on the held-out split beside the
/// TF-IDF baseline, shows three test notes with their related notes and generated hashtags/category, and saves
/// model.zip with the note index the serving sample reads; with --postgres it also writes the indexed notes to a
/// PostgreSQL table (<see cref="PgVectorNoteIndex"/>) that the serving samples can read instead.
/// </summary>
public sealed class QuickStartCommand : Command<QuickStartSettings>
{
    /// <summary>Files written to the output folder (the serving sample reads the first three).</summary>
    public const string ModelFile = "model.zip", IndexFile = "note-index.bin", IndexNotesFile = "indexed-notes.jsonl",
        ExamplesFile = "example-notes.jsonl", LossChartFile = "training-loss.png", RecallChartFile = "recall-at-k.png";

    /// <summary>The table --postgres writes when --postgres-table does not name one.</summary>
    public const string DefaultPostgresTable = "note_embeddings";

    private static readonly int[] RecallCutoffs = [1, 5, 10, 20, 50, 100];
    private static readonly int[] AveragedCutoffs = [10, 20, 50, 100];

    public override int Execute(CommandContext context, QuickStartSettings settings, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            Run(settings);
        }
        catch (Exception e) when (e is UsageException or FileNotFoundException or DirectoryNotFoundException or InvalidDataException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
        AnsiConsole.MarkupLine($"[bold]Total wall time: {clock.Elapsed:m\\:ss} (min:s)[/]");
        return 0;
    }

    private static void Run(QuickStartSettings settings)
    {
        var ml = new MLContext(seed: settings.Seed);
        if (settings.Cuda)
        {
            ml.GpuDeviceId = 0;
            ml.FallbackToCpu = false;
            try { TorchDevice.Select(ml.GpuDeviceId, ml.FallbackToCpu); } // fail before minutes of work, with the library's advice
            catch (InvalidOperationException e) { throw new UsageException(e.Message); }
        }
        string output = Path.GetFullPath(settings.Output);
        var postgres = settings.Postgres is null ? null
            : new PgVectorNoteIndexOptions { ConnectionString = settings.Postgres, TableName = settings.PostgresTable ?? DefaultPostgresTable };
        // Reach the table before minutes of training: a wrong connection string or table name fails now.
        int? storedDimensions = postgres is null ? null : OnPostgres(postgres, "reach", () => PgVectorNoteIndex.StoredDimensions(postgres));

        // 1. data: notes, training pairs joined to their notes (the rows Fit takes), test pairs
        var data = DebianNotes.Load(DebianNotes.Locate(settings.Data), settings.TrainPairs);
        var join = RelatedPairJoin.Join(ml, data.Notes, data.TrainPairs);
        var testNotes = data.TestNotes.ToList();
        if (testNotes.Count == 0 || join.PairsJoined == 0)
            throw new UsageException($"Data folder '{data.Folder}' has {testNotes.Count} test notes (split \"test\") and {join.PairsJoined} training pairs whose notes it holds: the quick start needs both.");
        AnsiConsole.MarkupLine($"Data [blue]{Markup.Escape(Shown(data.Folder))}[/]: {data.Notes.Count:N0} notes ({data.TrainNotes.Count():N0} train, {testNotes.Count:N0} test), " +
            $"{join.PairsJoined:N0} training pairs joined ({join.PairsWithUnknownNote} with an unknown note), {data.TestPairs.Count:N0} test pairs");

        // 2. fit mlContext.Transforms.NoteLLM(options) with a progress bar fed by NoteLLMOptions.Progress
        var history = new List<TrainingProgress>();
        var options = Options(settings);
        // every train note also teaches the generation (CSFT only), not just the notes that happen to be in pairs
        options.GenerationNotes = ml.Data.LoadFromEnumerable(data.TrainNotes);
        NoteLLMTransformer model = null!;
        AnsiConsole.Progress().Columns(ProgressColumns()).Start(progress =>
        {
            var task = progress.AddTask("Training", maxValue: 1);
            options.Progress = new Reporter(p =>
            {
                history.Add(p);
                task.MaxValue = p.TotalSteps;
                task.Value = p.Step;
                task.Description = $"Training: epoch {p.Epoch}, loss {p.Loss:F3}";
            });
            model = ml.Transforms.NoteLLM(options).Fit(join.Rows);
            task.Value = task.MaxValue;
        });
        using var _ = model;
        if (history.Count > 0)
            AnsiConsole.MarkupLine($"Trained {history[^1].Step} steps in {history[^1].Elapsed:m\\:ss} ({history[^1].TokensPerSecond:N0} tokens/s); final loss {history[^1].Loss:F3}" +
                (history.LastOrDefault(p => p.ValidationLoss is not null) is { } v ? $", validation loss {v.ValidationLoss:F3} at step {v.Step}" : ""));

        // 3. embed the test notes; generate hashtags and category for the first notes
        var phase = Stopwatch.StartNew();
        var testView = ml.Data.LoadFromEnumerable(testNotes);
        var transformed = model.Transform(testView);
        var embeddings = ReadColumn<VBuffer<float>, float[]>(transformed, options.EmbeddingColumnName, testNotes.Count, "Embedding test notes", v => v.DenseValues().ToArray());
        var generatedFor = testNotes.Take(settings.GenerateNotes).ToList();
        var generatedView = model.Transform(ml.Data.LoadFromEnumerable(generatedFor));
        var generated = ReadGenerated(generatedView, options, generatedFor.Count);
        AnsiConsole.MarkupLine($"Embedded {testNotes.Count:N0} test notes and generated for {generatedFor.Count:N0} of them in {phase.Elapsed:m\\:ss}");

        // 4. evaluate: recall on the test pairs (NoteLLM and the TF-IDF baseline, same protocol), category and hashtags
        var testPairs = data.TestPairs.Select(p => (p.NoteId, p.RelatedNoteId)).ToList();
        var evaluation = new NoteLLMEvaluatorOptions { RecallCutoffs = RecallCutoffs, AveragedCutoffs = AveragedCutoffs };
        var noteLLMRecall = NoteLLMEvaluator.Evaluate(EmbeddingView(ml, testNotes.Select(n => n.Id).ToList(), embeddings), testPairs, evaluation);
        var tfIdf = new TfIdfEmbedder(ml, data.TrainNotes.Select(Text)).Embed(testNotes.Select(n => (n.Id, Text(n))).ToList());
        var tfIdfRecall = NoteLLMEvaluator.Evaluate(EmbeddingView(ml, tfIdf.Select(e => e.Id).ToList(), tfIdf.Select(e => e.Embedding).ToList()), testPairs, evaluation);
        var recallRows = new List<(string, RecallMetrics)> { ("NoteLLM", noteLLMRecall.Recall), ("TF-IDF baseline", tfIdfRecall.Recall) };
        var cosines = new List<(string, double)> { ("NoteLLM", NoteLLMEvaluator.MeanRandomPairCosine(embeddings)) };
        if (options.ResolvedBackbone == NoteLLMBackbone.PretrainedEncoder)
        {
            // the encoder NoteLLM started from, as its authors run it: is fine-tuning worth it?
            using var zeroShot = new PretrainedEncoderEmbedder(options.Encoder);
            var zeroShotEmbeddings = zeroShot.Embed(testNotes.Select(Text).ToList());
            string name = $"{options.Encoder.Name} zero-shot";
            recallRows.Add((name, NoteLLMEvaluator.Evaluate(EmbeddingView(ml, testNotes.Select(n => n.Id).ToList(), zeroShotEmbeddings), testPairs, evaluation).Recall));
            cosines.Add((name, NoteLLMEvaluator.MeanRandomPairCosine(zeroShotEmbeddings)));
        }
        var trueCategories = generatedFor.Select(n => (string?)n.Category).ToList();
        var category = NoteLLMEvaluator.EvaluateCategories(trueCategories, generated.Select(g => (string?)g.Category).ToList(), model.Categories);
        // the same model decoding freely, as the paper measures its illegal rate
        var free = new NotePredictor(model.Model, new GreedyDecodingOptions { MaxNewTokens = options.MaxNewTokens, RepetitionPenalty = options.RepetitionPenalty },
            batchSize: options.InferenceBatchSize, constrainCategories: false)
            .Predict(generatedFor.Select(n => NoteText.Of(n.Title, n.Content, n.Hashtags)).ToList(), NoteOutputs.Category);
        var freeCategory = NoteLLMEvaluator.EvaluateCategories(trueCategories, free.Select(p => p.Category).ToList(), model.Categories);
        var hashtags = NoteLLMEvaluator.EvaluateHashtags(generatedFor.Select(n => (IReadOnlyList<string>)n.Hashtags).ToList(), generated.Select(g => (IReadOnlyList<string>)g.Hashtags).ToList());
        Report.Metrics(recallRows, category, freeCategory, hashtags);
        Report.Spread(cosines);

        // 5. the note index over the test notes, and three test notes with their related notes
        using var index = new NoteIndex(model.EmbeddingDimension);
        index.Add(testNotes.Select(n => n.Id).ToList(), embeddings);
        var byId = data.Notes.ToDictionary(n => n.Id);
        var examples = I2IRecall.SelectQueries(testPairs).Select(q => q.Query).Distinct()
            .Select(id => generatedFor.FindIndex(n => n.Id == id)).Where(i => i >= 0).Take(3).ToList();
        foreach (int i in examples)
        {
            var note = generatedFor[i];
            var truth = data.TestPairs.Where(p => p.NoteId == note.Id).Select(p => p.RelatedNoteId)
                .Concat(data.TestPairs.Where(p => p.RelatedNoteId == note.Id).Select(p => p.NoteId)).ToHashSet();
            Report.Example(note, generated[i], index.RelatedNotes(note.Id, 5).Select(r => (r, byId[r.Id], truth.Contains(r.Id))).ToList());
        }

        // 6. save: model.zip, the index with its notes (ids -> titles for the serving app), the example notes, charts
        Directory.CreateDirectory(output);
        string modelPath = Path.Combine(output, ModelFile);
        string tempModel = modelPath + ".tmp";
        ml.Model.Save(model, testView.Schema, tempModel);
        File.Move(tempModel, modelPath, overwrite: true);
        index.Save(Path.Combine(output, IndexFile));
        NotesJsonlFile.Write(Path.Combine(output, IndexNotesFile), testNotes);
        NotesJsonlFile.Write(Path.Combine(output, ExamplesFile), examples.Select(i => generatedFor[i]));
        if (history.Count > 0) Charts.TrainingLoss(history, Path.Combine(output, LossChartFile));
        Charts.RecallAtK(recallRows, Path.Combine(output, RecallChartFile));
        AnsiConsole.MarkupLine($"Saved to [blue]{Markup.Escape(Shown(output))}[/]: {ModelFile}, {IndexFile} + {IndexNotesFile} ({index.Count:N0} notes), " +
            $"{ExamplesFile}, {LossChartFile}, {RecallChartFile}");

        // 7. with --postgres: the same notes in a PostgreSQL table, shared by every app server that connects to it
        if (postgres is not null)
        {
            if (storedDimensions is { } stored && stored != model.EmbeddingDimension)
                throw new UsageException($"PostgreSQL table {postgres.TableName} holds embeddings of {stored} values but this model's have {model.EmbeddingDimension}: " +
                    $"another model filled it. Pass another --postgres-table, or drop the table to fill it from this model (the files in '{Shown(output)}' are saved).");
            int held = OnPostgres(postgres, "write", () =>
            {
                using var shared = PgVectorNoteIndex.Open(model.EmbeddingDimension, postgres);
                shared.Upsert(testNotes.Select(n => n.Id).ToList(), embeddings); // a rerun replaces the embeddings it wrote
                return shared.Count;
            });
            AnsiConsole.MarkupLine($"Wrote {testNotes.Count:N0} notes to PostgreSQL table [blue]{Markup.Escape(postgres.TableName)}[/] ({held:N0} notes in it)");
        }
        AnsiConsole.MarkupLine($"Serve it: [grey]dotnet run -c Release --project samples/NoteLLM.Serving -- --model {Markup.Escape(Shown(modelPath))} --notes {Markup.Escape(Shown(Path.Combine(output, ExamplesFile)))}[/]");
        AnsiConsole.MarkupLine($"Or on the web: [grey]dotnet run -c Release --project samples/NoteLLM.Web -- --model {Markup.Escape(Shown(modelPath))}[/] (then open http://localhost:5000)");
    }

    // A failure of the database (unreachable, refused, a bad table name, a table that is not a note index) as the
    // one-line error of the other mistakes; the connection string, which may hold a password, is not repeated.
    private static T OnPostgres<T>(PgVectorNoteIndexOptions options, string what, Func<T> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or ArgumentException)
        {
            string reason = e.InnerException is { } inner && e is NpgsqlException ? $"{e.Message} ({inner.Message})" : e.Message;
            throw new UsageException($"Could not {what} PostgreSQL table {options.TableName} (--postgres): {reason}");
        }
    }

    // A path as the reader typed it: relative to the working directory, unless it lies outside it.
    private static string Shown(string path)
    {
        string relative = Path.GetRelativePath(Directory.GetCurrentDirectory(), path);
        return relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative) ? Path.GetFullPath(path) : relative;
    }

    /// <summary>
    /// The backbone chosen on the command line with its preset (<see cref="NoteLLMTrainerOptions.For"/>), sized for
    /// minutes on 2 CPU cores. Pretrained encoder: 100 steps of 16 pairs with note parts of at
    /// most 48 word pieces, embeddings of the encoder's hidden size, and one generation-only note per pair where the
    /// preset takes two: on a slow 2-core machine two per pair took 10:14 with an incremental build (category 53% and avg recall
    /// 67.9 against 51% and 67.7), over the quick start's ten minutes. From scratch: a 2-layer, d=128
    /// decoder over the GPT-2 vocabulary, batches of 8 pairs at learning rate 5e-4 and alpha 1, 2 epochs, note parts of
    /// 64 tokens, 64-dimensional embeddings. With --checkpoint: the paper's fine-tuning values and prompt limits.
    /// </summary>
    private static NoteLLMOptions Options(QuickStartSettings settings)
    {
        var backbone = settings.Checkpoint is not null ? NoteLLMBackbone.HuggingFaceCheckpoint
            : settings.Backbone == "scratch" ? NoteLLMBackbone.DecoderFromScratch : NoteLLMBackbone.PretrainedEncoder;
        var training = backbone switch
        {
            NoteLLMBackbone.PretrainedEncoder => NoteLLMTrainerOptions.ForPretrainedEncoder with { BatchSize = EncoderBatch, MaxSteps = EncoderSteps, GenerationNotesPerMicroBatch = EncoderBatch },
            NoteLLMBackbone.DecoderFromScratch => NoteLLMTrainerOptions.ForSmallModelFromScratch with { BatchSize = 8, LearningRate = 5e-4, Alpha = 1, Epochs = 2, EmbeddingDimension = 64 },
            _ => new NoteLLMTrainerOptions(),
        };
        return new NoteLLMOptions
        {
            Backbone = backbone,
            Encoder = settings.Backbone == "arctic" ? PretrainedEncoder.ArcticXs : PretrainedEncoder.MiniLM,
            EmbeddingReadout = settings.Readout switch
            {
                "token-before-emb" => EmbeddingReadout.TokenBeforeEmb,
                "emb-token" => EmbeddingReadout.EmbToken,
                "mean" => EmbeddingReadout.MeanPooling,
                "first" => EmbeddingReadout.FirstToken,
                _ => null,
            },
            HuggingFaceCheckpoint = settings.Checkpoint,
            FromScratch = new DecoderConfig
            {
                HiddenSize = 128,
                IntermediateSize = 344,
                NumHiddenLayers = 2,
                NumAttentionHeads = 4,
                NumKeyValueHeads = 4,
                MaxPositionEmbeddings = 512,
                TieWordEmbeddings = true,
            },
            PromptLimits = backbone switch
            {
                NoteLLMBackbone.PretrainedEncoder => new NotePromptLimits { MaxNoteTokens = EncoderNoteTokens },
                NoteLLMBackbone.DecoderFromScratch => new NotePromptLimits { MaxNoteTokens = 64 },
                _ => new NotePromptLimits(),
            },
            // trained on short notes (what 2 cores afford), the encoder embeds longer ones better (docs/results.md)
            EmbeddingPromptLimits = backbone == NoteLLMBackbone.PretrainedEncoder ? new NotePromptLimits { MaxNoteTokens = EncoderEmbeddingNoteTokens } : null,
            Training = training with
            {
                BatchSize = settings.Batch ?? training.BatchSize,
                MaxSteps = settings.Steps ?? training.MaxSteps,
                Epochs = settings.Epochs ?? training.Epochs,
                LearningRate = settings.LearningRate ?? training.LearningRate,
                PretrainedLearningRateShare = settings.PretrainedLearningRateShare ?? training.PretrainedLearningRateShare,
                LogEverySteps = 1,
            },
            MaxNewTokens = 16,
        };
    }

    private const int EncoderSteps = 100, EncoderBatch = 16, EncoderNoteTokens = 48, EncoderEmbeddingNoteTokens = 128;

    private static string Text(NoteRecord note) => note.Title + "\n" + note.Content;

    private static ProgressColumn[] ProgressColumns() =>
        [new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn()];

    /// <summary>Reads one column of <paramref name="view"/> row by row, advancing a progress bar (the transformer computes lazily, in batches).</summary>
    private static List<TOut> ReadColumn<TValue, TOut>(IDataView view, string column, int rows, string what, Func<TValue, TOut> convert)
    {
        var values = new List<TOut>(rows);
        AnsiConsole.Progress().Columns(ProgressColumns()).Start(progress =>
        {
            var task = progress.AddTask(what, maxValue: rows);
            using var cursor = view.GetRowCursor([view.Schema[column]]);
            var getter = cursor.GetGetter<TValue>(view.Schema[column]);
            TValue value = default!;
            while (cursor.MoveNext())
            {
                getter(ref value);
                values.Add(convert(value));
                task.Increment(1);
            }
        });
        return values;
    }

    /// <summary>Generated hashtags and category of each row.</summary>
    private static List<(string[] Hashtags, string Category)> ReadGenerated(IDataView view, NoteLLMOptions options, int rows)
    {
        var result = new List<(string[], string)>(rows);
        AnsiConsole.Progress().Columns(ProgressColumns()).Start(progress =>
        {
            var task = progress.AddTask("Generating hashtags and category", maxValue: rows);
            var hashtagsColumn = view.Schema[options.GeneratedHashtagsColumnName];
            var categoryColumn = view.Schema[options.GeneratedCategoryColumnName];
            using var cursor = view.GetRowCursor([hashtagsColumn, categoryColumn]);
            var hashtags = cursor.GetGetter<VBuffer<ReadOnlyMemory<char>>>(hashtagsColumn);
            var category = cursor.GetGetter<ReadOnlyMemory<char>>(categoryColumn);
            VBuffer<ReadOnlyMemory<char>> tags = default;
            ReadOnlyMemory<char> text = default;
            while (cursor.MoveNext())
            {
                hashtags(ref tags);
                category(ref text);
                result.Add((tags.DenseValues().Select(t => t.ToString()).ToArray(), text.ToString()));
                task.Increment(1);
            }
        });
        return result;
    }

    private sealed class EmbeddedNote
    {
        public string Id { get; set; } = "";
        public float[] Embedding { get; set; } = [];
    }

    /// <summary>Id + fixed-size Embedding rows: what the evaluator ranks.</summary>
    private static IDataView EmbeddingView(MLContext ml, IReadOnlyList<string> ids, IReadOnlyList<float[]> embeddings)
    {
        var schema = SchemaDefinition.Create(typeof(EmbeddedNote));
        schema[nameof(EmbeddedNote.Embedding)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, embeddings[0].Length);
        return ml.Data.LoadFromEnumerable(ids.Select((id, i) => new EmbeddedNote { Id = id, Embedding = embeddings[i] }), schema);
    }

    /// <summary>Reports synchronously on the trainer's thread (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class Reporter(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
