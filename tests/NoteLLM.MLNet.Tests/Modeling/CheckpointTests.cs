using NoteLLM.MLNet.Modeling;
using NoteLLM.MLNet.Tests.TestSupport;
using TorchSharp;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Tests.Modeling;

public class CheckpointTests
{
    private static void AssertSameWeights(LlamaForCausalLM expected, LlamaForCausalLM actual, ScalarType? asDtype = null)
    {
        var a = expected.state_dict();
        var b = actual.state_dict();
        Assert.Equal(a.Keys.OrderBy(k => k), b.Keys.OrderBy(k => k));
        foreach (var (name, t) in a)
        {
            var want = asDtype is { } d ? t.to(d) : t;
            Assert.True(want.to(b[name].dtype).eq(b[name]).all().item<bool>(), $"tensor {name} differs after the round trip");
        }
    }

    [Theory]
    [InlineData("llama", false)]
    [InlineData("mistral", true)]
    [InlineData("qwen2", false)]
    public void SingleFileF32RoundTripIsBitExact(string modelType, bool tied)
    {
        using var dir = new TempFolder();
        using var model = TinyModels.Create(TinyModels.Config(modelType, tied: tied));
        HuggingFaceCheckpoint.Save(model, dir.Path);

        Assert.True(File.Exists(dir.File("config.json")));
        Assert.True(File.Exists(dir.File("model.safetensors")));
        Assert.False(File.Exists(dir.File("model.safetensors.index.json")));
        using var loaded = HuggingFaceCheckpoint.Load(dir.Path);
        Assert.Equal(model.Config, loaded.Config);
        AssertSameWeights(model, loaded);
        if (modelType == "qwen2") Assert.Contains("model.layers.0.self_attn.q_proj.bias", loaded.state_dict().Keys);
        if (tied) Assert.DoesNotContain("lm_head.weight", loaded.state_dict().Keys);
    }

    [Fact]
    public void ShardedCheckpointWithIndexRoundTripsBitExact()
    {
        using var dir = new TempFolder();
        using var model = TinyModels.Create(TinyModels.Config());
        HuggingFaceCheckpoint.Save(model, dir.Path, maxShardBytes: 20_000);

        var shards = Directory.GetFiles(dir.Path, "model-*-of-*.safetensors");
        Assert.True(shards.Length >= 3, $"expected several shards, got {shards.Length}");
        Assert.True(File.Exists(dir.File("model.safetensors.index.json")));
        Assert.False(File.Exists(dir.File("model.safetensors")));
        var savedAgain = HuggingFaceCheckpoint.LoadChunkBytes;
        HuggingFaceCheckpoint.LoadChunkBytes = 4_000; // force several chunks per shard
        try
        {
            using var loaded = HuggingFaceCheckpoint.Load(dir.Path);
            AssertSameWeights(model, loaded);
        }
        finally { HuggingFaceCheckpoint.LoadChunkBytes = savedAgain; }
    }

    [Fact]
    public void Bf16CheckpointLoadsBitExactIntoBf16AndF32Models()
    {
        using var dir = new TempFolder();
        using var model = TinyModels.Create(TinyModels.Config());
        HuggingFaceCheckpoint.Save(model, dir.Path, dtype: ScalarType.BFloat16);

        using var asBf16 = HuggingFaceCheckpoint.Load(dir.Path, ScalarType.BFloat16);
        Assert.Equal(ScalarType.BFloat16, asBf16.Dtype);
        AssertSameWeights(model, asBf16, asDtype: ScalarType.BFloat16);
        using var asF32 = HuggingFaceCheckpoint.Load(dir.Path);
        Assert.Equal(ScalarType.Float32, asF32.Dtype);
        // bf16 -> f32 is exact, so the f32 model holds exactly the rounded values
        foreach (var (name, t) in model.state_dict())
            Assert.True(t.to(ScalarType.BFloat16).to(ScalarType.Float32).eq(asF32.state_dict()[name]).all().item<bool>(), name);
    }

    [Fact]
    public void WrongShapeNamesTheTensor()
    {
        using var dir = new TempFolder();
        using (var model = TinyModels.Create(TinyModels.Config(hidden: 32)))
            HuggingFaceCheckpoint.Save(model, dir.Path);
        using var other = new LlamaForCausalLM(TinyModels.Config(hidden: 32) with { IntermediateSize = 40 });
        var e = Assert.Throws<InvalidDataException>(() => HuggingFaceCheckpoint.LoadWeights(other, dir.Path));
        Assert.Contains("model.layers.0.mlp.gate_proj.weight", e.Message);
        Assert.Contains("[72, 32]", e.Message);
        Assert.Contains("[40, 32]", e.Message);
    }

    [Fact]
    public void UnexpectedAndMissingTensorsAreNamed()
    {
        using var dir = new TempFolder();
        using (var model = TinyModels.Create(TinyModels.Config(layers: 2)))
            HuggingFaceCheckpoint.Save(model, dir.Path);

        using var fewerLayers = new LlamaForCausalLM(TinyModels.Config(layers: 1));
        var unexpected = Assert.Throws<InvalidDataException>(() => HuggingFaceCheckpoint.LoadWeights(fewerLayers, dir.Path));
        Assert.Contains("Unexpected tensor 'model.layers.1.", unexpected.Message);

        using var moreLayers = new LlamaForCausalLM(TinyModels.Config(layers: 3));
        var missing = Assert.Throws<InvalidDataException>(() => HuggingFaceCheckpoint.LoadWeights(moreLayers, dir.Path));
        Assert.Contains("missing", missing.Message);
        Assert.Contains("model.layers.2.", missing.Message);
    }

    [Fact]
    public void TruncatedFileAndMissingShardGiveClearErrors()
    {
        using var dir = new TempFolder();
        using (var model = TinyModels.Create(TinyModels.Config()))
            HuggingFaceCheckpoint.Save(model, dir.Path);
        var bytes = File.ReadAllBytes(dir.File("model.safetensors"));
        File.WriteAllBytes(dir.File("model.safetensors"), bytes[..(bytes.Length / 2)]);
        var truncated = Assert.Throws<InvalidDataException>(() => HuggingFaceCheckpoint.Load(dir.Path));
        Assert.Contains("truncated", truncated.Message);

        using var sharded = new TempFolder();
        using (var model = TinyModels.Create(TinyModels.Config()))
            HuggingFaceCheckpoint.Save(model, sharded.Path, maxShardBytes: 20_000);
        File.Delete(Directory.GetFiles(sharded.Path, "model-00002-of-*.safetensors").Single());
        var missingShard = Assert.Throws<FileNotFoundException>(() => HuggingFaceCheckpoint.Load(sharded.Path));
        Assert.Contains("model-00002-of-", missingShard.Message);
    }

    // Rewrites the JSON header of a safetensors file through edit, keeping its data bytes.
    private static void EditHeader(string file, Action<System.Text.Json.Nodes.JsonObject> edit)
    {
        var bytes = File.ReadAllBytes(file);
        long length = BitConverter.ToInt64(bytes, 0);
        var header = System.Text.Json.Nodes.JsonNode.Parse(bytes.AsSpan(8, (int)length))!.AsObject();
        edit(header);
        var json = System.Text.Encoding.UTF8.GetBytes(header.ToJsonString());
        File.WriteAllBytes(file, [.. BitConverter.GetBytes((long)json.Length), .. json, .. bytes.AsSpan(8 + (int)length)]);
    }

    [Theory]
    [InlineData("half", "holds 64 bytes where its shape [32] of F32 takes 128")]
    [InlineData("reversed", "not [begin, end] with 0 <= begin <= end")]
    [InlineData("shared", "share bytes")]
    [InlineData("no offsets", "lacks a string \"dtype\"")]
    public void SafetensorsHeadersWhoseOffsetsDoNotFitTheirTensorsAreRefused(string damage, string expected)
    {
        // the shapes still match the model: only the byte ranges are wrong, which torch copied wrong or failed on unnamed
        using var dir = new TempFolder();
        using (var model = TinyModels.Create(TinyModels.Config()))
            HuggingFaceCheckpoint.Save(model, dir.Path);
        EditHeader(dir.File("model.safetensors"), header =>
        {
            var norm = header["model.norm.weight"]!.AsObject();
            long begin = norm["data_offsets"]![0]!.GetValue<long>();
            // another tensor of the same 32 floats: the first layer's input norm
            var other = header["model.layers.0.input_layernorm.weight"]!["data_offsets"]!.AsArray();
            norm["data_offsets"] = damage switch
            {
                "half" => new System.Text.Json.Nodes.JsonArray(begin, begin + 64),
                "reversed" => new System.Text.Json.Nodes.JsonArray(begin + 128, begin),
                "shared" => new System.Text.Json.Nodes.JsonArray(other[0]!.GetValue<long>(), other[1]!.GetValue<long>()),
                _ => null,
            };
            if (damage == "no offsets") norm.Remove("data_offsets");
        });

        var error = Assert.Throws<InvalidDataException>(() => HuggingFaceCheckpoint.Load(dir.Path));
        Assert.Contains(expected, error.Message);
        if (damage != "shared") Assert.Contains("'model.norm.weight'", error.Message);
    }

    [Fact]
    public void FolderWithoutWeightsSaysWhatIsExpected()
    {
        using var dir = new TempFolder();
        File.WriteAllText(dir.File("config.json"), TinyModels.Config().ToHuggingFaceJson());
        File.WriteAllText(dir.File("pytorch_model.bin"), "x");
        var e = Assert.Throws<FileNotFoundException>(() => HuggingFaceCheckpoint.Load(dir.Path));
        Assert.Contains("model.safetensors", e.Message);
        Assert.Contains("pytorch_model.bin", e.Message);
    }
}
