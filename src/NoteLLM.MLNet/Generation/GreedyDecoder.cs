using NoteLLM.MLNet.Modeling;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Generation;

/// <summary>Settings of greedy decoding (spec section 7).</summary>
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
/// </summary>
public static class GreedyDecoder
{
    /// <returns>Per prompt, the generated token ids without the EOS token.</returns>
    public static IReadOnlyList<int[]> Generate(LlamaForCausalLM model, IReadOnlyList<IReadOnlyList<int>> prompts,
        int eosTokenId, int padTokenId, GreedyDecodingOptions? options = null) =>
        Decode(model, prompts, eosTokenId, padTokenId, options, promptPositions: null).Tokens;

    /// <summary>
    /// <see cref="Generate"/>, also returning the last layer's hidden state (after the final norm) of prompt r's token
    /// at <paramref name="promptPositions"/>[r], read from the prompt's forward pass, so reading a state of the same
    /// prompt (such as NoteLLM's embedding position) costs no pass of its own.
    /// </summary>
    /// <returns>The generated token ids, and the hidden states [prompts, D] (the caller disposes them).</returns>
    public static (IReadOnlyList<int[]> Tokens, Tensor PromptStates) GenerateReadingPrompt(LlamaForCausalLM model,
        IReadOnlyList<IReadOnlyList<int>> prompts, IReadOnlyList<int> promptPositions, int eosTokenId, int padTokenId,
        GreedyDecodingOptions? options = null)
    {
        if ((options?.MaxNewTokens ?? 1) < 1) throw new ArgumentException("MaxNewTokens must be at least 1 to read the prompt's states.", nameof(options));
        if (promptPositions.Count != prompts.Count) throw new ArgumentException($"{promptPositions.Count} positions for {prompts.Count} prompts", nameof(promptPositions));
        for (int r = 0; r < prompts.Count; r++)
            if (promptPositions[r] < 0 || promptPositions[r] >= prompts[r].Count)
                throw new ArgumentOutOfRangeException(nameof(promptPositions), $"position {promptPositions[r]} is outside prompt {r} of {prompts[r].Count} tokens");
        var (tokens, states) = Decode(model, prompts, eosTokenId, padTokenId, options, promptPositions);
        return (tokens, states!);
    }

    private static (IReadOnlyList<int[]> Tokens, Tensor? PromptStates) Decode(LlamaForCausalLM model, IReadOnlyList<IReadOnlyList<int>> prompts,
        int eosTokenId, int padTokenId, GreedyDecodingOptions? options, IReadOnlyList<int>? promptPositions)
    {
        options ??= new GreedyDecodingOptions();
        if (prompts.Count == 0) return ([], promptPositions is null ? null : zeros(0, model.Config.HiddenSize, dtype: model.Dtype, device: model.Device));
        if (prompts.Any(p => p.Count == 0)) throw new ArgumentException("Every prompt needs at least one token.", nameof(prompts));

        int b = prompts.Count, promptLength = prompts.Max(p => p.Count), maxNew = options.MaxNewTokens;
        var device = model.Device;
        var generated = Enumerable.Range(0, b).Select(_ => new List<int>()).ToArray();
        var finished = new bool[b];

        using var noGrad = no_grad();
        using var outer = NewDisposeScope();
        var ids = full(b, promptLength, padTokenId, dtype: int64);
        var mask = zeros(b, promptLength, dtype: int64);
        for (int r = 0; r < b; r++)
        {
            int offset = promptLength - prompts[r].Count;
            ids[r].narrow(0, offset, prompts[r].Count).copy_(tensor(prompts[r].Select(x => (long)x).ToArray()));
            mask[r].narrow(0, offset, prompts[r].Count).fill_(1);
        }
        ids = ids.to(device); mask = mask.to(device);
        var seen = zeros(b, model.Config.VocabSize, dtype: @bool, device: device).scatter_(1, ids, ones_like(ids, dtype: @bool)); // tokens to penalise
        using var cache = options.UseKvCache ? new KvCache(model.Config, b, promptLength + maxNew, model.Dtype, device) : null;

        Tensor? promptStates = null;
        var step = ids;
        for (int t = 0; t < maxNew; t++)
        {
            using var scope = NewDisposeScope();
            var hidden = model.Forward(step, mask, cache);                                   // [B, T, D]
            if (t == 0 && promptPositions is not null)
            {
                // prompts are right-aligned: prompt r's token i sits at column promptLength - |prompt r| + i
                var columns = tensor(Enumerable.Range(0, b).Select(r => (long)(promptLength - prompts[r].Count + promptPositions[r])).ToArray(), device: device);
                promptStates = hidden[arange(b, device: device), columns].DetachFromDisposeScope();  // [B, D]
            }
            var logits = model.Logits(hidden.select(1, -1)).to(float32);                     // [B, V]
            if (options.RepetitionPenalty != 1.0)
            {
                float p = (float)options.RepetitionPenalty;
                var penalised = where(logits.lt(0), logits * p, logits / p);
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
}
