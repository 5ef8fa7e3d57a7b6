using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using NoteLLM.MLNet.Bundle;
using NoteLLM.MLNet.DataViews;
using NoteLLM.MLNet.Generation;
using NoteLLM.MLNet.Modeling;
using NoteLLM.MLNet.Prompting;
using NoteLLM.MLNet.Runtime;
using NoteLLM.MLNet.Training;
using TorchSharp;

namespace NoteLLM.MLNet;

/// <summary>
/// Fits NoteLLM (GCL + CSFT) on related-note pairs. The input has one row per pair: the note's columns (Title,
/// Content, Hashtags, Category, optionally Id) and the related note's under <see cref="NoteLLMOptions.RelatedColumnPrefix"/>
/// (RelatedTitle, RelatedContent, ...). Runs on the GPU when <c>MLContext.GpuDeviceId</c> is set and CUDA is
/// available, on the CPU otherwise (see <see cref="TorchDevice"/>). Progress goes to ML.NET's log channel and
/// to <see cref="NoteLLMOptions.Progress"/>; <c>MLContext</c>'s seed, when set, seeds the training.
/// <c>mlContext.CancelExecution()</c> stops <c>Fit</c> before its next step with <see cref="OperationCanceledException"/>,
/// after writing a checkpoint when <see cref="NoteLLMTrainerOptions.CheckpointDirectory"/> is set.
/// </summary>
public sealed class NoteLLMEstimator : IEstimator<NoteLLMTransformer>
{
    private readonly IHost host;
    private readonly NoteLLMOptions options;
    private readonly NoteLLMTransformer.Settings settings;

    internal NoteLLMEstimator(IHostEnvironment env, NoteLLMOptions options)
    {
        host = env.Register(nameof(NoteLLMEstimator));
        this.options = options ?? throw new ArgumentNullException(nameof(options));
        if (options.Backbone == NoteLLMBackbone.HuggingFaceCheckpoint && options.HuggingFaceCheckpoint is null)
            throw new ArgumentException("NoteLLMOptions.Backbone is HuggingFaceCheckpoint but NoteLLMOptions.HuggingFaceCheckpoint names no folder.", nameof(options));
        options.ResolvedTraining.Validate();
        options.PromptLimits.Validate($"{nameof(NoteLLMOptions)}.{nameof(NoteLLMOptions.PromptLimits)}");
        options.EmbeddingPromptLimits?.Validate($"{nameof(NoteLLMOptions)}.{nameof(NoteLLMOptions.EmbeddingPromptLimits)}");
        settings = NoteLLMTransformer.Settings.From(options);
        settings.Validate(); // before training, not after it
        settings.OutputColumns(options.ResolvedTraining.EmbeddingDimension); // refuses "no outputs" up front
    }

    public NoteLLMTransformer Fit(IDataView input) => Fit(input, validationPairs: null);

    /// <summary>Fits on <paramref name="trainPairs"/>, computing the validation loss on <paramref name="validationPairs"/> (else on a held-out share of the training pairs).</summary>
    public NoteLLMTransformer Fit(IDataView trainPairs, IDataView? validationPairs)
    {
        ArgumentNullException.ThrowIfNull(trainPairs);
        using var ch = host.Start("NoteLLM training");
        var report = new TrainingDataReport();
        var pairs = ReadPairs(trainPairs, "training", report);
        var validation = validationPairs is null ? null : ReadPairs(validationPairs, "validation", new TrainingDataReport());
        var generationNotes = options.GenerationNotes is null ? null : ReadGenerationNotes(options.GenerationNotes);

        var env = host as IHostEnvironmentInternal;
        var device = TorchDevice.Select(env?.GpuDeviceId, env?.FallbackToCpu ?? false, ch.Warning);
        var dtype = TorchDevice.ParsePrecision(options.Precision);
        int seed = env?.Seed ?? options.ResolvedTraining.Seed;
        var training = options.ResolvedTraining with { Seed = seed };
        int dim = training.EmbeddingDimension;
        var readout = options.ResolvedEmbeddingReadout;
        var templates = options.ResolvedPromptTemplates;

        var backbone = options.ResolvedBackbone;
        ch.Info($"NoteLLM: {backbone switch
        {
            NoteLLMBackbone.PretrainedEncoder => $"fine-tuning the pretrained encoder {options.Encoder} as a prefix LM",
            NoteLLMBackbone.HuggingFaceCheckpoint => $"fine-tuning '{options.HuggingFaceCheckpoint}'",
            _ => "training a decoder from scratch",
        }} on {device.type}, {dtype}; embedding read-out {readout}; {(templates == NotePromptTemplates.ForSentenceEncoder ? "the sentence encoder's prompt (no instruction, plain note text)" : templates == new NotePromptTemplates() ? "the paper's prompt" : "the prompt templates given")}");
        ch.Info($"NoteLLM training options ({(options.Training is null ? $"the {backbone} preset" : "as given")}): {training}");
        if (CpuMatrixProducts.TakeAdvice(device, dtype) is { } advice) ch.Info($"NoteLLM: {advice}");
        var model = backbone switch
        {
            NoteLLMBackbone.PretrainedEncoder => NoteLLMModel.FromPretrainedEncoder(options.Encoder, dim, templates, options.PromptLimits, seed, training.InitialTau, readout),
            NoteLLMBackbone.HuggingFaceCheckpoint => NoteLLMModel.FromHuggingFace(options.HuggingFaceCheckpoint!, dim, dtype, templates, options.PromptLimits, seed, training.InitialTau, readout),
            _ => NoteLLMModel.CreateFromScratch(options.FromScratch, dim, templates: templates, limits: options.PromptLimits, seed: seed, initialTau: training.InitialTau, readout: readout),
        };
        try
        {
            // a prompt past BERT's 512 learned positions would fail in torch after training, or in its first step
            var embeddingPrompts = options.EmbeddingPromptLimits is { } limits ? new NotePromptBuilder(model.Tokenizer, model.Prompts.Templates, limits) : null;
            model.CheckPromptsFitPositions(settings.MaxNewTokens, embeddingPrompts, Math.Max(settings.GeneratedHashtagCount, training.MaxHashtagsPerPrompt));
            if (model.Backbone.Dtype != dtype) model.Network.to(dtype);
            if (device.type != DeviceType.CPU) model.Network.to(device);
            new NoteLLMTrainer(model, training, ch.Info, options.Progress) { CheckAlive = host.CheckAlive, FingerprintsStartingWeights = true }.Train(pairs, validation, report: report, generationNotes: generationNotes);
            WarnOfUnlearnedOutputs(ch, model.LearnedTasks, training);
            if (options.EmbeddingPromptLimits is { } embedding && embedding != options.PromptLimits)
            {
                ch.Info($"NoteLLM: the fitted model embeds with {embedding} (trained and generates with {options.PromptLimits})");
                model.UseEmbeddingPromptLimits(embedding);
            }
            return new NoteLLMTransformer(host, model, settings);
        }
        catch { model.Dispose(); throw; }
    }

    // An output column the fitted model can only leave empty: nothing in training taught its task.
    private void WarnOfUnlearnedOutputs(IChannel ch, GenerationTasks learned, NoteLLMTrainerOptions training)
    {
        foreach (var (task, output, column, input) in new[]
        {
            (GenerationTasks.Category, NoteOutputs.Category, settings.GeneratedCategoryColumn, options.CategoryColumnName),
            (GenerationTasks.Hashtags, NoteOutputs.Hashtags, settings.GeneratedHashtagsColumn, options.HashtagsColumnName),
        })
        {
            if (!options.Outputs.HasFlag(output) || learned.HasFlag(task)) continue;
            string why = training.Alpha == 0 ? "the training options' Alpha is 0, which trains no generation"
                : input is null ? $"the options name no input column for it ({(task == GenerationTasks.Category ? nameof(options.CategoryColumnName) : nameof(options.HashtagsColumnName))} is null)"
                : $"no training note took that task, which needs notes with '{input}'" +
                  (task == GenerationTasks.Category && training.HashtagTaskRatio == 1 ? " and no hashtags (HashtagTaskRatio is 1)"
                  : task == GenerationTasks.Hashtags && training.HashtagTaskRatio == 0 ? " and no category (HashtagTaskRatio is 0)" : "");
            ch.Warning($"NoteLLM did not learn to generate '{column}': {why}. The column will be empty for every note; " +
                $"leave {output} out of NoteLLMOptions.Outputs to drop it.");
        }
    }

    public SchemaShape GetOutputSchema(SchemaShape inputSchema) => OutputColumn.GetOutputSchema(inputSchema,
        settings.Inputs(), settings.OutputColumns(options.ResolvedTraining.EmbeddingDimension));

    // Reads every pair row into NotePairs, after checking the whole schema up front.
    private List<NotePair> ReadPairs(IDataView data, string what, TrainingDataReport report)
    {
        string related = options.RelatedColumnPrefix;
        var columns = NoteColumns("").Concat(NoteColumns(related)).ToList();
        try
        {
            foreach (var column in columns) column.Check(data.Schema);
        }
        catch (ArgumentOutOfRangeException e) when (what != "training")
        {
            throw new ArgumentOutOfRangeException(e.ParamName, $"The {what} data: {e.Message.Replace($" (Parameter '{e.ParamName}')", "")}");
        }
        // an id column of another type (a long from a text loader) was ignored without a word, and notes were told apart by text
        foreach (string name in new[] { options.IdColumnName, related + options.IdColumnName })
            if (data.Schema.GetColumnOrNull(name) is { } id && id.Type is not TextDataViewType)
                throw new ArgumentOutOfRangeException(name, $"The {what} data's column '{name}' is {id.Type}; note ids must be Text " +
                    $"(convert it, e.g. with mlContext.Transforms.Conversion.ConvertType, or name another column in NoteLLMOptions.{nameof(NoteLLMOptions.IdColumnName)}).");
        bool hasIds = data.Schema.GetColumnOrNull(options.IdColumnName) is not null && data.Schema.GetColumnOrNull(related + options.IdColumnName) is not null;
        if (hasIds) columns.AddRange([InputColumn.Text(options.IdColumnName), InputColumn.Text(related + options.IdColumnName)]);

        var pairs = new List<NotePair>();
        using var cursor = data.GetRowCursor(columns.Select(c => data.Schema[c.Name]));
        var first = NoteGetter(cursor, columns, ""); var second = NoteGetter(cursor, columns, related);
        var firstId = hasIds ? columns.First(c => c.Name == options.IdColumnName).CreateTextGetter(cursor) : null;
        var secondId = hasIds ? columns.First(c => c.Name == related + options.IdColumnName).CreateTextGetter(cursor) : null;
        while (cursor.MoveNext())
        {
            var a = first(); var b = second();
            string? idA = firstId?.Invoke(), idB = secondId?.Invoke();
            if (hasIds && (string.IsNullOrWhiteSpace(idA) || string.IsNullOrWhiteSpace(idB)) && (a.IsEmpty || b.IsEmpty))
            {
                report.PairsIn++; report.PairsWithUnknownNote++; // a pair row left unfilled by a join: the note is unknown
                continue;
            }
            pairs.Add(new NotePair(idA, a, idB, b));
        }
        if (pairs.Count == 0 && report.PairsIn == 0)
            throw new ArgumentException($"The {what} data has no rows: NoteLLM needs related-note pairs, one per row, with columns " +
                $"{string.Join(", ", columns.Select(c => c.Name))}.", nameof(data));
        return pairs;
    }

    // Reads NoteLLMOptions.GenerationNotes, one note per row, after checking its schema up front.
    private List<NoteText> ReadGenerationNotes(IDataView data)
    {
        var columns = NoteColumns("").ToList();
        foreach (var column in columns)
        {
            try { column.Check(data.Schema); }
            catch (ArgumentOutOfRangeException e) { throw new ArgumentOutOfRangeException(nameof(NoteLLMOptions.GenerationNotes), $"NoteLLMOptions.GenerationNotes: {e.Message}"); }
        }
        var notes = new List<NoteText>();
        using var cursor = data.GetRowCursor(columns.Select(c => data.Schema[c.Name]));
        var note = NoteGetter(cursor, columns, "");
        while (cursor.MoveNext()) notes.Add(note());
        return notes;
    }

    // The columns of one note under a prefix: title, content, hashtags and category (those the options name).
    private IEnumerable<InputColumn> NoteColumns(string prefix) => options.CategoryColumnName is null
        ? settings.Inputs(prefix)
        : settings.Inputs(prefix).Append(InputColumn.Text(prefix + options.CategoryColumnName));

    private Func<NoteText> NoteGetter(DataViewRowCursor cursor, List<InputColumn> columns, string prefix)
    {
        InputColumn Column(string name) => columns.First(c => c.Name == prefix + name);
        var title = Column(options.TitleColumnName).CreateTextGetter(cursor);
        var content = Column(options.ContentColumnName).CreateTextGetter(cursor);
        var hashtags = options.HashtagsColumnName is null ? null : Column(options.HashtagsColumnName).CreateTextListGetter(cursor);
        var category = options.CategoryColumnName is null ? null : Column(options.CategoryColumnName).CreateTextGetter(cursor);
        return () => NoteText.Of(title(), content(), hashtags?.Invoke(), category?.Invoke());
    }
}
