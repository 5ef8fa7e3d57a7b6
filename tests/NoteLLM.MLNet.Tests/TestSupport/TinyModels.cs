using NoteLLM.MLNet.Modeling;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Tests.TestSupport;

/// <summary>Small decoder configurations that tests build and train in seconds.</summary>
public static class TinyModels
{
    public static DecoderConfig Config(string modelType = "llama", int vocab = 97, int hidden = 32, int layers = 2,
        int heads = 4, int kvHeads = 2, bool tied = false) => new DecoderConfig
        {
            ModelType = modelType,
            VocabSize = vocab,
            HiddenSize = hidden,
            IntermediateSize = hidden * 2 + 8,
            NumHiddenLayers = layers,
            NumAttentionHeads = heads,
            NumKeyValueHeads = kvHeads,
            MaxPositionEmbeddings = 256,
            RmsNormEps = 1e-6,
            RopeTheta = 10000,
            TieWordEmbeddings = tied,
            AttentionBias = modelType == "qwen2",
            BosTokenId = 1,
            EosTokenId = 2,
        };

    /// <summary>A randomly initialised model (seeded); weights larger than HF's 0.02 so outputs differ clearly.</summary>
    public static LlamaForCausalLM Create(DecoderConfig config, int seed = 7)
    {
        manual_seed(seed);
        var model = new LlamaForCausalLM(config);
        using var _ = no_grad();
        foreach (var (name, p) in model.named_parameters())
            if (name.EndsWith("norm.weight")) p.uniform_(0.5, 1.5); else p.normal_(0, 0.2);
        model.eval();
        return model;
    }

    /// <summary>A tiny BERT encoder (seeded, weights larger than BERT's 0.02 so outputs differ clearly).</summary>
    public static BertPrefixLM CreateBert(int vocab = 97, int hidden = 32, int layers = 2, int heads = 4, int seed = 7)
    {
        manual_seed(seed);
        var model = new BertPrefixLM(new BertConfig
        {
            VocabSize = vocab,
            HiddenSize = hidden,
            NumHiddenLayers = layers,
            NumAttentionHeads = heads,
            IntermediateSize = hidden * 2 + 8,
            MaxPositionEmbeddings = 128,
        });
        using var _ = no_grad();
        foreach (var (name, p) in model.named_parameters())
            if (name.EndsWith("LayerNorm.weight")) p.uniform_(0.5, 1.5); else p.normal_(0, 0.2);
        model.eval();
        return model;
    }
}
