using NoteLLM.MLNet.Modeling;
using NoteLLM.MLNet.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Generation;

/// <summary>Settings of greedy decoding (paper section 4.1).</summary>
public sealed class GreedyDecodingOptions
{
    /// <summary>Most tokens generated per prompt (default 32).</summary>
    public int MaxNewTokens { get; set; } = 32;

    /// <summary>
    /// HF-style repetition penalty: logits of tokens already in the prompt or output are divided by it when
    /// positive and multiplied when negative. 1 disables it; the NoteLLM authors' code uses 1.2. Default 1.2.
    /// </summary>
    public double RepetitionPenalty { get; set; } = 1.2;

    /// <summary>Reuse keys and values of earlier tokens (default true); false recomputes the whole sequence each step.</summary>
    public bool UseKvCache { get; set; } = true;
}

/// <summary>
/// Batched greedy decoding with left padding: prompts of different lengths are right-aligned so every row's
/// next token is at the last position; positions count real tokens only, so a padded row decodes exactly
/// as it would alone. Stops a row at EOS, and the batch when every row stopped or after MaxNewTokens.
/// On a backbone that reads prompts bidirectionally (<see cref="LanguageBackbone.BidirectionalPrompt"/>), the first
/// <c>promptLengths[r]</c> tokens of prompt r (default: all of it) attend to each other in both directions, and every
/// later token, prompt or generated, attends causally, as in training. With <see cref="AllowedOutputs"/>, each row
/// decodes greedily among the tokens that lead to a member of the set (and EOS once it holds one), so it always ends
/// with a whole member.
/// </summary>
public static class GreedyDecoder
{
    /// <returns>Per prompt, the generated token ids without the EOS token (with <c>allowed</c>, a member's tokens).</returns>
    public static IReadOnlyList<int[]> Generate(LanguageBackbone model, IReadOnlyList<IReadOnlyList<int>> prompts,
        int eosTokenId, int padTokenId, GreedyDecodingOptions? options = null, IReadOnlyList<int>? promptLengths = null,
        AllowedOutputs? allowed = null) =>
        Decode(model, prompts, promptLengths, eosTokenId, padTokenId, options, allowed, keepPromptStates: false).Tokens;

    /// <summary>
    /// <see cref="Generate"/>, also returning the last layer's hidden states of the prompts, read from the prompts' own
    /// forward pass, so reading a state of the same prompt (such as NoteLLM's embedding) costs no pass of its own.
    /// </summary>
    /// <returns>The generated token ids, and the prompts' hidden states [prompts, L, D], right-aligned: prompt r's
    /// token i sits at column L - |prompt r| + i (the caller disposes them).</returns>
    public static (IReadOnlyList<int[]> Tokens, Tensor PromptStates) GenerateReadingPrompt(LanguageBackbone model,
        IReadOnlyList<IReadOnlyList<int>> prompts, IReadOnlyList<int>? promptLengths, int eosTokenId, int padTokenId,
        GreedyDecodingOptions? options = null, AllowedOutputs? allowed = null)
    {
        if ((options?.MaxNewTokens ?? 1) < 1) throw new ArgumentException("MaxNewTokens must be at least 1 to read the prompt's states.", nameof(options));
        var (tokens, states) = Decode(model, prompts, promptLengths, eosTokenId, padTokenId, options, allowed, keepPromptStates: true);
        return (tokens, states!);
    }

    private static (IReadOnlyList<int[]> Tokens, Tensor? PromptStates) Decode(LanguageBackbone model, IReadOnlyList<IReadOnlyList<int>> prompts,
        IReadOnlyList<int>? promptLengths, int eosTokenId, int padTokenId, GreedyDecodingOptions? options, AllowedOutputs? allowed,
        bool keepPromptStates)
    {
        options ??= new GreedyDecodingOptions();
        if (allowed is { Count: 0 }) throw new ArgumentException("The set of allowed outputs is empty.", nameof(allowed));
        if (prompts.Count == 0) return ([], keepPromptStates ? zeros(0, 0, model.HiddenSize, dtype: model.Dtype, device: model.Device) : null);
        if (prompts.Any(p => p.Count == 0)) throw new ArgumentException("Every prompt needs at least one token.", nameof(prompts));
        if (promptLengths is not null && promptLengths.Count != prompts.Count)
            throw new ArgumentException($"{promptLengths.Count} prompt lengths for {prompts.Count} prompts", nameof(promptLengths));
        for (int r = 0; r < (promptLengths?.Count ?? 0); r++)
            if (promptLengths![r] < 1 || promptLengths[r] > prompts[r].Count)
                throw new ArgumentOutOfRangeException(nameof(promptLengths), $"prompt length {promptLengths[r]} is outside prompt {r} of {prompts[r].Count} tokens");

        // a constrained row always gets the steps to finish its longest member and EOS
        int b = prompts.Count, promptLength = prompts.Max(p => p.Count),
            maxNew = allowed is null ? options.MaxNewTokens : Math.Max(options.MaxNewTokens, allowed.LongestLength + 1);
        var device = model.Device;
        var generated = Enumerable.Range(0, b).Select(_ => new List<int>()).ToArray();
        var finished = new bool[b];

        using var noGrad = no_grad();
        using var outer = NewDisposeScope();
        using var pad = padTokenId.ToScalar(); // held: see HeldScalars
        var ids = full(b, promptLength, pad, dtype: int64);
        var mask = zeros(b, promptLength, dtype: int64);
        for (int r = 0; r < b; r++)
        {
            int offset = promptLength - prompts[r].Count;
            ids[r].narrow(0, offset, prompts[r].Count).copy_(tensor(prompts[r].Select(x => (long)x).ToArray()));
            mask[r].narrow(0, offset, prompts[r].Count).fill_(HeldScalars.One);
        }
        ids = ids.to(device); mask = mask.to(device);
        // right-aligned: prompt r's bidirectional part ends at column promptLength - |prompt r| + promptLengths[r]
        var promptEnds = tensor(Enumerable.Range(0, b).Select(r => (long)(promptLength - prompts[r].Count + (promptLengths?[r] ?? prompts[r].Count))).ToArray(), device: device);
        var seen = zeros(b, model.VocabularySize, dtype: @bool, device: device).scatter_(1, ids, ones_like(ids, dtype: @bool)); // tokens to penalise
        using var cache = options.UseKvCache ? model.CreateKvCache(b, promptLength + maxNew) : null;

        Tensor? promptStates = null;
        var step = ids;
        for (int t = 0; t < maxNew; t++)
        {
            using var scope = NewDisposeScope();
            var hidden = model.Forward(step, mask, cache, promptEnds);                       // [B, T, D]
            if (t == 0 && keepPromptStates) promptStates = hidden.DetachFromDisposeScope();  // [B, L, D]
            var logits = model.Logits(hidden.select(1, -1)).to(float32);                     // [B, V]
            // the repetition penalty is for free text: an allowed output may rightly repeat a word of the prompt (a
            // category named in the note's hashtags)
            if (allowed is not null) logits = logits.Plus(AllowedMask(allowed, generated, finished, eosTokenId, model.VocabularySize).to(device));
            else if (options.RepetitionPenalty != 1.0)
            {
                using var p = ((float)options.RepetitionPenalty).ToScalar(); // held: see HeldScalars
                var penalised = where(logits.lt(HeldScalars.Zero), logits * p, logits / p);
                logits = where(seen, penalised, logits);
            }
            var next = logits.argmax(-1);                                                    // [B]
            var nextIds = next.cpu().data<long>().ToArray();
            for (int r = 0; r < b; r++)
            {
                if (finished[r]) { nextIds[r] = padTokenId; continue; }
                if (nextIds[r] == eosTokenId) finished[r] = true;
                else generated[r].Add((int)nextIds[r]);
            }
            if (finished.All(f => f)) break;

            var column = tensor(nextIds, device: device).unsqueeze(1);                       // [B, 1]
            seen.scatter_(1, column, ones_like(column, dtype: @bool));
            mask = cat([mask, ones(b, 1, dtype: int64, device: device)], 1).MoveToOuterDisposeScope();
            ids = cat([ids, column], 1).MoveToOuterDisposeScope();
            step = (cache is null ? ids : column).MoveToOuterDisposeScope();
        }
        return (generated.Select(g => g.ToArray()).ToList(), promptStates);
    }

    // [B, V]: 0 where a token continues row r towards an allowed output (EOS where it holds a whole one), -inf elsewhere
    private static Tensor AllowedMask(AllowedOutputs allowed, List<int>[] generated, bool[] finished, int eosTokenId, int vocabularySize)
    {
        var mask = new float[generated.Length * (long)vocabularySize];
        Array.Fill(mask, float.NegativeInfinity);
        for (int r = 0; r < generated.Length; r++)
        {
            long row = r * (long)vocabularySize;
            if (finished[r]) { mask[row + eosTokenId] = 0; continue; } // its token is discarded anyway
            var (tokens, canEnd) = allowed.Next(generated[r]);
            foreach (int token in tokens) mask[row + token] = 0;
            if (canEnd) mask[row + eosTokenId] = 0;
        }
        return tensor(mask, [generated.Length, vocabularySize]);
    }
}
