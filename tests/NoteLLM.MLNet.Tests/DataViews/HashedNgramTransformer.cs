using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using NoteLLM.MLNet.DataViews;

namespace NoteLLM.MLNet.Tests.DataViews;

/// <summary>Options of the test transformer (a stand-in for the NoteLLM transformer, with the same column conventions).</summary>
public sealed class HashedNgramOptions
{
    public string TitleColumn { get; set; } = "Title";
    public string HashtagsColumn { get; set; } = "Hashtags";
    public string EmbeddingColumn { get; set; } = "Embedding";
    public string CategoryColumn { get; set; } = "GeneratedCategory";
    public string GeneratedHashtagsColumn { get; set; } = "GeneratedHashtags";
    public int Buckets { get; set; } = 64;
    public int Dimension { get; set; } = 8;
    public int BatchSize { get; set; } = 16;
    public int Seed { get; set; } = 1;
}

/// <summary>"Fits" (draws) the weight matrix of a <see cref="HashedNgramTransformer"/>.</summary>
public sealed class HashedNgramEstimator : IEstimator<HashedNgramTransformer>
{
    private readonly IHostEnvironment env;
    private readonly HashedNgramOptions options;

    public HashedNgramEstimator(IHostEnvironment env, HashedNgramOptions options)
    {
        this.env = env;
        this.options = options;
    }

    public HashedNgramTransformer Fit(IDataView input)
    {
        foreach (var column in HashedNgramTransformer.Inputs(options))
            column.Check(input.Schema);
        var random = new Random(options.Seed);
        var weights = new float[options.Buckets * options.Dimension];
        for (int i = 0; i < weights.Length; i++)
            weights[i] = (float)(random.NextDouble() * 2 - 1);
        return new HashedNgramTransformer(env, options, weights);
    }

    public SchemaShape GetOutputSchema(SchemaShape inputSchema) =>
        OutputColumn.GetOutputSchema(inputSchema, HashedNgramTransformer.Inputs(options), HashedNgramTransformer.Outputs(options));
}

/// <summary>
/// A small but real batched transformer: maps a note's title (character trigrams) and hashtags through a hashed
/// embedding table to an embedding, and derives a category and a hashtag list from them. It records every batch
/// it computes so tests can check the plumbing's batching.
/// </summary>
public sealed class HashedNgramTransformer : BatchedTransformerBase
{
    public const string LoaderSignature = "HashedNgramTestXf";

    private static readonly ModelFormat ModelFormat = new("HASHNGRM", 0x00010001, 0x00010001, LoaderSignature, typeof(HashedNgramTransformer));

    private readonly HashedNgramOptions options;
    private float[]? weights;

    internal HashedNgramTransformer(IHostEnvironment env, HashedNgramOptions options, float[] weights)
        : base(env, nameof(HashedNgramTransformer))
    {
        this.options = options;
        this.weights = weights;
        InputColumns = Inputs(options);
        OutputColumns = Outputs(options);
    }

    public override IReadOnlyList<InputColumn> InputColumns { get; }

    public override IReadOnlyList<OutputColumn> OutputColumns { get; }

    public override int BatchSize => options.BatchSize;

    protected override ModelFormat Format => ModelFormat;

    /// <summary>Every batch computed: its size and which outputs were requested.</summary>
    public List<(int Count, bool[] Requested)> Batches { get; } = new();

    /// <summary>A batch holding a note with this title fails, as a computation that runs out of memory would.</summary>
    public string? FailOnTitle { get; set; }

    public static IReadOnlyList<InputColumn> Inputs(HashedNgramOptions options) =>
        new[] { InputColumn.Text(options.TitleColumn), InputColumn.TextList(options.HashtagsColumn) };

    public static IReadOnlyList<OutputColumn> Outputs(HashedNgramOptions options) => new[]
    {
        OutputColumn.FloatVector(options.EmbeddingColumn, options.Dimension),
        OutputColumn.Text(options.CategoryColumn),
        OutputColumn.TextVector(options.GeneratedHashtagsColumn),
    };

    protected override void ComputeBatch(BatchInput input, BatchOutput output)
    {
        Batches.Add((input.Count, Enumerable.Range(0, OutputColumns.Count).Select(output.IsRequested).ToArray()));
        var titles = input.GetTexts(0);
        var hashtags = input.GetTextLists(1);
        if (FailOnTitle is not null && titles.Contains(FailOnTitle))
            throw new InvalidOperationException($"A batch holds '{FailOnTitle}'.");
        for (int row = 0; row < input.Count; row++)
        {
            var (embedding, category, generated) = Compute(titles[row], hashtags[row]);
            if (output.IsRequested(0))
                embedding.CopyTo(output.GetFloatVector(0, row));
            if (output.IsRequested(1))
                output.GetTexts(1)[row] = category;
            if (output.IsRequested(2))
                output.GetTextVectors(2)[row] = generated;
        }
    }

    /// <summary>The outputs for one note, computed directly (the reference the batched outputs are checked against).</summary>
    public (float[] Embedding, string Category, string[] Hashtags) Compute(string title, string[] hashtags)
    {
        var weights = this.weights ?? throw new ObjectDisposedException(nameof(HashedNgramTransformer));
        int dimension = options.Dimension;
        var tokens = new List<string>();
        string padded = $"^{title}$";
        for (int i = 0; i + 3 <= padded.Length; i++)
            tokens.Add(padded.Substring(i, 3));
        tokens.AddRange(hashtags.Select(h => "#" + h));

        var embedding = new float[dimension];
        foreach (string token in tokens)
        {
            int bucket = (int)(Fnv1a(token) % (uint)options.Buckets);
            for (int d = 0; d < dimension; d++)
                embedding[d] += weights[bucket * dimension + d] / tokens.Count;
        }
        int top = Array.IndexOf(embedding, embedding.Max());
        var generated = hashtags.Select(h => h.ToLowerInvariant()).Distinct().Order(StringComparer.Ordinal)
            .Append($"len{title.Length}").ToArray();
        return (embedding, $"category{top}", generated);
    }

    protected override void SaveModel(ModelWriter writer)
    {
        writer.Write(options.TitleColumn);
        writer.Write(options.HashtagsColumn);
        writer.Write(options.EmbeddingColumn);
        writer.Write(options.CategoryColumn);
        writer.Write(options.GeneratedHashtagsColumn);
        writer.Write(options.Buckets);
        writer.Write(options.Dimension);
        writer.Write(options.BatchSize);
        writer.WriteFile("weights/embedding.bin", stream =>
        {
            using var binary = new BinaryWriter(stream);
            foreach (float w in weights!)
                binary.Write(w);
        });
        writer.WriteTextFile("config/about.txt", $"Hashed n-gram test transformer: {options.Buckets} buckets x {options.Dimension} dimensions.");
    }

    private static HashedNgramTransformer Create(IHostEnvironment env, ModelLoadContext ctx) =>
        ModelFormat.Load(env, ctx, reader =>
        {
            var options = new HashedNgramOptions
            {
                TitleColumn = reader.ReadString()!,
                HashtagsColumn = reader.ReadString()!,
                EmbeddingColumn = reader.ReadString()!,
                CategoryColumn = reader.ReadString()!,
                GeneratedHashtagsColumn = reader.ReadString()!,
                Buckets = reader.ReadInt32(),
                Dimension = reader.ReadInt32(),
                BatchSize = reader.ReadInt32(),
            };
            var weights = reader.ReadFile("weights/embedding.bin", stream =>
            {
                using var binary = new BinaryReader(stream);
                var values = new float[options.Buckets * options.Dimension];
                for (int i = 0; i < values.Length; i++)
                    values[i] = binary.ReadSingle();
                return values;
            });
            string about = reader.ReadTextFile("config/about.txt");
            if (!about.StartsWith("Hashed n-gram", StringComparison.Ordinal))
                throw new InvalidDataException("Unexpected config/about.txt");
            return new HashedNgramTransformer(env, options, weights);
        });

    /// <summary>Stands in for releasing native tensors: the weights are gone after disposal.</summary>
    protected override void ReleaseResources() => weights = null;

    private static uint Fnv1a(string text)
    {
        uint hash = 2166136261;
        foreach (char c in text)
        {
            hash ^= c;
            hash *= 16777619;
        }
        return hash;
    }
}
