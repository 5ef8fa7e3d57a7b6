// A BERT encoder (Devlin et al. 2019) run as a prefix language model, top to bottom in one file:
// config -> embeddings -> self-attention -> attention output -> feed-forward -> layer -> encoder -> prefix LM.
// Field names follow Hugging Face's modeling_bert.py, so state_dict names under "bert." equal BertModel's
// ("bert.encoder.layer.0.attention.self.query.weight", ...) and pretrained sentence encoders load directly.
//
// Why an encoder can carry NoteLLM: UniLM (Dong et al., NeurIPS 2019) trains one BERT-initialised transformer for
// understanding and generation by changing only the self-attention mask. Here the note compression prompt is read
// bidirectionally (every prompt token sees the whole note) and the tokens after it (the output guidance and the
// generated category or hashtags) attend causally to the prompt and to earlier tokens, so one forward pass serves
// the embedding and the generation loss, and greedy decoding reuses the prompt's keys and values. The output layer
// is tied to the word embeddings, as BERT's masked-LM decoder is. Post-LN blocks, exact GELU, learned absolute
// positions. Padding is skipped: a padded batch's real tokens travel packed as rows [N, D] through every linear,
// norm and feed-forward block, and only attention sees the padded layout (PackedTokens).
// Shapes: B batch, T new tokens, N real new tokens, S tokens attended (past + new), D hidden, H heads, E head dim, F ffn.
using System.Text.Json;
using System.Text.Json.Nodes;
using NoteLLM.MLNet.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Modeling;

/// <summary>Shape of a BERT encoder, read from (and written to) a Hugging Face <c>config.json</c> (<c>model_type</c> bert).</summary>
public sealed record BertConfig
{
    public int VocabSize { get; init; } = 30522;
    public int HiddenSize { get; init; } = 384;
    public int NumHiddenLayers { get; init; } = 6;
    public int NumAttentionHeads { get; init; } = 12;
    public int IntermediateSize { get; init; } = 1536;
    public int MaxPositionEmbeddings { get; init; } = 512;
    public int TypeVocabSize { get; init; } = 2;
    public double LayerNormEps { get; init; } = 1e-12;
    public int PadTokenId { get; init; }
    /// <summary>
    /// Whether the tied output layer reads the hidden states through BERT's masked-LM transform (dense, GELU,
    /// LayerNorm; HF <c>BertPredictionHeadTransform</c>). Sentence encoders ship without it, so a NoteLLM model adds a
    /// freshly initialised one (config key <c>notellm_prediction_head</c>; absent reads as false).
    /// </summary>
    public bool PredictionHead { get; init; }

    public int HeadDim => HiddenSize / NumAttentionHeads;

    /// <summary>Throws <see cref="InvalidOperationException"/> naming the first inconsistent field.</summary>
    public BertConfig Validate()
    {
        void Require(bool ok, string message) { if (!ok) throw new InvalidOperationException($"Invalid BERT config: {message}"); }
        Require(VocabSize > 0 && HiddenSize > 0 && NumHiddenLayers > 0 && IntermediateSize > 0, "vocab_size, hidden_size, num_hidden_layers and intermediate_size must be positive.");
        Require(NumAttentionHeads > 0 && HiddenSize % NumAttentionHeads == 0, $"hidden_size ({HiddenSize}) must be a multiple of num_attention_heads ({NumAttentionHeads}).");
        Require(MaxPositionEmbeddings > 0 && TypeVocabSize > 0, "max_position_embeddings and type_vocab_size must be positive.");
        return this;
    }

    /// <summary>Reads a Hugging Face BERT <c>config.json</c>.</summary>
    public static BertConfig FromHuggingFaceJson(string json, string source = "config.json")
    {
        JsonObject root;
        try { root = JsonNode.Parse(json)?.AsObject() ?? throw new JsonException("empty document"); }
        catch (JsonException e) { throw new InvalidDataException($"{source} is not valid JSON: {e.Message}", e); }
        int Int(string key) => root[key]?.GetValue<int>() ?? throw new InvalidDataException($"{source} is missing '{key}'.");
        string act = root["hidden_act"]?.GetValue<string>() ?? "gelu";
        if (act != "gelu") throw new NotSupportedException($"{source}: hidden_act '{act}' is not supported; BERT encoders here use exact 'gelu'.");
        return new BertConfig
        {
            VocabSize = Int("vocab_size"),
            HiddenSize = Int("hidden_size"),
            NumHiddenLayers = Int("num_hidden_layers"),
            NumAttentionHeads = Int("num_attention_heads"),
            IntermediateSize = Int("intermediate_size"),
            MaxPositionEmbeddings = Int("max_position_embeddings"),
            TypeVocabSize = root["type_vocab_size"]?.GetValue<int>() ?? 2,
            LayerNormEps = root["layer_norm_eps"]?.GetValue<double>() ?? 1e-12,
            PadTokenId = root["pad_token_id"]?.GetValue<int>() ?? 0,
            PredictionHead = root[PredictionHeadKey]?.GetValue<bool>() ?? false,
        }.Validate();
    }

    private const string PredictionHeadKey = "notellm_prediction_head";

    public string ToHuggingFaceJson()
    {
        var json = new JsonObject
        {
            ["architectures"] = new JsonArray("BertModel"),
            ["model_type"] = "bert",
            ["vocab_size"] = VocabSize,
            ["hidden_size"] = HiddenSize,
            ["num_hidden_layers"] = NumHiddenLayers,
            ["num_attention_heads"] = NumAttentionHeads,
            ["intermediate_size"] = IntermediateSize,
            ["hidden_act"] = "gelu",
            ["max_position_embeddings"] = MaxPositionEmbeddings,
            ["type_vocab_size"] = TypeVocabSize,
            ["layer_norm_eps"] = LayerNormEps,
            ["pad_token_id"] = PadTokenId,
            ["torch_dtype"] = "float32",
        };
        if (PredictionHead) json[PredictionHeadKey] = true;
        return json.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }
}

/// <summary>Word + position + token-type embeddings, then LayerNorm (HF <c>BertEmbeddings</c>; no dropout).</summary>
public sealed class BertEmbeddings : nn.Module
{
    private readonly Embedding word_embeddings, position_embeddings, token_type_embeddings;
    private readonly LayerNorm LayerNorm;

    public BertEmbeddings(BertConfig c) : base(nameof(BertEmbeddings))
    {
        word_embeddings = nn.Embedding(c.VocabSize, c.HiddenSize);
        position_embeddings = nn.Embedding(c.MaxPositionEmbeddings, c.HiddenSize);
        token_type_embeddings = nn.Embedding(c.TypeVocabSize, c.HiddenSize);
        LayerNorm = nn.LayerNorm(c.HiddenSize, c.LayerNormEps);
        RegisterComponents();
    }

    public Embedding WordEmbeddings => word_embeddings;

    public Tensor Forward(Tensor inputIds, Tensor positions) // [N], [N] -> [N, D] (or [B, T] -> [B, T, D])
    {
        using var scope = NewDisposeScope();
        // every token is segment 0: a NoteLLM prompt is a single segment
        var h = word_embeddings.forward(inputIds).Plus(position_embeddings.forward(positions)).Plus(token_type_embeddings.weight![0]);
        return LayerNorm.forward(h).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// The real tokens of a padded batch as rows [N, ...], so that linears, norms and feed-forward blocks spend nothing
/// on padding; attention unpacks them into the padded [B, T] layout, zeros at padding, where the mask blocks them.
/// The same idea as the "unpadding" of NVIDIA's BERT and FlashAttention's variable-length kernels, with the padded
/// layout kept for attention. The index tensor lives in the caller's dispose scope.
/// </summary>
public sealed class PackedTokens
{
    private readonly Tensor index; // [N] flat indexes of the real tokens in [B * T]

    private PackedTokens(Tensor index, long batch, long length) { this.index = index; Batch = batch; Length = length; }

    public long Batch { get; }
    public long Length { get; }

    /// <summary>The packing of the [B, T] 1/0 mask's real tokens, or null when none of them is padding.</summary>
    public static PackedTokens? Of(Tensor real)
    {
        long b = real.shape[0], t = real.shape[1];
        var index = real.reshape(b * t).nonzero().squeeze(1);                      // [N]
        if (index.shape[0] == b * t) { index.Dispose(); return null; }
        return new PackedTokens(index, b, t);
    }

    /// <summary>[B, T, ...] -> [N, ...]: the real tokens' rows.</summary>
    public Tensor Pack(Tensor x) => x.reshape([Batch * Length, .. x.shape[2..]]).index_select(0, index);

    /// <summary>[N, ...] -> [B, T, ...], zeros at padding.</summary>
    public Tensor Unpack(Tensor x) =>
        zeros([Batch * Length, .. x.shape[1..]], dtype: x.dtype, device: x.device).index_copy(0, index, x).view([Batch, Length, .. x.shape[1..]]);
}

/// <summary>Multi-head self-attention projections (HF <c>BertSelfAttention</c>), through scaled_dot_product_attention.</summary>
public sealed class BertSelfAttention : nn.Module
{
    private readonly DecoderLinear query, key, value;
    private readonly int heads, headDim;

    public BertSelfAttention(BertConfig c) : base(nameof(BertSelfAttention))
    {
        heads = c.NumAttentionHeads; headDim = c.HeadDim;
        query = new DecoderLinear(c.HiddenSize, c.HiddenSize, hasBias: true);
        key = new DecoderLinear(c.HiddenSize, c.HiddenSize, hasBias: true);
        value = new DecoderLinear(c.HiddenSize, c.HiddenSize, hasBias: true);
        RegisterComponents();
    }

    /// <param name="x">[N, D] packed real tokens (<paramref name="packed"/>), or [B, T, D]</param>
    /// <param name="mask">additive [B, 1, T, S], or null when every token sees every token</param>
    /// <param name="cache">this layer's KV cache, or null</param>
    /// <param name="packed">where <paramref name="x"/>'s rows sit in the padded [B, T] layout, or null when x is [B, T, D]</param>
    /// <returns>heads merged, in <paramref name="x"/>'s layout</returns>
    public Tensor Forward(Tensor x, Tensor? mask, LayerKvCache? cache, PackedTokens? packed)
    {
        using var scope = NewDisposeScope();
        long b = packed?.Batch ?? x.shape[0], t = packed?.Length ?? x.shape[1];
        Tensor Heads(Tensor projected) => (packed?.Unpack(projected) ?? projected).view(b, t, heads, headDim).transpose(1, 2);
        var q = Heads(query.forward(x));                                       // [B, H, T, E]
        var k = Heads(key.forward(x));                                         // [B, H, T, E]
        var v = Heads(value.forward(x));                                       // [B, H, T, E]
        if (cache is not null) (k, v) = cache.Append(k, v);                    // [B, H, S, E]
        var attended = nn.functional.scaled_dot_product_attention(q, k, v, attn_mask: mask); // [B, H, T, E]
        var merged = attended.transpose(1, 2).reshape(b, t, heads * headDim);  // [B, T, D]
        return (packed?.Pack(merged) ?? merged).MoveToOuterDisposeScope();     // [N, D] when packed
    }
}

/// <summary>Projection, residual and post-LayerNorm after a sub-block (HF <c>BertSelfOutput</c> and <c>BertOutput</c>).</summary>
public sealed class BertResidualOutput : nn.Module
{
    private readonly DecoderLinear dense;
    private readonly LayerNorm LayerNorm;

    public BertResidualOutput(long inFeatures, BertConfig c) : base(nameof(BertResidualOutput))
    {
        dense = new DecoderLinear(inFeatures, c.HiddenSize, hasBias: true);
        LayerNorm = nn.LayerNorm(c.HiddenSize, c.LayerNormEps);
        RegisterComponents();
    }

    public Tensor Forward(Tensor h, Tensor residual) // [N, in], [N, D] -> [N, D] (or with [B, T] in front)
    {
        using var scope = NewDisposeScope();
        return LayerNorm.forward(dense.forward(h).Plus(residual)).MoveToOuterDisposeScope();
    }
}

/// <summary>Self-attention and its output block (HF <c>BertAttention</c>).</summary>
public sealed class BertAttention : nn.Module
{
    private readonly BertSelfAttention self;
    private readonly BertResidualOutput output;

    public BertAttention(BertConfig c) : base(nameof(BertAttention))
    {
        self = new BertSelfAttention(c);
        output = new BertResidualOutput(c.HiddenSize, c);
        RegisterComponents();
    }

    public Tensor Forward(Tensor x, Tensor? mask, LayerKvCache? cache, PackedTokens? packed) // [N, D] -> [N, D]
    {
        using var scope = NewDisposeScope();
        return output.Forward(self.Forward(x, mask, cache, packed), x).MoveToOuterDisposeScope();
    }
}

/// <summary>The feed-forward expansion with exact GELU (HF <c>BertIntermediate</c>).</summary>
public sealed class BertIntermediate : nn.Module<Tensor, Tensor>
{
    private readonly DecoderLinear dense;

    public BertIntermediate(BertConfig c) : base(nameof(BertIntermediate))
    {
        dense = new DecoderLinear(c.HiddenSize, c.IntermediateSize, hasBias: true);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => nn.functional.gelu(dense.forward(x)); // [N, D] -> [N, F]
}

/// <summary>One post-LN encoder block: LN(x + attn(x)), then LN(. + ffn(.)) (HF <c>BertLayer</c>).</summary>
public sealed class BertLayer : nn.Module
{
    private readonly BertAttention attention;
    private readonly BertIntermediate intermediate;
    private readonly BertResidualOutput output;

    public BertLayer(BertConfig c) : base(nameof(BertLayer))
    {
        attention = new BertAttention(c);
        intermediate = new BertIntermediate(c);
        output = new BertResidualOutput(c.IntermediateSize, c);
        RegisterComponents();
    }

    public Tensor Forward(Tensor x, Tensor? mask, LayerKvCache? cache, PackedTokens? packed) // [N, D] -> [N, D]
    {
        using var scope = NewDisposeScope();
        var h = attention.Forward(x, mask, cache, packed);
        return output.Forward(intermediate.forward(h), h).MoveToOuterDisposeScope();
    }
}

/// <summary>Embeddings and the stack of layers (HF <c>BertModel</c> without its pooler).</summary>
public sealed class BertModel : nn.Module
{
    private readonly BertEmbeddings embeddings;
    private readonly BertEncoder encoder;

    public BertModel(BertConfig c) : base(nameof(BertModel))
    {
        embeddings = new BertEmbeddings(c);
        encoder = new BertEncoder(c);
        RegisterComponents();
    }

    public BertEmbeddings Embeddings => embeddings;

    /// <summary>
    /// Hidden states [B, T, D] of <paramref name="inputIds"/> [B, T]; with <paramref name="packed"/>, only its real
    /// tokens are computed and padding positions come back as zeros.
    /// </summary>
    public Tensor Forward(Tensor inputIds, Tensor positions, Tensor? mask, KvCache? cache, PackedTokens? packed)
    {
        using var scope = NewDisposeScope();
        var ids = packed?.Pack(inputIds) ?? inputIds;                              // [N] or [B, T]
        var h = embeddings.Forward(ids, packed?.Pack(positions) ?? positions);    // [N, D] or [B, T, D]
        h = encoder.Forward(h, mask, cache, packed);
        return (packed?.Unpack(h) ?? h).MoveToOuterDisposeScope();                // [B, T, D]
    }
}

/// <summary>HF <c>BertEncoder</c>: the <c>layer</c> list.</summary>
public sealed class BertEncoder : nn.Module
{
    private readonly ModuleList<BertLayer> layer;

    public BertEncoder(BertConfig c) : base(nameof(BertEncoder))
    {
        layer = new ModuleList<BertLayer>(Enumerable.Range(0, c.NumHiddenLayers).Select(_ => new BertLayer(c)).ToArray());
        RegisterComponents();
    }

    public Tensor Forward(Tensor h, Tensor? mask, KvCache? cache, PackedTokens? packed)
    {
        for (int i = 0; i < layer.Count; i++)
        {
            // a scope per layer frees the layer's intermediates as soon as its output exists
            using var layerScope = NewDisposeScope();
            h = layer[i].Forward(h, mask, cache?.Layers[i], packed).MoveToOuterDisposeScope();
        }
        return h;
    }
}

/// <summary>
/// BERT's masked-LM transform (HF <c>BertPredictionHeadTransform</c>): dense, GELU, LayerNorm, read by the tied
/// output layer. It gives generation its own map from the last hidden states to the word-embedding space, so the
/// generation loss need not bend the states the note embedding is read from into word embeddings.
/// </summary>
public sealed class BertPredictionHeadTransform : nn.Module<Tensor, Tensor>
{
    private readonly DecoderLinear dense;
    private readonly LayerNorm LayerNorm;

    /// <summary>Initialised as Hugging Face initialises a missing BERT head: weights N(0, 0.02), biases 0, LayerNorm 1.</summary>
    public BertPredictionHeadTransform(BertConfig c) : base(nameof(BertPredictionHeadTransform))
    {
        dense = new DecoderLinear(c.HiddenSize, c.HiddenSize, hasBias: true);
        LayerNorm = nn.LayerNorm(c.HiddenSize, c.LayerNormEps);
        using (no_grad()) nn.init.normal_(dense.Weight, std: 0.02);
        RegisterComponents();
    }

    public override Tensor forward(Tensor h) // [B, T, D] -> [B, T, D]
    {
        using var scope = NewDisposeScope();
        return LayerNorm.forward(nn.functional.gelu(dense.forward(h))).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// BERT as a prefix LM: <c>bert</c> (<see cref="BertModel"/>), optionally <c>transform</c>
/// (<see cref="BertPredictionHeadTransform"/>), and <c>output_bias</c> [V]; logits are transform(h) E^T + output_bias
/// with E the word embeddings (tied, as BERT's masked-LM decoder).
/// </summary>
public sealed class BertPrefixLM : LanguageBackbone
{
    private readonly BertModel bert;
    private BertPredictionHeadTransform? transform;
    private Parameter output_bias;

    public BertConfig Config { get; private set; }

    public BertPrefixLM(BertConfig config) : base(nameof(BertPrefixLM))
    {
        Config = config.Validate();
        bert = new BertModel(config);
        output_bias = new Parameter(zeros(config.VocabSize));
        if (config.PredictionHead) transform = new BertPredictionHeadTransform(config);
        RegisterComponents();
    }

    public override string ModelType => "bert";
    /// <summary>The output bias and, when present, the masked-LM transform: the sentence encoders ship neither.</summary>
    public override IEnumerable<Parameter> AddedParameters => transform is null ? [output_bias] : [.. transform.parameters(), output_bias];
    public override int HiddenSize => Config.HiddenSize;
    public override int VocabularySize => Config.VocabSize;
    public override bool BidirectionalPrompt => true;

    public override int? MaxPositions => Config.MaxPositionEmbeddings;
    public override Embedding TokenEmbedding => bert.Embeddings.WordEmbeddings;
    public override string ToHuggingFaceJson() => Config.ToHuggingFaceJson();

    public override KvCache CreateKvCache(long batch, long maxLength) =>
        new(Config.NumHiddenLayers, batch, Config.NumAttentionHeads, maxLength, Config.HeadDim, Dtype, Device);

    /// <summary>
    /// Adds a freshly initialised <see cref="BertPredictionHeadTransform"/> in front of the tied output layer (seed the
    /// generator first for a reproducible model); no-op when the model has one.
    /// </summary>
    public void AddPredictionHead()
    {
        if (transform is not null) return;
        transform = new BertPredictionHeadTransform(Config);
        transform.to(Dtype).to(Device);
        register_module(nameof(transform), transform);
        Config = Config with { PredictionHead = true };
    }

    /// <summary>
    /// Copies pretrained <c>BertModel</c> weights, keyed by HF names without the <c>bert.</c> prefix, into the model.
    /// Every BERT weight must be present with the model's shape; extra tensors (a pooler) are ignored. The output
    /// bias starts at zero.
    /// </summary>
    public void LoadBertModelWeights(IReadOnlyDictionary<string, (long[] Shape, float[] Data)> weights, string source)
    {
        using var _ = no_grad();
        foreach (var (name, p) in named_parameters())
        {
            if (name == nameof(output_bias)) { p.zero_(); continue; }
            if (!name.StartsWith("bert.", StringComparison.Ordinal)) continue; // the prediction head is not a BertModel weight
            string key = name["bert.".Length..];
            if (!weights.TryGetValue(key, out var w))
                throw new InvalidDataException($"{source} has no tensor '{key}', which BERT needs.");
            if (!w.Shape.SequenceEqual(p.shape))
                throw new InvalidDataException($"{source}: tensor '{key}' has shape [{string.Join(", ", w.Shape)}] but the model expects [{string.Join(", ", p.shape)}].");
            using var t = tensor(w.Data, w.Shape);
            p.copy_(t);
        }
    }

    public override Tensor Forward(Tensor inputIds, Tensor? attentionMask = null, KvCache? cache = null, Tensor? promptEnds = null)
    {
        using var scope = NewDisposeScope();
        long b = inputIds.shape[0], t = inputIds.shape[1], past = cache?.Length ?? 0;
        if (past + t > Config.MaxPositionEmbeddings) // torch would fail on the position lookup, naming nothing
            throw new InvalidOperationException($"A sequence of {past + t} tokens is longer than the {Config.MaxPositionEmbeddings} positions this encoder learned: " +
                "lower NotePromptLimits.MaxNoteTokens or NoteLLMOptions.MaxNewTokens (in training, the longest hashtag lists also count).");
        var device = inputIds.device;
        Tensor positions;
        Tensor? mask = null;
        if (attentionMask is null) positions = arange(past, past + t, dtype: int64, device: device).unsqueeze(0).expand(b, t);
        else positions = PositionsFromMask(attentionMask, past, t);
        if (attentionMask is not null || promptEnds is not null || cache is not null)
        {
            var real = attentionMask ?? ones(b, past + t, dtype: int64, device: device);
            using var length = (past + t).ToScalar(); // held: see HeldScalars
            var ends = promptEnds ?? full([b], length, dtype: int64, device: device); // null: everything bidirectional
            mask = AdditiveMask(real, t, ends, Dtype);
        }
        var packed = attentionMask is null ? null : PackedTokens.Of(attentionMask.narrow(1, past, t));
        return bert.Forward(inputIds, positions, mask, cache, packed).MoveToOuterDisposeScope();
    }

    public override Tensor Logits(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        var h = transform is null ? hidden : transform.forward(hidden);
        return nn.functional.linear(h, TokenEmbedding.weight!, output_bias).MoveToOuterDisposeScope();
    }

    private protected override void GrowVocabulary(int vocabularySize)
    {
        TokenEmbedding.weight = new Parameter(GrowRows(TokenEmbedding.weight!, vocabularySize));
        output_bias = new Parameter(GrowRows(output_bias.unsqueeze(1), vocabularySize).squeeze(1).contiguous());
        ConditionallyRegisterParameter(nameof(output_bias), output_bias);
        Config = Config with { VocabSize = vocabularySize };
    }
}
