using NoteLLM.MLNet.Bundle;
using NoteLLM.MLNet.Modeling;
using NoteLLM.MLNet.Prompting;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Generation;

/// <summary>What NoteLLM produces for one note (null for outputs not requested).</summary>
public sealed record NotePrediction(float[]? Embedding, string? Category, string[]? Hashtags);

/// <summary>
/// Inference with a trained <see cref="NoteLLMModel"/>: the note embedding (hidden state of the token before [EMB],
/// projected and normalised; paper section 3.2), the generated category and the generated hashtags (greedy decoding;
/// paper section 4.1). Embeddings come from prompts that end right before [EMB] (built by the model's
/// <see cref="NoteLLMModel.EmbeddingPrompts"/>) or, when categories are generated too from prompts of the same limits,
/// from the category prompt's forward pass (the same tokens up to [EMB]); either way a note's embedding does not depend
/// on the other notes of its batch beyond floating-point noise. With <paramref name="constrainCategories"/> (the
/// default) the generated category is always one of the model's <see cref="NoteLLMModel.Categories"/>: decoding is
/// constrained to their token sequences (<see cref="AllowedOutputs"/>); without it the decoding is free, which is what
/// the paper's illegal rate measures.
/// </summary>
public sealed class NotePredictor(NoteLLMModel model, GreedyDecodingOptions? decoding = null, int hashtagCount = 3, int batchSize = 16,
    bool constrainCategories = true)
{
    // null when decoding is free, or when the model knows no categories to choose from
    private readonly AllowedOutputs? categoryOutputs = constrainCategories && model.Categories.Count > 0
        ? new AllowedOutputs(model.Categories, model.Tokenizer.EncodeContinuation) : null;

    public NoteLLMModel Model { get; } = model;
    public GreedyDecodingOptions Decoding { get; } = decoding ?? new GreedyDecodingOptions();
    /// <summary>j of the hashtag prompt at inference (default 3).</summary>
    public int HashtagCount { get; } = hashtagCount > 0 ? hashtagCount : throw new ArgumentOutOfRangeException(nameof(hashtagCount));
    /// <summary>Notes per forward pass (default 16).</summary>
    public int BatchSize { get; } = batchSize > 0 ? batchSize : throw new ArgumentOutOfRangeException(nameof(batchSize));
    /// <summary>Whether generated categories are restricted to the model's categories (default true).</summary>
    public bool ConstrainCategories { get; } = constrainCategories;

    /// <summary>
    /// The <paramref name="outputs"/> of every note. A note with no text (<see cref="NotePromptBuilder.HasNoText"/>:
    /// neither title nor content, or only characters the tokenizer drops) has nothing to generate from: it gets the embedding of its prompt with empty fields and an empty category and
    /// hashtag list, computed apart from the other notes so that their outputs are those of a batch without it. A
    /// generation task the model did not learn (<see cref="NoteLLMModel.LearnedTasks"/>) gives every note an empty
    /// category or no hashtags.
    /// </summary>
    public IReadOnlyList<NotePrediction> Predict(IReadOnlyList<NoteText> notes, NoteOutputs outputs = NoteOutputs.All)
    {
        var result = new NotePrediction[notes.Count];
        // a generation task the model did not learn gives nothing (NoteLLMModel.LearnedTasks) and costs no decoding
        var notLearned = outputs & ~Learned(Model.LearnedTasks) & (NoteOutputs.Category | NoteOutputs.Hashtags);
        outputs &= ~notLearned;
        var noText = notes.Select(Model.Prompts.HasNoText).ToArray();
        var empty = Enumerable.Range(0, notes.Count).Where(i => noText[i]).ToList();
        var others = Enumerable.Range(0, notes.Count).Where(i => !noText[i]).ToList();
        foreach (var rows in empty.Chunk(BatchSize))
        {
            var embeddings = outputs.HasFlag(NoteOutputs.Embedding) ? Embed(rows.Select(i => notes[i]).ToList()) : null;
            for (int i = 0; i < rows.Length; i++)
                result[rows[i]] = new NotePrediction(embeddings?[i], outputs.HasFlag(NoteOutputs.Category) ? "" : null, outputs.HasFlag(NoteOutputs.Hashtags) ? [] : null);
        }
        foreach (var rows in others.Chunk(BatchSize))
        {
            var chunk = rows.Select(i => notes[i]).ToList();
            float[][]? embeddings = null;
            string[]? categories = null;
            bool embedInCategoryPass = outputs.HasFlag(NoteOutputs.Category) && Model.EmbedsWithTrainingPrompts;
            if (outputs.HasFlag(NoteOutputs.Category)) (categories, embeddings) = GenerateCategories(chunk, embedInCategoryPass && outputs.HasFlag(NoteOutputs.Embedding));
            if (outputs.HasFlag(NoteOutputs.Embedding) && !embedInCategoryPass) embeddings = Embed(chunk);
            var hashtags = outputs.HasFlag(NoteOutputs.Hashtags)
                ? Generate(chunk, PromptTask.Hashtags(HashtagCount), allowed: null).Select(t => Model.Prompts.ParseHashtags(Model.Tokenizer.Decode(t))).ToArray()
                : null;
            for (int i = 0; i < rows.Length; i++)
                result[rows[i]] = new NotePrediction(embeddings?[i], categories?[i], hashtags?[i]);
        }
        if (notLearned != NoteOutputs.None)
            for (int i = 0; i < result.Length; i++)
                result[i] = result[i] with
                {
                    Category = notLearned.HasFlag(NoteOutputs.Category) ? "" : result[i].Category,
                    Hashtags = notLearned.HasFlag(NoteOutputs.Hashtags) ? [] : result[i].Hashtags,
                };
        return result;
    }

    private static NoteOutputs Learned(GenerationTasks tasks) =>
        (tasks.HasFlag(GenerationTasks.Category) ? NoteOutputs.Category : NoteOutputs.None) | (tasks.HasFlag(GenerationTasks.Hashtags) ? NoteOutputs.Hashtags : NoteOutputs.None);

    /// <summary>Unit-length embeddings [notes][EmbeddingDimension].</summary>
    public float[][] Embed(IReadOnlyList<NoteText> notes)
    {
        if (notes.Count == 0) return [];
        var network = Model.Network;
        var prompts = notes.Select(n => Model.EmbeddingPrompts.Build(n, PromptTask.Category, output: null)).ToArray();
        var lengths = prompts.Select(p => network.ReadoutLength(p.EmbeddingPosition)).ToArray(); // the prompt up to what the read-out needs
        var (ids, mask, length) = LanguageBackbone.RightPadded(prompts.Select(p => (IReadOnlyList<int>)p.Ids).ToList(), Model.Tokenizer.PadTokenId, lengths);

        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var device = Model.Backbone.Device;
        var embeddingPositions = tensor(prompts.Select(p => (long)p.EmbeddingPosition).ToArray(), device: device);
        // right padding: a causal decoder needs no mask; a bidirectional prompt must not see the padding
        var hidden = Model.Backbone.Forward(tensor(ids, [prompts.Length, length], device: device),
            Model.Backbone.BidirectionalPrompt ? tensor(mask, [prompts.Length, length], device: device) : null,
            promptEnds: embeddingPositions + 1);                                                           // [N, L, D]
        return Rows(network.EmbeddingsOf(hidden, prompts).cpu()); // [N, E]
    }

    // The embedding prompt is the category prompt up to [EMB] (paper section 3.2), so with both outputs wanted (and one
    // set of prompt limits) the embedding is read from the category prompt's own forward pass instead of a pass of its own.
    private (string[] Categories, float[][]? Embeddings) GenerateCategories(IReadOnlyList<NoteText> notes, bool withEmbeddings)
    {
        if (!withEmbeddings) return (Generate(notes, PromptTask.Category, categoryOutputs).Select(CategoryOf).ToArray(), null);
        var prompts = notes.Select(n => Model.Prompts.Build(n, PromptTask.Category, output: null)).ToList();
        var (tokens, states) = GreedyDecoder.GenerateReadingPrompt(Model.Backbone, prompts.Select(p => (IReadOnlyList<int>)p.Ids).ToList(),
            prompts.Select(p => p.EmbeddingPosition + 1).ToList(), Model.Tokenizer.EosTokenId, Model.Tokenizer.PadTokenId, Decoding, categoryOutputs);
        using (states)
        using (no_grad())
        using (NewDisposeScope())
        {
            // the states are right-aligned: prompt r starts at column L - |prompt r|
            long length = states.shape[1];
            var starts = prompts.Select(p => length - p.Ids.Length).ToArray();
            var embeddings = Model.Network.EmbeddingsOf(states, prompts, starts).cpu(); // [N, E]
            return (tokens.Select(CategoryOf).ToArray(), Rows(embeddings));
        }
    }

    // a constrained decode names its category exactly (decoding an uncased tokenizer's tokens would lower-case it)
    private string CategoryOf(int[] tokens) => categoryOutputs?.OutputOf(tokens) ?? Model.Tokenizer.Decode(tokens).Trim();

    private float[][] Rows(Tensor embeddings)
    {
        int e = Model.EmbeddingDimension;
        var flat = embeddings.data<float>().ToArray();
        return Enumerable.Range(0, (int)embeddings.shape[0]).Select(i => flat.AsSpan(i * e, e).ToArray()).ToArray();
    }

    private IReadOnlyList<int[]> Generate(IReadOnlyList<NoteText> notes, PromptTask task, AllowedOutputs? allowed)
    {
        var prompts = notes.Select(n => Model.Prompts.Build(n, task, output: null)).ToList();
        return GreedyDecoder.Generate(Model.Backbone, prompts.Select(p => (IReadOnlyList<int>)p.Ids).ToList(), Model.Tokenizer.EosTokenId,
            Model.Tokenizer.PadTokenId, Decoding, prompts.Select(p => p.EmbeddingPosition + 1).ToList(), allowed);
    }
}
