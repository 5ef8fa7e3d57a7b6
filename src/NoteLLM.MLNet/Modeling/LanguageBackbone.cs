// The transformer under NoteLLM, whichever family it comes from: a LLaMA-family causal decoder
// (LlamaDecoder.cs) or a BERT encoder run as a prefix language model (BertPrefixLM.cs). NoteLLM needs the
// same four things from both: hidden states of a prompt, vocabulary logits at chosen positions, a KV cache
// for greedy decoding, and room for the tokens it adds ([EMB]). Shapes: B batch, T new tokens, S tokens
// attended (past + new), D hidden, V vocabulary.
using System.Text.Json.Nodes;
using NoteLLM.MLNet.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Modeling;

/// <summary>A language model NoteLLM can embed notes with and generate from.</summary>
public abstract class LanguageBackbone : nn.Module
{
    protected LanguageBackbone(string name) : base(name) { }

    /// <summary>Hugging Face <c>model_type</c> of the architecture (llama, mistral, qwen2, bert).</summary>
    public abstract string ModelType { get; }
    public abstract int HiddenSize { get; }
    /// <summary>Rows of the token embedding (base vocabulary plus added tokens).</summary>
    public abstract int VocabularySize { get; }

    /// <summary>
    /// True when the prompt is read bidirectionally (every prompt token sees the whole prompt) and only the tokens
    /// after it are causal: UniLM's prefix-LM attention (Dong et al., NeurIPS 2019). False for a causal decoder.
    /// </summary>
    public abstract bool BidirectionalPrompt { get; }

    /// <summary>
    /// The longest sequence the backbone can read, when it has learned absolute positions (BERT: 512); null for rotary
    /// positions, which have no hard end.
    /// </summary>
    public virtual int? MaxPositions => null;

    /// <summary>The input token embedding [V, D].</summary>
    public abstract Embedding TokenEmbedding { get; }

    /// <summary>The dtype of the weights (float32 or bfloat16).</summary>
    public ScalarType Dtype => TokenEmbedding.weight!.dtype;
    public Device Device => TokenEmbedding.weight!.device;

    /// <summary>
    /// Hidden states of the last layer [B, T, D] for <paramref name="inputIds"/> [B, T].
    /// <paramref name="attentionMask"/> [B, S] marks real tokens with 1 and padding with 0 (S = cached + new tokens);
    /// null means no padding. <paramref name="promptEnds"/> [B]: for a <see cref="BidirectionalPrompt"/> model, the
    /// column (in the padded layout) where row b's bidirectional prompt ends; later tokens attend causally. Null
    /// reads every token bidirectionally. A causal decoder ignores it.
    /// </summary>
    public abstract Tensor Forward(Tensor inputIds, Tensor? attentionMask = null, KvCache? cache = null, Tensor? promptEnds = null);

    /// <summary>Vocabulary logits for hidden states [..., D] -> [..., V].</summary>
    public abstract Tensor Logits(Tensor hidden);

    /// <summary>An empty KV cache for <paramref name="batch"/> rows of up to <paramref name="maxLength"/> tokens.</summary>
    public abstract KvCache CreateKvCache(long batch, long maxLength);

    /// <summary>
    /// Grows the token embedding (and an untied output projection) to <paramref name="vocabularySize"/> rows for
    /// tokens added to the tokenizer. New rows start at the mean of the existing rows, as the NoteLLM authors'
    /// code initialises [EMB] (paper section 3.2).
    /// </summary>
    public void ResizeVocabulary(int vocabularySize)
    {
        long current = TokenEmbedding.weight!.shape[0];
        if (vocabularySize == current) return;
        if (vocabularySize < current) throw new ArgumentOutOfRangeException(nameof(vocabularySize), $"Cannot shrink the vocabulary from {current} to {vocabularySize}.");
        using (no_grad()) GrowVocabulary(vocabularySize);
    }

    /// <summary>
    /// Token rows right-padded into one batch: ids [N * L] (row r's first <paramref name="lengths"/>[r] tokens, default
    /// all, then <paramref name="pad"/>) and the attention mask [N * L] (1 on those tokens), L the longest length.
    /// </summary>
    public static (long[] Ids, long[] Mask, int Length) RightPadded(IReadOnlyList<IReadOnlyList<int>> rows, long pad, IReadOnlyList<int>? lengths = null)
    {
        int length = rows.Count == 0 ? 0 : Enumerable.Range(0, rows.Count).Max(r => lengths?[r] ?? rows[r].Count);
        var ids = new long[rows.Count * length];
        var mask = new long[rows.Count * length];
        Array.Fill(ids, pad);
        for (int r = 0; r < rows.Count; r++)
            for (int t = 0, n = lengths?[r] ?? rows[r].Count; t < n; t++) { ids[r * length + t] = rows[r][t]; mask[r * length + t] = 1; }
        return (ids, mask, length);
    }

    /// <summary>Grows every per-token weight to <paramref name="vocabularySize"/> rows (<see cref="GrowRows"/>) and the config with it.</summary>
    private protected abstract void GrowVocabulary(int vocabularySize);

    /// <summary>
    /// The parameters NoteLLM adds to the pretrained architecture, which no checkpoint provides (none by default).
    /// </summary>
    public virtual IEnumerable<Parameter> AddedParameters => [];

    /// <summary>The architecture as a Hugging Face <c>config.json</c>.</summary>
    public abstract string ToHuggingFaceJson();

    /// <summary>Builds the (randomly initialised) architecture a <c>config.json</c> describes.</summary>
    public static LanguageBackbone FromHuggingFaceJson(string json, string source = "config.json")
    {
        string? type;
        try { type = JsonNode.Parse(json)?["model_type"]?.GetValue<string>(); }
        catch (System.Text.Json.JsonException e) { throw new InvalidDataException($"{source} is not valid JSON: {e.Message}", e); }
        return type == "bert"
            ? new BertPrefixLM(BertConfig.FromHuggingFaceJson(json, source))
            : new LlamaForCausalLM(DecoderConfig.FromHuggingFaceJson(json, source));
    }

    // The additive mask's "blocked": the most negative finite value of the compute dtype (held: see HeldScalars).
    private static readonly Scalar Float32Blocked = ((double)float.MinValue).ToScalar(), BFloat16Blocked = (-3.38e38).ToScalar();

    // [B, S] 1/0 mask -> the positions [B, T] of the last T tokens: the number of real tokens before each one, so
    // left padding does not shift them (padding itself is clamped to 0).
    private protected static Tensor PositionsFromMask(Tensor attentionMask, long past, long t) =>
        (attentionMask.cumsum(1) - HeldScalars.One).clamp_min(HeldScalars.Zero).narrow(1, past, t);

    // [B, S] 1/0 mask -> additive [B, 1, T, S] for the last T queries. A query sees a real key when the key is not
    // after it, or when both lie in the row's bidirectional prompt (key column < promptEnds[b]). Every query also
    // sees itself, so a padding row never has all keys blocked (no NaN from softmax).
    private protected static Tensor AdditiveMask(Tensor attentionMask, long t, Tensor? promptEnds, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        long s = attentionMask.shape[1];
        var device = attentionMask.device;
        var queryPos = arange(s - t, s, device: device).unsqueeze(1);                   // [T, 1]
        var keyPos = arange(0, s, device: device).unsqueeze(0);                         // [1, S]
        var visible = keyPos.le(queryPos).unsqueeze(0);                                 // [1, T, S]
        if (promptEnds is not null)
            visible = visible.logical_or(keyPos.unsqueeze(0).lt(promptEnds.view(-1, 1, 1))); // [B, T, S]
        var real = attentionMask.to(@bool).unsqueeze(1);                                // [B, 1, S]
        var allowed = visible.logical_and(real).logical_or(keyPos.eq(queryPos).unsqueeze(0)); // [B, T, S]
        var additive = zeros(allowed.shape, dtype: dtype, device: device).masked_fill(allowed.logical_not(), dtype == bfloat16 ? BFloat16Blocked : Float32Blocked);
        return additive.unsqueeze(1).MoveToOuterDisposeScope();                          // [B, 1, T, S]
    }

    // [V, D] -> [rows, D], the new rows at the mean of the existing ones.
    private protected static Tensor GrowRows(Tensor w, long rows)
    {
        var mean = w.mean([0], keepdim: true);
        return cat([w.detach(), mean.expand(rows - w.shape[0], w.shape[1])], 0).contiguous();
    }
}

/// <summary>Keys and values of one layer for incremental decoding, pre-allocated to the maximum length.</summary>
public sealed class LayerKvCache : IDisposable
{
    private readonly Tensor keys;   // [B, K, maxLen, E]
    private readonly Tensor values; // [B, K, maxLen, E]
    public long Length { get; private set; }

    public LayerKvCache(long batch, long kvHeads, long maxLength, long headDim, ScalarType dtype, Device device)
    {
        keys = zeros(batch, kvHeads, maxLength, headDim, dtype: dtype, device: device);
        values = zeros(batch, kvHeads, maxLength, headDim, dtype: dtype, device: device);
    }

    /// <summary>Writes the new [B, K, T, E] keys/values after the cached ones; returns views of all S = past + T.</summary>
    public (Tensor Keys, Tensor Values) Append(Tensor k, Tensor v)
    {
        long t = k.shape[2];
        if (Length + t > keys.shape[2])
            throw new InvalidOperationException($"KV cache full: {Length} + {t} tokens exceed its capacity of {keys.shape[2]}.");
        keys.narrow(2, Length, t).copy_(k);
        values.narrow(2, Length, t).copy_(v);
        Length += t;
        return (keys.narrow(2, 0, Length), values.narrow(2, 0, Length));
    }

    public void Dispose() { keys.Dispose(); values.Dispose(); }
}

/// <summary>The cache of every layer.</summary>
public sealed class KvCache : IDisposable
{
    public IReadOnlyList<LayerKvCache> Layers { get; }
    public long Length => Layers[0].Length;

    public KvCache(int layers, long batch, long kvHeads, long maxLength, long headDim, ScalarType dtype, Device device) =>
        Layers = Enumerable.Range(0, layers).Select(_ => new LayerKvCache(batch, kvHeads, maxLength, headDim, dtype, device)).ToList();

    public void Dispose() { foreach (var l in Layers) l.Dispose(); }
}
