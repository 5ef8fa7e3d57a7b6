// A LLaMA-family causal decoder (llama, mistral, qwen2) in TorchSharp, top to bottom in one file:
// RMSNorm -> rotary embedding -> attention (GQA) -> SwiGLU MLP -> decoder layer -> decoder -> causal LM.
// Field names follow Hugging Face's modeling_llama.py so that state_dict names equal checkpoint names
// ("model.layers.0.self_attn.q_proj.weight", ...). Shapes: B batch, T new tokens, S tokens attended
// (past + new), D hidden, H query heads, K key/value heads, E head dim, F ffn, V vocabulary.
using NoteLLM.MLNet.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Modeling;

/// <summary>Root-mean-square layer norm; statistics in float32 whatever the weights' dtype (as in HF).</summary>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Scalar eps; // held for the module's life: see HeldScalars

    public RmsNorm(long dim, double eps) : base(nameof(RmsNorm))
    {
        weight = new Parameter(ones(dim));
        this.eps = eps.ToScalar();
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) // [..., D] -> [..., D]
    {
        using var scope = NewDisposeScope();
        var h = x.to(float32);
        h = h * rsqrt((h * h).mean([-1], keepdim: true).Plus(eps)); // h * h, not pow(2) or square(): both pass an unheld Scalar
        return (weight * h.to(x.dtype)).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// A linear layer with HF parameter names (<c>weight</c> [out, in], optional <c>bias</c>) and an optional
/// low-rank adapter (LoRA, Hu et al. 2021): y = x W^T + b + (alpha / r) * (x A^T) B^T, with A, B trainable.
/// </summary>
public sealed class DecoderLinear : nn.Module<Tensor, Tensor>
{
    private Parameter weight;
    private readonly Parameter? bias;
    private Parameter? lora_A;   // [r, in]
    private Parameter? lora_B;   // [out, r], zero-initialised so an adapter starts as the identity change
    private double loraScale;

    public DecoderLinear(long inFeatures, long outFeatures, bool hasBias) : base(nameof(DecoderLinear))
    {
        weight = new Parameter(empty(outFeatures, inFeatures));
        bias = hasBias ? new Parameter(zeros(outFeatures)) : null;
        RegisterComponents();
    }

    public Parameter Weight
    {
        get => weight;
        set { weight = value; ConditionallyRegisterParameter(nameof(weight), value); }
    }

    public bool HasLora => lora_A is not null;
    /// <summary>The adapter's rank and alpha, or null without an adapter.</summary>
    public (int Rank, double Alpha)? Lora => lora_A is null ? null : ((int)lora_A.shape[0], loraScale * lora_A.shape[0]);

    /// <summary>Adds a rank-<paramref name="rank"/> adapter; the base weight and bias stop requiring gradients.</summary>
    public void AddLora(int rank, double alpha)
    {
        if (lora_A is not null) throw new InvalidOperationException("This layer already has a LoRA adapter.");
        long outF = weight.shape[0], inF = weight.shape[1];
        var device = weight.device;
        var a = empty(rank, inF, dtype: weight.dtype, device: device);
        using (no_grad()) nn.init.kaiming_uniform_(a, Math.Sqrt(5));
        lora_A = new Parameter(a);
        lora_B = new Parameter(zeros(outF, rank, dtype: weight.dtype, device: device));
        register_parameter("lora_A", lora_A);
        register_parameter("lora_B", lora_B);
        loraScale = alpha / rank;
        weight.requires_grad = false;
        if (bias is not null) bias.requires_grad = false;
    }

    public override Tensor forward(Tensor x) // [..., in] -> [..., out]
    {
        var y = nn.functional.linear(x, weight, bias);
        if (lora_A is null) return y;
        using var scope = NewDisposeScope();
        using var scale = loraScale.ToScalar(); // held: see HeldScalars
        var delta = nn.functional.linear(nn.functional.linear(x, lora_A), lora_B!) * scale;
        return y.add_(delta, HeldScalars.One).MoveToOuterDisposeScope();
    }
}

/// <summary>Rotary position embedding (Su et al. 2021) with HF's rotate-half layout and optional rope_scaling.</summary>
public sealed class RotaryEmbedding
{
    private readonly float[] inverseFrequencies; // [E/2], kept on the host: not a buffer, not in the state dict

    public RotaryEmbedding(DecoderConfig config)
    {
        int dim = config.ResolvedHeadDim;
        var inv = new double[dim / 2];
        for (int i = 0; i < inv.Length; i++) inv[i] = 1.0 / Math.Pow(config.RopeTheta, 2.0 * i / dim);
        if (config.RopeScaling is { } s) inv = Rescale(inv, s);
        inverseFrequencies = inv.Select(v => (float)v).ToArray();
    }

    /// <summary>The per-pair inverse frequencies [E/2] after rope_scaling.</summary>
    internal IReadOnlyList<float> InverseFrequencies => inverseFrequencies;

    /// <summary>cos and sin tables for the given positions: [B, T] -> two [B, T, E] tensors in <paramref name="dtype"/>.</summary>
    public (Tensor Cos, Tensor Sin) Tables(Tensor positionIds, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var inv = tensor(inverseFrequencies, device: positionIds.device);          // [E/2]
        var freqs = positionIds.to(float32).unsqueeze(-1) * inv;                   // [B, T, E/2]
        var emb = cat([freqs, freqs], -1);                                         // [B, T, E]
        return (emb.cos().to(dtype).MoveToOuterDisposeScope(), emb.sin().to(dtype).MoveToOuterDisposeScope());
    }

    /// <summary>x * cos + rotate_half(x) * sin for x [B, heads, T, E] and tables [B, T, E].</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = NewDisposeScope();
        long half = x.shape[^1] / 2;
        var x1 = x.narrow(-1, 0, half);
        var x2 = x.narrow(-1, half, half);
        var rotated = cat([x2.neg(), x1], -1);
        return (x * cos.unsqueeze(1)).Plus(rotated * sin.unsqueeze(1)).MoveToOuterDisposeScope();
    }

    private static double[] Rescale(double[] inv, RopeScaling s)
    {
        if (s.Type == "linear") return inv.Select(f => f / s.Factor).ToArray();
        // llama3: long wavelengths are divided by the factor, short ones kept, the band between interpolated.
        double lowFreqWavelen = s.OriginalMaxPositionEmbeddings / s.LowFreqFactor;
        double highFreqWavelen = s.OriginalMaxPositionEmbeddings / s.HighFreqFactor;
        return inv.Select(f =>
        {
            double wavelen = 2 * Math.PI / f;
            if (wavelen < highFreqWavelen) return f;
            if (wavelen > lowFreqWavelen) return f / s.Factor;
            double smooth = (s.OriginalMaxPositionEmbeddings / wavelen - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
            return (1 - smooth) * f / s.Factor + smooth * f;
        }).ToArray();
    }
}

/// <summary>Grouped-query self-attention with rotary positions, through scaled_dot_product_attention.</summary>
public sealed class Attention : nn.Module
{
    private readonly DecoderLinear q_proj, k_proj, v_proj, o_proj;
    private readonly int heads, kvHeads, headDim;

    public Attention(DecoderConfig c) : base(nameof(Attention))
    {
        heads = c.NumAttentionHeads; kvHeads = c.NumKeyValueHeads; headDim = c.ResolvedHeadDim;
        q_proj = new DecoderLinear(c.HiddenSize, heads * headDim, c.AttentionBias);
        k_proj = new DecoderLinear(c.HiddenSize, kvHeads * headDim, c.AttentionBias);
        v_proj = new DecoderLinear(c.HiddenSize, kvHeads * headDim, c.AttentionBias);
        o_proj = new DecoderLinear(heads * headDim, c.HiddenSize, false);
        RegisterComponents();
    }

    /// <param name="x">[B, T, D]</param>
    /// <param name="cos">[B, T, E]</param>
    /// <param name="sin">[B, T, E]</param>
    /// <param name="mask">additive [B, 1, T, S] (0 = attend, large negative = blocked), or null for plain causal attention</param>
    /// <param name="cache">this layer's KV cache, or null</param>
    /// <returns>[B, T, D]</returns>
    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, Tensor? mask, LayerKvCache? cache)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], t = x.shape[1];
        var q = q_proj.forward(x).view(b, t, heads, headDim).transpose(1, 2);    // [B, H, T, E]
        var k = k_proj.forward(x).view(b, t, kvHeads, headDim).transpose(1, 2);  // [B, K, T, E]
        var v = v_proj.forward(x).view(b, t, kvHeads, headDim).transpose(1, 2);  // [B, K, T, E]
        q = RotaryEmbedding.Apply(q, cos, sin);
        k = RotaryEmbedding.Apply(k, cos, sin);
        if (cache is not null) (k, v) = cache.Append(k, v);                      // [B, K, S, E]
        if (kvHeads != heads) { k = RepeatKv(k, heads / kvHeads); v = RepeatKv(v, heads / kvHeads); } // [B, H, S, E]
        var attended = nn.functional.scaled_dot_product_attention(q, k, v, attn_mask: mask, is_casual: mask is null); // [B, H, T, E]
        var merged = attended.transpose(1, 2).reshape(b, t, heads * headDim);    // [B, T, H*E]
        return o_proj.forward(merged).MoveToOuterDisposeScope();
    }

    // [B, K, S, E] -> [B, K*n, S, E], each key/value head shared by n consecutive query heads (HF repeat_kv).
    private static Tensor RepeatKv(Tensor x, int n)
    {
        long b = x.shape[0], k = x.shape[1], s = x.shape[2], e = x.shape[3];
        return x.unsqueeze(2).expand(b, k, n, s, e).reshape(b, k * n, s, e);
    }
}

/// <summary>SwiGLU feed-forward: down(silu(gate(x)) * up(x)).</summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    private readonly DecoderLinear gate_proj, up_proj, down_proj;

    public Mlp(DecoderConfig c) : base(nameof(Mlp))
    {
        gate_proj = new DecoderLinear(c.HiddenSize, c.IntermediateSize, false);
        up_proj = new DecoderLinear(c.HiddenSize, c.IntermediateSize, false);
        down_proj = new DecoderLinear(c.IntermediateSize, c.HiddenSize, false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) // [B, T, D] -> [B, T, D]
    {
        using var scope = NewDisposeScope();
        var h = nn.functional.silu(gate_proj.forward(x)) * up_proj.forward(x); // [B, T, F]
        return down_proj.forward(h).MoveToOuterDisposeScope();
    }
}

/// <summary>Pre-norm decoder layer: x + attn(norm(x)), then + mlp(norm(.)).</summary>
public sealed class DecoderLayer : nn.Module
{
    private readonly Attention self_attn;
    private readonly Mlp mlp;
    private readonly RmsNorm input_layernorm, post_attention_layernorm;

    public DecoderLayer(DecoderConfig c) : base(nameof(DecoderLayer))
    {
        self_attn = new Attention(c);
        mlp = new Mlp(c);
        input_layernorm = new RmsNorm(c.HiddenSize, c.RmsNormEps);
        post_attention_layernorm = new RmsNorm(c.HiddenSize, c.RmsNormEps);
        RegisterComponents();
    }

    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, Tensor? mask, LayerKvCache? cache) // [B, T, D] -> [B, T, D]
    {
        using var scope = NewDisposeScope();
        var h = x.Plus(self_attn.Forward(input_layernorm.forward(x), cos, sin, mask, cache));
        return h.Plus(mlp.forward(post_attention_layernorm.forward(h))).MoveToOuterDisposeScope();
    }
}

/// <summary>Token embedding, the decoder layers and the final norm (HF's <c>model.*</c>).</summary>
public sealed class DecoderStack : nn.Module
{
    private readonly Embedding embed_tokens;
    private readonly ModuleList<DecoderLayer> layers;
    private readonly RmsNorm norm;

    public DecoderStack(DecoderConfig c) : base(nameof(DecoderStack))
    {
        embed_tokens = nn.Embedding(c.VocabSize, c.HiddenSize);
        layers = new ModuleList<DecoderLayer>(Enumerable.Range(0, c.NumHiddenLayers).Select(_ => new DecoderLayer(c)).ToArray());
        norm = new RmsNorm(c.HiddenSize, c.RmsNormEps);
        RegisterComponents();
    }

    public Embedding EmbedTokens => embed_tokens;
    public IList<DecoderLayer> Layers => layers;

    public Tensor Forward(Tensor inputIds, Tensor cos, Tensor sin, Tensor? mask, KvCache? cache) // [B, T] -> [B, T, D]
    {
        using var scope = NewDisposeScope();
        var h = embed_tokens.forward(inputIds);
        for (int i = 0; i < layers.Count; i++)
        {
            // A scope per layer frees the layer's intermediates as soon as its output exists.
            using var layerScope = NewDisposeScope();
            h = layers[i].Forward(h, cos, sin, mask, cache?.Layers[i]).MoveToOuterDisposeScope();
        }
        return norm.forward(h).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// The causal language model: <c>model</c> (<see cref="DecoderStack"/>) and <c>lm_head</c> (absent when the
/// output projection is tied to the input embedding). The forward pass returns hidden states; logits are
/// computed separately, only at the positions that need them (the vocabulary projection is expensive).
/// </summary>
public sealed class LlamaForCausalLM : LanguageBackbone
{
    private readonly DecoderStack model;
    private readonly DecoderLinear? lm_head;
    private readonly RotaryEmbedding rotary;

    public DecoderConfig Config { get; private set; }

    public LlamaForCausalLM(DecoderConfig config) : base(nameof(LlamaForCausalLM))
    {
        Config = config.Validate();
        model = new DecoderStack(config);
        lm_head = config.TieWordEmbeddings ? null : new DecoderLinear(config.HiddenSize, config.VocabSize, false);
        rotary = new RotaryEmbedding(config);
        RegisterComponents();
    }

    public DecoderStack Model => model;

    public override string ModelType => Config.ModelType;
    public override int HiddenSize => Config.HiddenSize;
    public override int VocabularySize => Config.VocabSize;
    public override bool BidirectionalPrompt => false;
    public override Embedding TokenEmbedding => model.EmbedTokens;
    public override string ToHuggingFaceJson() => Config.ToHuggingFaceJson();

    public override KvCache CreateKvCache(long batch, long maxLength) =>
        new(Config.NumHiddenLayers, batch, Config.NumKeyValueHeads, maxLength, Config.ResolvedHeadDim, Dtype, Device);

    /// <summary>Initialises every weight as HF does for a model trained from scratch: N(0, 0.02), norms at 1.</summary>
    public void InitializeWeights(Generator? generator = null)
    {
        using var _ = no_grad();
        foreach (var (name, p) in named_parameters())
        {
            if (name.EndsWith("layernorm.weight") || name == "model.norm.weight") p.fill_(HeldScalars.One);
            else if (name.EndsWith(".bias")) p.zero_();
            else p.normal_(0, 0.02, generator: generator);
        }
    }

    /// <summary>
    /// Runs the decoder (causal: <paramref name="promptEnds"/> is ignored). Without padding and cache, attention uses
    /// the fused causal path; right padding needs no mask, since no real token attends to a later one. Positions
    /// count real tokens only, so left-padded rows get the positions of unpadded ones.
    /// </summary>
    /// <returns>Final-norm hidden states [B, T, D].</returns>
    public override Tensor Forward(Tensor inputIds, Tensor? attentionMask = null, KvCache? cache = null, Tensor? promptEnds = null)
    {
        using var scope = NewDisposeScope();
        long b = inputIds.shape[0], t = inputIds.shape[1], past = cache?.Length ?? 0;
        Tensor positions;
        Tensor? mask = null;
        if (attentionMask is null)
        {
            positions = arange(past, past + t, dtype: int64, device: inputIds.device).unsqueeze(0).expand(b, t);
            if (cache is not null) mask = AdditiveMask(ones(b, past + t, dtype: int64, device: inputIds.device), t, null, Dtype);
        }
        else
        {
            positions = PositionsFromMask(attentionMask, past, t);
            mask = AdditiveMask(attentionMask, t, null, Dtype);
        }
        var (cos, sin) = rotary.Tables(positions, Dtype);
        return model.Forward(inputIds, cos, sin, mask, cache).MoveToOuterDisposeScope();
    }

    public override Tensor Logits(Tensor hidden) => lm_head is not null ? lm_head.forward(hidden) : nn.functional.linear(hidden, model.EmbedTokens.weight!);

    private protected override void GrowVocabulary(int vocabularySize)
    {
        model.EmbedTokens.weight = new Parameter(GrowRows(model.EmbedTokens.weight!, vocabularySize));
        if (lm_head is not null) lm_head.Weight = new Parameter(GrowRows(lm_head.Weight, vocabularySize));
        Config = Config with { VocabSize = vocabularySize };
    }
}
