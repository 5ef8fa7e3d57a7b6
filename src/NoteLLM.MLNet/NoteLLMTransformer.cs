using Microsoft.ML;
using Microsoft.ML.Runtime;
using NoteLLM.MLNet;
using NoteLLM.MLNet.Bundle;
using NoteLLM.MLNet.DataViews;
using NoteLLM.MLNet.Generation;
using NoteLLM.MLNet.Prompting;
using NoteLLM.MLNet.Runtime;
using TorchSharp;

[assembly: LoadableClass(typeof(NoteLLMTransformer), null, typeof(SignatureLoadModel), "NoteLLM", NoteLLMTransformer.LoaderSignature)]

namespace NoteLLM.MLNet;

/// <summary>
/// A fitted NoteLLM model as an ML.NET transformer. On an <see cref="IDataView"/> of notes (Title, Content,
/// Hashtags) it adds the note embedding (fixed-size float vector), the generated hashtags (Text vector) and the
/// generated category (Text), each optional. Lazy and batched: outputs are computed, <c>InferenceBatchSize</c>
/// rows per forward pass, only for the output columns a cursor reads. Works with <c>PredictionEngine</c> and
/// inside <c>TransformerChain</c>s, and saves weights, tokenizer, config, prompt templates and the legal category
/// list inside the ML.NET model zip (loaded back by <c>mlContext.Model.Load</c> in any app referencing this package).
/// </summary>
public sealed class NoteLLMTransformer : BatchedTransformerBase
{
    internal const string LoaderSignature = "NoteLLMTransformer";
    private const string ModelFolder = "notellm";
    // 0x00010002: adds ConstrainCategories (models written before decode freely, as they did)
    private const uint ConstrainedCategoriesVersion = 0x00010002;
    private static readonly ModelFormat ModelFormat = new("NOTELLMT", ConstrainedCategoriesVersion, 0x00010001, LoaderSignature, typeof(NoteLLMTransformer));

    private readonly Settings settings;
    private readonly NotePredictor predictor;
    private long emptyNotes;

    /// <summary>What the transformer needs besides the model; saved with it.</summary>
    internal sealed record Settings(
        string TitleColumn, string ContentColumn, string? HashtagsColumn, char[] HashtagSeparators,
        string EmbeddingColumn, string GeneratedHashtagsColumn, string GeneratedCategoryColumn, NoteOutputs Outputs,
        int BatchSize, int MaxNewTokens, double RepetitionPenalty, int GeneratedHashtagCount, bool ConstrainCategories)
    {
        public static Settings From(NoteLLMOptions o) => new(o.TitleColumnName, o.ContentColumnName, o.HashtagsColumnName, o.HashtagSeparators,
            o.EmbeddingColumnName, o.GeneratedHashtagsColumnName, o.GeneratedCategoryColumnName, o.Outputs,
            o.InferenceBatchSize, o.MaxNewTokens, o.RepetitionPenalty, o.GeneratedHashtagCount, o.ConstrainCategories);

        /// <summary>Throws, naming the option, when an inference setting is out of range.</summary>
        public void Validate()
        {
            if (Problem() is { } problem) throw new ArgumentOutOfRangeException(nameof(NoteLLMOptions), problem);
        }

        /// <summary>What is wrong with the inference settings, or null.</summary>
        public string? Problem() =>
            BatchSize < 1 ? $"NoteLLMOptions.{nameof(NoteLLMOptions.InferenceBatchSize)} is {BatchSize}; expected 1 or more."
            : MaxNewTokens < 1 ? $"NoteLLMOptions.{nameof(NoteLLMOptions.MaxNewTokens)} is {MaxNewTokens}; expected 1 or more."
            : GeneratedHashtagCount < 1 ? $"NoteLLMOptions.{nameof(NoteLLMOptions.GeneratedHashtagCount)} is {GeneratedHashtagCount}; expected 1 or more."
            : !double.IsFinite(RepetitionPenalty) || RepetitionPenalty <= 0 ? $"NoteLLMOptions.{nameof(NoteLLMOptions.RepetitionPenalty)} is {RepetitionPenalty}; expected a positive number (1: no penalty)."
            : null;

        /// <summary>The note columns the transformer reads; with a prefix, the related note's columns of a pair row.</summary>
        public IReadOnlyList<InputColumn> Inputs(string prefix = "") => HashtagsColumn is null
            ? [InputColumn.Text(prefix + TitleColumn), InputColumn.Text(prefix + ContentColumn)]
            : [InputColumn.Text(prefix + TitleColumn), InputColumn.Text(prefix + ContentColumn), InputColumn.TextList(prefix + HashtagsColumn, HashtagSeparators)];

        public IReadOnlyList<OutputColumn> OutputColumns(int embeddingDimension)
        {
            var columns = new List<OutputColumn>();
            if (Outputs.HasFlag(NoteOutputs.Embedding)) columns.Add(OutputColumn.FloatVector(EmbeddingColumn, embeddingDimension));
            if (Outputs.HasFlag(NoteOutputs.Hashtags)) columns.Add(OutputColumn.TextVector(GeneratedHashtagsColumn));
            if (Outputs.HasFlag(NoteOutputs.Category)) columns.Add(OutputColumn.Text(GeneratedCategoryColumn));
            if (columns.Count == 0) throw new ArgumentException("NoteLLMOptions.Outputs selects no output; choose Embedding, Hashtags and/or Category.");
            return columns;
        }
    }

    internal NoteLLMTransformer(IHostEnvironment env, NoteLLMModel model, Settings settings) : base(env, nameof(NoteLLMTransformer))
    {
        Model = model;
        this.settings = settings;
        predictor = new NotePredictor(model, new GreedyDecodingOptions { MaxNewTokens = settings.MaxNewTokens, RepetitionPenalty = settings.RepetitionPenalty },
            settings.GeneratedHashtagCount, settings.BatchSize, settings.ConstrainCategories);
        InputColumns = settings.Inputs();
        OutputColumns = settings.OutputColumns(model.EmbeddingDimension);
    }

    /// <summary>The underlying model (network, tokenizer, prompts, legal categories).</summary>
    public NoteLLMModel Model { get; }

    /// <summary>Size of the embedding vector.</summary>
    public int EmbeddingDimension => Model.EmbeddingDimension;

    /// <summary>Categories seen in training: a generated category outside this set is "illegal".</summary>
    public IReadOnlyList<string> Categories => Model.Categories;

    /// <summary>
    /// Notes with neither title nor content met so far (counted when their outputs are computed): they get the
    /// embedding of the prompt with empty fields and no generated text. The first one is reported once as a warning
    /// through ML.NET's log.
    /// </summary>
    public long EmptyNoteCount => Interlocked.Read(ref emptyNotes);

    public override IReadOnlyList<InputColumn> InputColumns { get; }
    public override IReadOnlyList<OutputColumn> OutputColumns { get; }
    public override int BatchSize => settings.BatchSize;
    protected override ModelFormat Format => ModelFormat;

    protected override void ComputeBatch(BatchInput input, BatchOutput output)
    {
        var titles = input.GetTexts(0);
        var contents = input.GetTexts(1);
        var hashtags = settings.HashtagsColumn is null ? default : input.GetTextLists(2);
        var notes = new NoteText[input.Count];
        for (int i = 0; i < notes.Length; i++)
            notes[i] = NoteText.Of(titles[i], contents[i], settings.HashtagsColumn is null ? null : hashtags[i]);
        int empty = notes.Count(Model.Prompts.HasNoText);
        if (empty > 0 && Interlocked.Add(ref emptyNotes, empty) == empty) // the first batch with one: reported once
        {
            using var ch = Host.Start("NoteLLM transform");
            ch.Warning($"A note has neither '{settings.TitleColumn}' nor '{settings.ContentColumn}' text (null, white space and characters the tokenizer drops read as empty). " +
                "NoteLLM gives such a note the embedding of the prompt with empty fields, an empty category and no hashtags; the other notes " +
                $"of its batch are unaffected. This warning is given once; {nameof(NoteLLMTransformer)}.{nameof(EmptyNoteCount)} counts such notes.");
        }

        var wanted = NoteOutputs.None;
        for (int c = 0; c < OutputColumns.Count; c++)
            if (output.IsRequested(c)) wanted |= KindOf(OutputColumns[c]);
        var predictions = predictor.Predict(notes, wanted);

        for (int c = 0; c < OutputColumns.Count; c++)
        {
            if (!output.IsRequested(c)) continue;
            switch (KindOf(OutputColumns[c]))
            {
                case NoteOutputs.Embedding:
                    for (int r = 0; r < notes.Length; r++) predictions[r].Embedding.AsSpan().CopyTo(output.GetFloatVector(c, r));
                    break;
                case NoteOutputs.Hashtags:
                    for (int r = 0; r < notes.Length; r++) output.GetTextVectors(c)[r] = predictions[r].Hashtags;
                    break;
                default:
                    for (int r = 0; r < notes.Length; r++) output.GetTexts(c)[r] = predictions[r].Category;
                    break;
            }
        }
    }

    private NoteOutputs KindOf(OutputColumn column) =>
        column.Name == settings.EmbeddingColumn && settings.Outputs.HasFlag(NoteOutputs.Embedding) ? NoteOutputs.Embedding
        : column.Name == settings.GeneratedHashtagsColumn && settings.Outputs.HasFlag(NoteOutputs.Hashtags) ? NoteOutputs.Hashtags
        : NoteOutputs.Category;

    protected override void SaveModel(ModelWriter writer)
    {
        var s = settings;
        writer.Write(s.TitleColumn); writer.Write(s.ContentColumn); writer.Write(s.HashtagsColumn);
        writer.Write(new string(s.HashtagSeparators));
        writer.Write(s.EmbeddingColumn); writer.Write(s.GeneratedHashtagsColumn); writer.Write(s.GeneratedCategoryColumn);
        writer.Write((int)s.Outputs); writer.Write(s.BatchSize); writer.Write(s.MaxNewTokens); writer.Write(s.RepetitionPenalty); writer.Write(s.GeneratedHashtagCount);
        writer.Write(s.ConstrainCategories ? 1 : 0);
        NoteLLMModelFiles.Save(Model, new ZipModelFileSink(writer, ModelFolder));
    }

    private static NoteLLMTransformer Create(IHostEnvironment env, ModelLoadContext ctx) =>
        ModelFormat.Load(env, ctx, reader =>
        {
            var settings = new Settings(reader.ReadString()!, reader.ReadString()!, reader.ReadString(), reader.ReadString()!.ToCharArray(),
                reader.ReadString()!, reader.ReadString()!, reader.ReadString()!, (NoteOutputs)reader.ReadInt32(),
                reader.ReadInt32(), reader.ReadInt32(), reader.ReadDouble(), reader.ReadInt32(),
                ConstrainCategories: reader.Version >= ConstrainedCategoriesVersion && reader.ReadInt32() != 0);
            if (settings.Problem() is { } problem) throw new InvalidDataException($"The saved transformer's settings are invalid: {problem}");
            var model = NoteLLMModelFiles.Load(new ZipModelFileSource(reader, ModelFolder));
            try
            {
                try { model.CheckPromptsFitPositions(settings.MaxNewTokens, hashtagCounts: settings.GeneratedHashtagCount); }
                catch (ArgumentOutOfRangeException e) { throw new InvalidDataException($"The saved model's prompt limits do not fit its backbone: {e.Message}", e); }
                using var ch = env.Register(nameof(NoteLLMTransformer)).Start("load");
                var device = TorchDevice.Select((env as IHostEnvironmentInternal)?.GpuDeviceId, (env as IHostEnvironmentInternal)?.FallbackToCpu ?? false, ch.Warning);
                if (CpuMatrixProducts.TakeAdvice(device, model.Backbone.Dtype) is { } advice) ch.Info($"NoteLLM: {advice}");
                if (device.type != DeviceType.CPU) model.Network.to(device);
                return new NoteLLMTransformer(env, model, settings);
            }
            catch
            {
                model.Dispose(); // its native tensors: an app that retries loads would hold them until finalizers ran
                throw;
            }
        });

    protected override void ReleaseResources() => Model.Dispose();
}
