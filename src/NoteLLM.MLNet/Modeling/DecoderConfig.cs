using System.Text.Json;
using System.Text.Json.Nodes;

namespace NoteLLM.MLNet.Modeling;

/// <summary>
/// Shape of a LLaMA-family causal decoder, read from (and written to) a Hugging Face <c>config.json</c>.
/// Covers <c>model_type</c> <c>llama</c>, <c>mistral</c> and <c>qwen2</c>; the only architectural
/// difference among them that matters here is Qwen2's bias on the q/k/v projections.
/// </summary>
public sealed record DecoderConfig
{
    /// <summary>Hugging Face <c>model_type</c>: llama, mistral or qwen2.</summary>
    public string ModelType { get; init; } = "llama";
    public int VocabSize { get; init; } = 32000;
    public int HiddenSize { get; init; } = 4096;
    public int IntermediateSize { get; init; } = 11008;
    public int NumHiddenLayers { get; init; } = 32;
    public int NumAttentionHeads { get; init; } = 32;
    /// <summary>Key/value heads for grouped-query attention; equal to <see cref="NumAttentionHeads"/> for plain multi-head attention.</summary>
    public int NumKeyValueHeads { get; init; } = 32;
    /// <summary>Per-head dimension; defaults to hidden / heads when config.json has no <c>head_dim</c>.</summary>
    public int HeadDim { get; init; }
    public int MaxPositionEmbeddings { get; init; } = 4096;
    public double RmsNormEps { get; init; } = 1e-5;
    public double RopeTheta { get; init; } = 10000.0;
    /// <summary>Rotary scaling (<c>rope_scaling</c>), or null for none.</summary>
    public RopeScaling? RopeScaling { get; init; }
    public bool TieWordEmbeddings { get; init; }
    /// <summary>Bias on q/k/v projections (true for qwen2).</summary>
    public bool AttentionBias { get; init; }
    public int? BosTokenId { get; init; } = 1;
    public int? EosTokenId { get; init; } = 2;
    public int? PadTokenId { get; init; }

    public int ResolvedHeadDim => HeadDim > 0 ? HeadDim : HiddenSize / NumAttentionHeads;

    /// <summary>Throws <see cref="InvalidOperationException"/> naming the first inconsistent field.</summary>
    public DecoderConfig Validate()
    {
        void Require(bool ok, string message) { if (!ok) throw new InvalidOperationException($"Invalid decoder config: {message}"); }
        Require(ModelType is "llama" or "mistral" or "qwen2", $"model_type '{ModelType}' is not supported; expected llama, mistral or qwen2.");
        Require(VocabSize > 0, $"vocab_size must be positive (got {VocabSize}).");
        Require(HiddenSize > 0 && IntermediateSize > 0 && NumHiddenLayers > 0, "hidden_size, intermediate_size and num_hidden_layers must be positive.");
        Require(NumAttentionHeads > 0 && NumKeyValueHeads > 0, "num_attention_heads and num_key_value_heads must be positive.");
        Require(NumAttentionHeads % NumKeyValueHeads == 0, $"num_attention_heads ({NumAttentionHeads}) must be a multiple of num_key_value_heads ({NumKeyValueHeads}).");
        Require(HeadDim > 0 || HiddenSize % NumAttentionHeads == 0, $"hidden_size ({HiddenSize}) must be divisible by num_attention_heads ({NumAttentionHeads}) when head_dim is not given.");
        Require(ResolvedHeadDim % 2 == 0, $"head dimension ({ResolvedHeadDim}) must be even for rotary embeddings.");
        // 0, a negative or NaN theta gives infinite rotary frequencies, and such an epsilon divides by zero: every output NaN
        Require(double.IsFinite(RopeTheta) && RopeTheta > 0, $"rope_theta must be a positive number (got {RopeTheta}).");
        Require(double.IsFinite(RmsNormEps) && RmsNormEps > 0, $"rms_norm_eps must be a positive number (got {RmsNormEps}).");
        RopeScaling?.Validate();
        return this;
    }

    /// <summary>Reads a Hugging Face <c>config.json</c>.</summary>
    public static DecoderConfig FromHuggingFaceJson(string json, string source = "config.json")
    {
        JsonObject root;
        try { root = JsonNode.Parse(json)?.AsObject() ?? throw new JsonException("empty document"); }
        catch (JsonException e) { throw new InvalidDataException($"{source} is not valid JSON: {e.Message}", e); }

        string modelType = root["model_type"]?.GetValue<string>()
            ?? throw new InvalidDataException($"{source} has no 'model_type'; expected llama, mistral or qwen2.");
        int Int(string key, int? fallback = null) =>
            root[key] is JsonNode n ? Whole(n, key) : fallback ?? throw new InvalidDataException($"{source} is missing '{key}'.");
        int? OptionalId(string key) => root[key] switch
        {
            null => null,
            JsonArray a => a.Count > 0 ? Whole(a[0], key) : null, // several EOS ids: the first ends generation
            JsonNode n => Whole(n, key),
        };
        // a whole number, also when written 4096.0 (some exporters do); anything else names the key
        int Whole(JsonNode? n, string key)
        {
            if (n is JsonValue v)
            {
                if (v.TryGetValue(out int i)) return i;
                if (v.TryGetValue(out double d) && d == Math.Floor(d) && d is >= int.MinValue and <= int.MaxValue) return (int)d;
            }
            throw new InvalidDataException($"{source}: '{key}' is {n?.ToJsonString() ?? "null"}, not a whole number.");
        }
        double Number(string key, double fallback) =>
            root[key] is not JsonNode n ? fallback
            : n is JsonValue v && v.TryGetValue(out double d) ? d : throw new InvalidDataException($"{source}: '{key}' is {n.ToJsonString()}, not a number.");

        int heads = Int("num_attention_heads");
        return new DecoderConfig
        {
            ModelType = modelType,
            VocabSize = Int("vocab_size"),
            HiddenSize = Int("hidden_size"),
            IntermediateSize = Int("intermediate_size"),
            NumHiddenLayers = Int("num_hidden_layers"),
            NumAttentionHeads = heads,
            NumKeyValueHeads = Int("num_key_value_heads", heads),
            HeadDim = Int("head_dim", 0),
            MaxPositionEmbeddings = Int("max_position_embeddings", 4096),
            RmsNormEps = Number("rms_norm_eps", 1e-6),
            RopeTheta = Number("rope_theta", 10000.0),
            RopeScaling = root["rope_scaling"] is JsonObject rs ? RopeScaling.FromJson(rs, source) : null,
            TieWordEmbeddings = root["tie_word_embeddings"]?.GetValue<bool>() ?? false,
            AttentionBias = root["attention_bias"]?.GetValue<bool>() ?? modelType == "qwen2",
            BosTokenId = OptionalId("bos_token_id"),
            EosTokenId = OptionalId("eos_token_id"),
            PadTokenId = OptionalId("pad_token_id"),
        }.Validate();
    }

    /// <summary>Writes the config in Hugging Face <c>config.json</c> form (what <see cref="FromHuggingFaceJson"/> reads).</summary>
    public string ToHuggingFaceJson()
    {
        var o = new JsonObject
        {
            ["architectures"] = new JsonArray(ModelType switch { "qwen2" => "Qwen2ForCausalLM", "mistral" => "MistralForCausalLM", _ => "LlamaForCausalLM" }),
            ["model_type"] = ModelType,
            ["vocab_size"] = VocabSize,
            ["hidden_size"] = HiddenSize,
            ["intermediate_size"] = IntermediateSize,
            ["num_hidden_layers"] = NumHiddenLayers,
            ["num_attention_heads"] = NumAttentionHeads,
            ["num_key_value_heads"] = NumKeyValueHeads,
            ["head_dim"] = HeadDim > 0 ? HeadDim : null,
            ["max_position_embeddings"] = MaxPositionEmbeddings,
            ["rms_norm_eps"] = RmsNormEps,
            ["rope_theta"] = RopeTheta,
            ["rope_scaling"] = RopeScaling?.ToJson(),
            ["tie_word_embeddings"] = TieWordEmbeddings,
            ["attention_bias"] = AttentionBias,
            ["hidden_act"] = "silu",
            ["bos_token_id"] = BosTokenId,
            ["eos_token_id"] = EosTokenId,
            ["pad_token_id"] = PadTokenId,
            ["torch_dtype"] = "float32",
        };
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }
}

/// <summary>
/// Rotary position scaling from config.json's <c>rope_scaling</c>. Supported: <c>linear</c> (positions divided
/// by the factor) and <c>llama3</c> (per-frequency rescaling, LLaMA 3.1). Anything else is refused up front.
/// </summary>
public sealed record RopeScaling(string Type, double Factor, double LowFreqFactor = 1, double HighFreqFactor = 4, int OriginalMaxPositionEmbeddings = 8192)
{
    public void Validate()
    {
        if (Type is not ("linear" or "llama3"))
            throw new NotSupportedException($"rope_scaling type '{Type}' is not supported; supported types are 'linear' and 'llama3'. Remove rope_scaling or use a checkpoint without it.");
        if (!double.IsFinite(Factor) || Factor <= 0) throw new InvalidOperationException($"rope_scaling factor must be a positive number (got {Factor}).");
        if (Type == "llama3" && !(double.IsFinite(LowFreqFactor) && double.IsFinite(HighFreqFactor) && LowFreqFactor > 0 && HighFreqFactor > LowFreqFactor && OriginalMaxPositionEmbeddings > 0))
            throw new InvalidOperationException($"rope_scaling llama3 needs 0 < low_freq_factor < high_freq_factor and a positive original_max_position_embeddings (got {LowFreqFactor}, {HighFreqFactor}, {OriginalMaxPositionEmbeddings}).");
    }

    internal static RopeScaling FromJson(JsonObject o, string source)
    {
        string type = (o["rope_type"] ?? o["type"])?.GetValue<string>()
            ?? throw new InvalidDataException($"{source}: rope_scaling has neither 'rope_type' nor 'type'.");
        var r = new RopeScaling(type,
            o["factor"]?.GetValue<double>() ?? 1.0,
            o["low_freq_factor"]?.GetValue<double>() ?? 1.0,
            o["high_freq_factor"]?.GetValue<double>() ?? 4.0,
            o["original_max_position_embeddings"]?.GetValue<int>() ?? 8192);
        r.Validate();
        return r;
    }

    internal JsonObject ToJson() => new()
    {
        ["rope_type"] = Type,
        ["factor"] = Factor,
        ["low_freq_factor"] = LowFreqFactor,
        ["high_freq_factor"] = HighFreqFactor,
        ["original_max_position_embeddings"] = OriginalMaxPositionEmbeddings,
    };
}
