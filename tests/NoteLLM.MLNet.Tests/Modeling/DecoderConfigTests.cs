using NoteLLM.MLNet.Modeling;

namespace NoteLLM.MLNet.Tests.Modeling;

public class DecoderConfigTests
{
    private const string Qwen2Json = """
    {
      "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "vocab_size": 151936, "hidden_size": 896,
      "intermediate_size": 4864, "num_hidden_layers": 24, "num_attention_heads": 14, "num_key_value_heads": 2,
      "max_position_embeddings": 32768, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "tie_word_embeddings": true,
      "bos_token_id": 151643, "eos_token_id": 151645, "hidden_act": "silu", "torch_dtype": "bfloat16"
    }
    """;

    [Fact]
    public void ReadsQwen2WithBiasAndGqa()
    {
        var c = DecoderConfig.FromHuggingFaceJson(Qwen2Json);
        Assert.True(c.AttentionBias);
        Assert.Equal(64, c.ResolvedHeadDim);
        Assert.Equal(2, c.NumKeyValueHeads);
        Assert.Equal(1_000_000.0, c.RopeTheta);
        Assert.True(c.TieWordEmbeddings);
        Assert.Equal(151645, c.EosTokenId);
    }

    [Fact]
    public void Llama3RopeScalingIsAcceptedAndUnknownScalingRefused()
    {
        string llama3 = """
        {"model_type": "llama", "vocab_size": 128256, "hidden_size": 2048, "intermediate_size": 8192,
         "num_hidden_layers": 16, "num_attention_heads": 32, "num_key_value_heads": 8, "eos_token_id": [128001, 128008],
         "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                          "original_max_position_embeddings": 8192, "rope_type": "llama3"}}
        """;
        var c = DecoderConfig.FromHuggingFaceJson(llama3);
        Assert.Equal("llama3", c.RopeScaling!.Type);
        Assert.Equal(128001, c.EosTokenId);

        var e = Assert.Throws<NotSupportedException>(() => DecoderConfig.FromHuggingFaceJson(llama3.Replace("\"llama3\"", "\"yarn\"")));
        Assert.Contains("'yarn'", e.Message);
    }

    [Fact]
    public void WholeNumbersWrittenAsFloatsAreRead()
    {
        var config = DecoderConfig.FromHuggingFaceJson(Qwen2Json.Replace("\"hidden_size\": 896", "\"hidden_size\": 896.0"));
        Assert.Equal(896, config.HiddenSize);
    }

    [Fact]
    public void RoundTripsThroughHuggingFaceJson()
    {
        var c = DecoderConfig.FromHuggingFaceJson(Qwen2Json);
        Assert.Equal(c, DecoderConfig.FromHuggingFaceJson(c.ToHuggingFaceJson()));
    }

    [Theory]
    [InlineData("\"model_type\": \"qwen2\"", "\"model_type\": \"gpt2\"", "model_type 'gpt2'")]
    [InlineData("\"num_key_value_heads\": 2", "\"num_key_value_heads\": 3", "multiple of num_key_value_heads")]
    [InlineData("\"vocab_size\": 151936,", "", "missing 'vocab_size'")]
    [InlineData("\"vocab_size\": 151936", "\"vocab_size\": \"151936\"", "'vocab_size' is \"151936\", not a whole number")]
    [InlineData("\"hidden_size\": 896", "\"hidden_size\": 896.5", "'hidden_size' is 896.5, not a whole number")]
    [InlineData("\"rope_theta\": 1000000.0", "\"rope_theta\": 0", "rope_theta must be a positive number (got 0)")]
    [InlineData("\"rope_theta\": 1000000.0", "\"rope_theta\": \"big\"", "'rope_theta' is \"big\", not a number")]
    [InlineData("\"rms_norm_eps\": 1e-06", "\"rms_norm_eps\": -1e-06", "rms_norm_eps must be a positive number")]
    [InlineData("\"rope_theta\": 1000000.0,", "\"rope_theta\": 1000000.0, \"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8, \"low_freq_factor\": 4, \"high_freq_factor\": 1},", "0 < low_freq_factor < high_freq_factor")]
    public void InvalidConfigsNameTheField(string find, string replace, string expected)
    {
        var e = Assert.ThrowsAny<Exception>(() => DecoderConfig.FromHuggingFaceJson(Qwen2Json.Replace(find, replace)));
        Assert.Contains(expected, e.Message);
    }
}
