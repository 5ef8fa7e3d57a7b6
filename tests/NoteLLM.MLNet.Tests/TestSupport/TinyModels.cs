using NoteLLM.MLNet.Bundle;
using NoteLLM.MLNet.Modeling;
using TorchSharp;
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

    /// <summary>The NoteLLM model the training tests train: a 2-layer decoder (d=64) from random weights, 32-dimensional embeddings.</summary>
    public static NoteLLMModel NoteLLM(int seed = 0, ScalarType dtype = ScalarType.Float32)
    {
        var model = NoteLLMModel.CreateFromScratch(Config(hidden: 64, layers: 2, heads: 4, kvHeads: 2, tied: true), embeddingDimension: 32, seed: seed);
        if (dtype != ScalarType.Float32) model.Network.to(dtype);
        return model;
    }

    /// <summary>Asserts that two modules hold bit-identical weights (a resumed run against an uninterrupted one).</summary>
    public static void AssertIdenticalWeights(nn.Module expected, nn.Module actual, string runs)
    {
        var want = expected.state_dict();
        foreach (var (name, t) in actual.state_dict())
            Assert.True(want[name].eq(t).all().item<bool>(), $"{name} differs between {runs}");
    }
}
