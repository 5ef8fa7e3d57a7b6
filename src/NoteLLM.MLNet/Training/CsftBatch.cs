using NoteLLM.MLNet.Bundle;
using NoteLLM.MLNet.Modeling;
using NoteLLM.MLNet.Prompting;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Training;

/// <summary>
/// One training micro-batch as tensors: 2B right-padded prompts laid out [A_1..A_B, B_1..B_B], then the prompts of
/// the micro-batch's generation-only notes (CSFT only, no part in GCL), the position of each note's embedding token,
/// and the supervised output tokens. Right padding keeps every real token's
/// attention in a causal decoder identical to the unpadded prompt (causal attention never looks right), so the
/// fused causal path applies and <see cref="AttentionMask"/> is null; a backbone that reads the prompt
/// bidirectionally gets the padding mask and where each bidirectional prompt ends.
/// </summary>
internal sealed class CsftBatch : IDisposable
{
    public required Tensor Ids { get; init; }                 // [N, L], N = 2B + generation-only notes
    public required Tensor? AttentionMask { get; init; }      // [N, L] 1 = real token, or null for a causal decoder
    public required Tensor PromptEnds { get; init; }          // [N] end of each bidirectional prompt: the token after [EMB]
    public required NotePrompt[] Prompts { get; init; }       // [N], right-padded: each starts at column 0
    public required int PairNotes { get; init; }              // 2B: the rows GCL embeds
    public required Tensor LabelRows { get; init; }           // [T]
    public required Tensor LabelPositions { get; init; }      // [T]
    public required Tensor Labels { get; init; }              // [T]
    public int Notes { get; init; }
    public int RealTokens { get; init; }
    public int Truncated { get; init; }
    public int WithoutTarget { get; init; }

    /// <summary>The backbone's last hidden states of the batch [N, L, D].</summary>
    public Tensor Hidden(NoteLLMNetwork network) => network.Backbone.Forward(Ids, AttentionMask, promptEnds: PromptEnds);

    /// <summary>The pair notes' embeddings [2B, E] read from <paramref name="hidden"/> (generation-only notes have none).</summary>
    public Tensor Embeddings(NoteLLMNetwork network, Tensor hidden) =>
        network.EmbeddingsOf(hidden.narrow(0, 0, PairNotes), Prompts[..PairNotes]);

    public void Dispose()
    {
        Ids.Dispose(); AttentionMask?.Dispose(); PromptEnds.Dispose(); LabelRows.Dispose(); LabelPositions.Dispose(); Labels.Dispose();
    }

    /// <summary>
    /// Builds the CSFT batch (paper section 3.4): on each side floor(r B) notes, drawn with <paramref name="random"/>,
    /// take the hashtag prompt with j hashtags, the others the category prompt. The j hashtags to generate are a
    /// random sample of the note's hashtags, in random order, as the authors' code samples them (taking the first j
    /// would teach positions when a platform stores hashtags sorted). A note lacking what its task generates takes
    /// the other task, or the prompt alone (embedding only) when it has neither. Hashtags are the note's first
    /// <see cref="NotePromptLimits.MaxHashtags"/> (<see cref="NotePromptBuilder.Hashtags"/>). The
    /// <paramref name="generationNotes"/> follow the pairs, floor(r K) of them with the hashtag prompt.
    /// </summary>
    public static CsftBatch Build(NoteLLMModel model, IReadOnlyList<NotePair> pairs, NoteLLMTrainerOptions options, Random random, Device device,
        IReadOnlyList<NoteText>? generationNotes = null)
    {
        int b = pairs.Count, k = generationNotes?.Count ?? 0;
        var notes = pairs.Select(p => p.First).Concat(pairs.Select(p => p.Second)).Concat(generationNotes ?? []).ToArray();
        var useHashtags = new bool[notes.Length];
        foreach (var (start, count) in new[] { (0, b), (b, b), (2 * b, k) })
            foreach (int i in Enumerable.Range(0, count).OrderBy(_ => random.Next()).Take((int)Math.Floor(options.HashtagTaskRatio * count)))
                useHashtags[start + i] = true;

        var prompts = new NotePrompt[notes.Length];
        int truncated = 0, withoutTarget = 0;
        for (int i = 0; i < notes.Length; i++)
        {
            var note = notes[i];
            var hashtags = model.Prompts.Hashtags(note);
            bool hashtagTask = hashtags.Count > 0 && (useHashtags[i] || note.Category is null);
            var task = hashtagTask
                ? PromptTask.Hashtags(options.HashtagCount is int j ? Math.Min(j, hashtags.Count) : random.Next(1, Math.Min(options.MaxHashtagsPerPrompt, hashtags.Count) + 1))
                : PromptTask.Category;
            if (!task.IsCategory) note = note with { Hashtags = hashtags.OrderBy(_ => random.Next()).Take(task.HashtagCount).ToArray() };
            string? output = model.Prompts.TargetOutput(note, task);
            if (output is null) withoutTarget++;
            prompts[i] = model.Prompts.Build(note, task, output);
            if (prompts[i].Truncated) truncated++;
        }

        var (ids, mask, length) = LanguageBackbone.RightPadded(prompts.Select(p => (IReadOnlyList<int>)p.Ids).ToList(), model.Tokenizer.PadTokenId);
        var labelRows = new List<long>(); var labelPositions = new List<long>(); var labels = new List<long>();
        for (int r = 0; r < prompts.Length; r++)
            for (int t = prompts[r].OutputStart; t < prompts[r].Ids.Length; t++) { labelRows.Add(r); labelPositions.Add(t - 1); labels.Add(prompts[r].Ids[t]); }
        return new CsftBatch
        {
            Ids = tensor(ids, [prompts.Length, length], device: device),
            AttentionMask = model.Backbone.BidirectionalPrompt ? tensor(mask, [prompts.Length, length], device: device) : null,
            PromptEnds = tensor(prompts.Select(p => (long)p.EmbeddingPosition + 1).ToArray(), device: device),
            Prompts = prompts,
            PairNotes = 2 * b,
            LabelRows = tensor(labelRows.ToArray(), device: device),
            LabelPositions = tensor(labelPositions.ToArray(), device: device),
            Labels = tensor(labels.ToArray(), device: device),
            Notes = prompts.Length,
            RealTokens = prompts.Sum(p => p.Ids.Length),
            Truncated = truncated,
            WithoutTarget = withoutTarget,
        };
    }
}
