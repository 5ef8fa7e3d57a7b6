using Microsoft.ML;
using Microsoft.ML.Data;

namespace NoteLLM.MLNet.Evaluation;

/// <summary>Options of <see cref="NoteLLMEvaluator"/>: column names, the legal categories and the recall cut-offs.</summary>
public sealed class NoteLLMEvaluatorOptions
{
    /// <summary>Note id column (text). Default: "Id".</summary>
    public string IdColumnName { get; set; } = "Id";

    /// <summary>Note embedding column (float vector, all rows the same length). Default: "Embedding".</summary>
    public string EmbeddingColumnName { get; set; } = "Embedding";

    /// <summary>Ground-truth category column (text); category metrics need it and <see cref="GeneratedCategoryColumnName"/>. Default: "Category".</summary>
    public string CategoryColumnName { get; set; } = "Category";

    /// <summary>Generated category column (text). Default: "GeneratedCategory".</summary>
    public string GeneratedCategoryColumnName { get; set; } = "GeneratedCategory";

    /// <summary>Ground-truth hashtags column (text vector); hashtag metrics need it and <see cref="GeneratedHashtagsColumnName"/>. Default: "Hashtags".</summary>
    public string HashtagsColumnName { get; set; } = "Hashtags";

    /// <summary>Generated hashtags column (text vector). Default: "GeneratedHashtags".</summary>
    public string GeneratedHashtagsColumnName { get; set; } = "GeneratedHashtags";

    /// <summary>
    /// Boolean column, true for a high-exposure note and false for a low-exposure one (the paper's Table 3 split);
    /// when set, recall is also reported per exposure group of the query note. Default: null (no split).
    /// </summary>
    public string? HighExposureColumnName { get; set; }

    /// <summary>Test-pair columns (text) when the pairs come as an <see cref="IDataView"/>. Defaults: "Id" and "RelatedId".</summary>
    public string PairIdColumnName { get; set; } = "Id";

    /// <inheritdoc cref="PairIdColumnName"/>
    public string PairRelatedIdColumnName { get; set; } = "RelatedId";

    /// <summary>
    /// The legal category set for the illegal rate. Default: null, meaning the distinct non-empty ground-truth
    /// categories of the evaluated notes.
    /// </summary>
    public IReadOnlyCollection<string>? LegalCategories { get; set; }

    /// <summary>Recall cut-offs k. Default: 10, 100, 1k, 10k, 100k (capped at the corpus size).</summary>
    public IReadOnlyList<int> RecallCutoffs { get; set; } = I2IRecall.DefaultCutoffs;

    /// <summary>Cut-offs whose recall is averaged, each one of <see cref="RecallCutoffs"/>. Default: 100, 1k, 10k, 100k (the paper's avg).</summary>
    public IReadOnlyList<int> AveragedCutoffs { get; set; } = new[] { 100, 1_000, 10_000, 100_000 };

    /// <summary>A copy with <see cref="LegalCategories"/> replaced, so a caller's options are never changed behind its back.</summary>
    internal NoteLLMEvaluatorOptions WithLegalCategories(IReadOnlyCollection<string>? legalCategories)
    {
        var copy = (NoteLLMEvaluatorOptions)MemberwiseClone();
        copy.LegalCategories = legalCategories;
        return copy;
    }
}

/// <summary>
/// Evaluates transformed test notes the way the NoteLLM paper does (paper section 4.1): I2I recall over the test
/// pairs, category accuracy and illegal rate, hashtag BLEU-4 and ROUGE-1/2/L F1.
/// </summary>
public static class NoteLLMEvaluator
{
    /// <summary>Evaluates <paramref name="notes"/> (one row per test note) against test pairs given as an <see cref="IDataView"/>.</summary>
    public static NoteLLMMetrics Evaluate(IDataView notes, IDataView pairs, NoteLLMEvaluatorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        options ??= new NoteLLMEvaluatorOptions();
        var list = new List<(string, string)>();
        var idColumn = RequireColumn(pairs.Schema, options.PairIdColumnName, "test pairs", TextDataViewType.Instance);
        var relatedColumn = RequireColumn(pairs.Schema, options.PairRelatedIdColumnName, "test pairs", TextDataViewType.Instance);
        using var cursor = pairs.GetRowCursor(new[] { idColumn, relatedColumn });
        var idGetter = cursor.GetGetter<ReadOnlyMemory<char>>(idColumn);
        var relatedGetter = cursor.GetGetter<ReadOnlyMemory<char>>(relatedColumn);
        ReadOnlyMemory<char> id = default, related = default;
        long row = 0;
        while (cursor.MoveNext())
        {
            idGetter(ref id);
            relatedGetter(ref related);
            if (id.IsEmpty || related.IsEmpty)
                throw new InvalidOperationException($"test pair row {row}: empty '{(id.IsEmpty ? idColumn.Name : relatedColumn.Name)}'");
            list.Add((id.ToString(), related.ToString()));
            row++;
        }
        return Evaluate(notes, list, options);
    }

    /// <summary>Evaluates <paramref name="notes"/> (one row per test note) against test pairs (Id, RelatedId) in their original order.</summary>
    public static NoteLLMMetrics Evaluate(IDataView notes, IReadOnlyList<(string Id, string RelatedId)> pairs, NoteLLMEvaluatorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(notes);
        ArgumentNullException.ThrowIfNull(pairs);
        options ??= new NoteLLMEvaluatorOptions();
        foreach (int k in options.AveragedCutoffs)
            if (!options.RecallCutoffs.Contains(k))
                throw new ArgumentException($"averaged cut-off {k} is not one of the recall cut-offs ({string.Join(", ", options.RecallCutoffs)})");
        if (options.RecallCutoffs.Any(k => k < 1)) throw new ArgumentException("recall cut-offs must be at least 1");

        var data = NoteColumns.Read(notes, options);
        var kept = I2IRecall.SelectQueries(pairs);
        var ranks = I2IRecall.GroundTruthRanks(data.Ids, data.Embeddings, kept, out int corpusSize);
        RecallMetrics Recall(IReadOnlyList<int> subset) => new(subset.Count, corpusSize, options.RecallCutoffs,
            I2IRecall.RecallAt(subset, corpusSize, options.RecallCutoffs), options.AveragedCutoffs);

        RecallMetrics? low = null, high = null;
        if (data.HighExposure is not null)
        {
            var rowOf = data.Ids.Select((noteId, i) => (noteId, i)).ToDictionary(x => x.noteId, x => x.i, StringComparer.Ordinal);
            var isHigh = kept.Select(pair => data.HighExposure[rowOf[pair.Query]]).ToArray();
            low = Recall(ranks.Where((_, q) => !isHigh[q]).ToArray());
            high = Recall(ranks.Where((_, q) => isHigh[q]).ToArray());
        }
        return new NoteLLMMetrics(pairs.Count, Recall(ranks), low, high,
            data.Categories is null ? null : EvaluateCategories(data.Categories, data.GeneratedCategories!, options.LegalCategories),
            data.Hashtags is null ? null : EvaluateHashtags(data.Hashtags, data.GeneratedHashtags!));
    }

    /// <summary>
    /// Category accuracy and illegal rate over the notes with a non-empty ground truth; categories are compared
    /// ordinally after trimming surrounding whitespace.
    /// </summary>
    public static CategoryMetrics EvaluateCategories(IReadOnlyList<string?> categories, IReadOnlyList<string?> generated,
        IReadOnlyCollection<string>? legalCategories = null)
    {
        ArgumentNullException.ThrowIfNull(categories);
        ArgumentNullException.ThrowIfNull(generated);
        if (categories.Count != generated.Count)
            throw new ArgumentException($"{categories.Count} ground-truth categories but {generated.Count} generated ones");
        var legal = new HashSet<string>(
            (legalCategories ?? categories.Where(c => !string.IsNullOrWhiteSpace(c)).Select(c => c!)).Select(c => c.Trim()),
            StringComparer.Ordinal);
        int notes = 0, correct = 0, illegal = 0;
        for (int i = 0; i < categories.Count; i++)
        {
            string truth = categories[i]?.Trim() ?? "";
            if (truth.Length == 0) continue;
            string output = generated[i]?.Trim() ?? "";
            notes++;
            if (string.Equals(truth, output, StringComparison.Ordinal)) correct++;
            if (!legal.Contains(output)) illegal++;
        }
        return notes == 0 ? new CategoryMetrics(0, 0, 0) : new CategoryMetrics(notes, correct / (double)notes, illegal / (double)notes);
    }

    /// <summary>
    /// Mean sentence BLEU-4 and ROUGE-1/2/L F1 over the notes whose ground-truth hashtags yield at least one token
    /// (<see cref="HashtagTokenizer"/>); a note with no generated hashtags scores 0.
    /// </summary>
    public static HashtagMetrics EvaluateHashtags(IReadOnlyList<IReadOnlyList<string>> hashtags, IReadOnlyList<IReadOnlyList<string>> generated)
    {
        ArgumentNullException.ThrowIfNull(hashtags);
        ArgumentNullException.ThrowIfNull(generated);
        if (hashtags.Count != generated.Count)
            throw new ArgumentException($"{hashtags.Count} ground-truth hashtag lists but {generated.Count} generated ones");
        int notes = 0;
        double bleu = 0, rouge1 = 0, rouge2 = 0, rougeL = 0;
        for (int i = 0; i < hashtags.Count; i++)
        {
            var reference = HashtagTokenizer.Tokenize(hashtags[i]);
            if (reference.Count == 0) continue;
            var hypothesis = HashtagTokenizer.Tokenize(generated[i]);
            notes++;
            bleu += TextOverlap.SentenceBleu4(reference, hypothesis);
            rouge1 += TextOverlap.RougeN(reference, hypothesis, 1);
            rouge2 += TextOverlap.RougeN(reference, hypothesis, 2);
            rougeL += TextOverlap.RougeL(reference, hypothesis);
        }
        return notes == 0 ? new HashtagMetrics(0, 0, 0, 0, 0) : new HashtagMetrics(notes, bleu / notes, rouge1 / notes, rouge2 / notes, rougeL / notes);
    }

    /// <summary>
    /// Mean cosine similarity of <paramref name="pairs"/> random pairs of distinct embeddings (seeded, so repeatable): how
    /// spread out an embedding space is. Near 1 means the embeddings have collapsed together; trained sentence encoders
    /// sit far below (all-MiniLM-L6-v2 gives about 0.17 on the Debian notes). A pair with an all-zero embedding (what
    /// <see cref="TfIdfEmbedder"/> gives a note without a known word) has no angle and counts as 0.
    /// </summary>
    public static double MeanRandomPairCosine(IReadOnlyList<float[]> embeddings, int pairs = 2000, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        if (embeddings.Count < 2) throw new ArgumentException($"needs at least 2 embeddings, got {embeddings.Count}", nameof(embeddings));
        ArgumentOutOfRangeException.ThrowIfLessThan(pairs, 1);
        int dimensions = embeddings[0]?.Length ?? 0;
        for (int i = 0; i < embeddings.Count; i++)
        {
            var embedding = embeddings[i] ?? throw new ArgumentException($"embedding {i} is null", nameof(embeddings));
            if (embedding.Length != dimensions)
                throw new ArgumentException($"embedding {i} has {embedding.Length} values, embedding 0 {dimensions}", nameof(embeddings));
            if (!embedding.All(float.IsFinite)) throw new ArgumentException($"embedding {i} holds NaN or infinite values", nameof(embeddings));
        }
        var random = new Random(seed);
        double sum = 0;
        for (int i = 0; i < pairs; i++)
        {
            int a = random.Next(embeddings.Count), b = random.Next(embeddings.Count - 1);
            if (b >= a) b++;
            float cosine = System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(embeddings[a], embeddings[b]);
            sum += float.IsNaN(cosine) ? 0 : cosine; // finite embeddings: NaN only from a zero vector
        }
        return sum / pairs;
    }

    internal static DataViewSchema.Column RequireColumn(DataViewSchema schema, string name, string what, DataViewType expected)
    {
        var column = schema.GetColumnOrNull(name)
            ?? throw new ArgumentException($"{what}: no column '{name}' (columns: {string.Join(", ", schema.Select(c => c.Name))})");
        if (!column.Type.Equals(expected))
            throw new ArgumentException($"{what}: column '{name}' is {column.Type}, expected {expected}");
        return column;
    }
}
