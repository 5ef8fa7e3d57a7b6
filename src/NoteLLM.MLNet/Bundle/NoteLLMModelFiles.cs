using System.Text.Json;
using System.Text.Json.Serialization;
using NoteLLM.MLNet.Data;
using NoteLLM.MLNet.Modeling;
using NoteLLM.MLNet.Prompting;
using NoteLLM.MLNet.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Bundle;

/// <summary>
/// Saves and loads a <see cref="NoteLLMModel"/> as a set of files: <c>notellm.json</c> (format version, embedding
/// size and read-out, prompt templates and limits, legal categories, generation tasks learned, tokenizer kind), <c>config.json</c> (the backbone, HF form),
/// <c>model.safetensors</c> (every weight) and <c>tokenizer/*</c> (the tokenizer's own files).
/// </summary>
public static class NoteLLMModelFiles
{
    /// <summary>Version of this layout; bump it when the layout changes, and keep reading the old ones.</summary>
    /// <remarks>
    /// 2: the embedding read-out and BERT backbones (version 1 files read out the token before [EMB]). 3: embedding
    /// prompt limits of their own; a model without them is still written as version 2, so older readers load it. The
    /// generation tasks learned are optional (absent: both), so they need no version: older readers ignore them.
    /// </remarks>
    public const int FormatVersion = 3;

    private sealed record Manifest(int FormatVersion, int EmbeddingDimension, string TokenizerKind, string[] TokenizerFiles,
        NotePromptTemplates Templates, NotePromptLimits Limits, string[] Categories, string Dtype, LoraAdapter[]? Lora,
        EmbeddingReadout Readout = EmbeddingReadout.TokenBeforeEmb, NotePromptLimits? EmbeddingLimits = null,
        GenerationTasks? LearnedTasks = null);

    /// <summary>A LoRA adapter on the decoder projection <paramref name="Module"/> (rebuilt before the weights load).</summary>
    private sealed record LoraAdapter(string Module, int Rank, double Alpha);

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Converters = { new JsonStringEnumConverter() },
    };

    public static void Save(NoteLLMModel model, IModelFileSink storage)
    {
        var embeddingLimits = model.EmbedsWithTrainingPrompts ? null : model.EmbeddingPrompts.Limits;
        var manifest = new Manifest(embeddingLimits is null ? 2 : FormatVersion, model.EmbeddingDimension, model.Tokenizer.Kind, model.Tokenizer.Files.Keys.ToArray(),
            model.Prompts.Templates, model.Prompts.Limits, model.Categories.ToArray(), model.Backbone.Dtype.ToString(),
            model.Backbone.named_modules().Where(m => m.module is DecoderLinear { HasLora: true })
                .Select(m => { var (rank, alpha) = ((DecoderLinear)m.module).Lora!.Value; return new LoraAdapter(m.name, rank, alpha); }).ToArray(),
            model.Network.Readout, embeddingLimits, model.LearnedTasks);
        storage.Write("notellm.json", s => JsonSerializer.Serialize(s, manifest, Json));
        storage.Write("config.json", s => { using var w = new StreamWriter(s); w.Write(model.Backbone.ToHuggingFaceJson()); });
        foreach (var (name, bytes) in model.Tokenizer.Files)
            storage.Write("tokenizer/" + name, s => s.Write(bytes));
        storage.Write("model.safetensors", s => HuggingFaceCheckpoint.WriteSafetensors(s, model.Network.state_dict()));
    }

    /// <summary>
    /// Saves <paramref name="model"/> to <paramref name="folder"/>: written whole to a staging folder beside it first, so
    /// a save that fails (a full disk, a bad weight) leaves the folder's earlier model as it was, never its new
    /// notellm.json beside its old weights. Other files in the folder stay; the earlier model's tokenizer files go.
    /// </summary>
    public static void Save(NoteLLMModel model, string folder) =>
        AtomicFile.WriteFolder(folder, staging => Save(model, new FolderModelStorage(staging)), staging =>
        {
            Directory.CreateDirectory(folder);
            string tokenizer = Path.Combine(folder, "tokenizer");
            if (Directory.Exists(tokenizer)) Directory.Delete(tokenizer, recursive: true); // another tokenizer has other files
            foreach (string file in Directory.EnumerateFiles(staging, "*", SearchOption.AllDirectories))
            {
                string target = Path.Combine(folder, Path.GetRelativePath(staging, file));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Move(file, target, overwrite: true);
            }
        });

    public static NoteLLMModel Load(string folder) => Load(new FolderModelStorage(folder));

    public static NoteLLMModel Load(IModelFileSource storage)
    {
        var manifest = storage.Read("notellm.json", s => JsonSerializer.Deserialize<Manifest>(s, Json))
            ?? throw new InvalidDataException("notellm.json is empty.");
        if (manifest.FormatVersion > FormatVersion)
            throw new InvalidDataException($"This model was saved in format version {manifest.FormatVersion}; this NoteLLM.MLNet reads up to version {FormatVersion}. Update the package.");
        var dtype = Check(manifest);
        var decoder = storage.Read("config.json", s => LanguageBackbone.FromHuggingFaceJson(new StreamReader(s).ReadToEnd()));
        NoteLLMNetwork? network = null;
        try
        {
            var files = manifest.TokenizerFiles.ToDictionary(f => f, f => storage.Read("tokenizer/" + f, s => { var m = new MemoryStream(); s.CopyTo(m); return m.ToArray(); }));
            var tokenizer = NoteTokenizer.FromFiles(manifest.TokenizerKind, files);

            var adapted = decoder.named_modules().ToDictionary(m => m.name, m => m.module);
            foreach (var adapter in manifest.Lora ?? [])
            {
                if (!adapted.TryGetValue(adapter.Module, out var module) || module is not DecoderLinear linear)
                    throw new InvalidDataException($"notellm.json names a LoRA adapter on '{adapter.Module}', which the decoder does not have.");
                linear.AddLora(adapter.Rank, adapter.Alpha);
            }
            network = new NoteLLMNetwork(decoder, manifest.EmbeddingDimension, readout: manifest.Readout);
            if (dtype != ScalarType.Float32) network.to(dtype);
            // safetensors needs random access; a zip entry is a forward-only stream, so stage it in a temp file
            string staged = Path.Combine(Path.GetTempPath(), $"notellm-weights-{Guid.NewGuid():N}.safetensors");
            try
            {
                storage.Read("model.safetensors", s => { using var f = File.Create(staged); s.CopyTo(f); return 0; });
                HuggingFaceCheckpoint.LoadSafetensorsFile(network, staged, "The saved model's weights", shownAs: "model.safetensors");
            }
            finally { File.Delete(staged); }
            var model = new NoteLLMModel(network, tokenizer, new NotePromptBuilder(tokenizer, manifest.Templates, manifest.Limits), manifest.Categories);
            if (manifest.EmbeddingLimits is { } embedding) model.UseEmbeddingPromptLimits(embedding);
            if (manifest.LearnedTasks is { } learned) model.LearnedTasks = learned; // absent before it was recorded: both
            return model;
        }
        catch
        {
            // the network owns the decoder once made; before that the decoder is disposed alone
            if (network is not null) network.Dispose();
            else decoder.Dispose();
            throw;
        }
    }

    // The manifest's own fields, checked before anything is built from them; returns the weights' dtype.
    private static ScalarType Check(Manifest manifest)
    {
        static InvalidDataException Bad(string what) => new($"notellm.json {what}.");
        if (manifest.TokenizerFiles is not { } files) throw Bad("lacks its list of tokenizer files"); // empty for GPT-2, which ships in its package
        // the names become paths under tokenizer/: a file name only, never a way out of the model's folder
        if (files.FirstOrDefault(f => string.IsNullOrEmpty(f) || f is "." or ".." || f.IndexOfAny(['/', '\\', ':']) >= 0) is { } badName)
            throw Bad($"lists the tokenizer file '{badName}', which is not a plain file name");
        if (manifest.EmbeddingDimension is < 1 or > 65_536) throw Bad($"gives an embedding dimension of {manifest.EmbeddingDimension}; expected 1 to 65,536");
        if (!Enum.IsDefined(manifest.Readout)) throw Bad($"gives an unknown embedding read-out ({(int)manifest.Readout})");
        if (!Enum.TryParse<ScalarType>(manifest.Dtype, out var dtype) || dtype is not (ScalarType.Float32 or ScalarType.BFloat16 or ScalarType.Float16))
            throw Bad($"gives the weights' dtype as '{manifest.Dtype}'; expected Float32, BFloat16 or Float16");
        if (manifest.Templates is null || manifest.Limits is null || manifest.Categories is null) throw Bad("lacks its prompt templates, limits or categories");
        if ((manifest.Limits.Problem("Limits") ?? manifest.EmbeddingLimits?.Problem("EmbeddingLimits")) is { } limits) throw Bad($"has invalid prompt limits: {limits}");
        return dtype;
    }
}
