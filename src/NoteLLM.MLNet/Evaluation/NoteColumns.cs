using Microsoft.ML;
using Microsoft.ML.Data;

namespace NoteLLM.MLNet.Evaluation;

/// <summary>The columns of the transformed test notes that <see cref="NoteLLMEvaluator"/> reads, materialised.</summary>
internal sealed class NoteColumns
{
    public List<string> Ids { get; } = new();
    public List<float[]> Embeddings { get; } = new();
    public List<string?>? Categories { get; private init; }
    public List<string?>? GeneratedCategories { get; private init; }
    public List<IReadOnlyList<string>>? Hashtags { get; private init; }
    public List<IReadOnlyList<string>>? GeneratedHashtags { get; private init; }
    public List<bool>? HighExposure { get; private init; }

    public static NoteColumns Read(IDataView notes, NoteLLMEvaluatorOptions options)
    {
        var schema = notes.Schema;
        const string what = "test notes";
        var id = NoteLLMEvaluator.RequireColumn(schema, options.IdColumnName, what, TextDataViewType.Instance);
        var embedding = schema.GetColumnOrNull(options.EmbeddingColumnName)
            ?? throw new ArgumentException($"{what}: no column '{options.EmbeddingColumnName}' (columns: {string.Join(", ", schema.Select(c => c.Name))})");
        if (embedding.Type is not VectorDataViewType { ItemType: NumberDataViewType itemType } || itemType.RawType != typeof(float))
            throw new ArgumentException($"{what}: column '{embedding.Name}' is {embedding.Type}, expected a vector of Single");

        var category = Optional(schema, options.CategoryColumnName, options.GeneratedCategoryColumnName, TextDataViewType.Instance);
        var hashtags = Optional(schema, options.HashtagsColumnName, options.GeneratedHashtagsColumnName, new VectorDataViewType(TextDataViewType.Instance));
        DataViewSchema.Column? exposure = options.HighExposureColumnName is null ? null
            : NoteLLMEvaluator.RequireColumn(schema, options.HighExposureColumnName, what, BooleanDataViewType.Instance);

        var result = new NoteColumns
        {
            Categories = category is null ? null : new(),
            GeneratedCategories = category is null ? null : new(),
            Hashtags = hashtags is null ? null : new(),
            GeneratedHashtags = hashtags is null ? null : new(),
            HighExposure = exposure is null ? null : new(),
        };
        var columns = new List<DataViewSchema.Column> { id, embedding };
        if (category is { } c) columns.AddRange(new[] { c.Truth, c.Generated });
        if (hashtags is { } h) columns.AddRange(new[] { h.Truth, h.Generated });
        if (exposure is { } e) columns.Add(e);

        using var cursor = notes.GetRowCursor(columns);
        var idGetter = cursor.GetGetter<ReadOnlyMemory<char>>(id);
        var embeddingGetter = cursor.GetGetter<VBuffer<float>>(embedding);
        var categoryGetter = category is { } cg ? cursor.GetGetter<ReadOnlyMemory<char>>(cg.Truth) : null;
        var generatedCategoryGetter = category is { } gg ? cursor.GetGetter<ReadOnlyMemory<char>>(gg.Generated) : null;
        var hashtagsGetter = hashtags is { } hg ? cursor.GetGetter<VBuffer<ReadOnlyMemory<char>>>(hg.Truth) : null;
        var generatedHashtagsGetter = hashtags is { } ghg ? cursor.GetGetter<VBuffer<ReadOnlyMemory<char>>>(ghg.Generated) : null;
        var exposureGetter = exposure is { } eg ? cursor.GetGetter<bool>(eg) : null;

        ReadOnlyMemory<char> text = default;
        VBuffer<float> vector = default;
        VBuffer<ReadOnlyMemory<char>> texts = default;
        bool flag = false;
        int? dimensions = null;
        long row = 0;
        while (cursor.MoveNext())
        {
            idGetter(ref text);
            if (text.IsEmpty) throw new InvalidOperationException($"{what} row {row}: empty '{id.Name}'");
            result.Ids.Add(text.ToString());
            embeddingGetter(ref vector);
            dimensions ??= vector.Length;
            if (vector.Length != dimensions || vector.Length == 0)
                throw new InvalidOperationException($"{what} row {row}: '{embedding.Name}' has {vector.Length} values, earlier rows {dimensions}");
            result.Embeddings.Add(vector.DenseValues().ToArray());
            if (categoryGetter is not null)
            {
                categoryGetter(ref text);
                result.Categories!.Add(text.ToString());
                generatedCategoryGetter!(ref text);
                result.GeneratedCategories!.Add(text.ToString());
            }
            if (hashtagsGetter is not null)
            {
                hashtagsGetter(ref texts);
                result.Hashtags!.Add(texts.DenseValues().Select(t => t.ToString()).ToArray());
                generatedHashtagsGetter!(ref texts);
                result.GeneratedHashtags!.Add(texts.DenseValues().Select(t => t.ToString()).ToArray());
            }
            if (exposureGetter is not null)
            {
                exposureGetter(ref flag);
                result.HighExposure!.Add(flag);
            }
            row++;
        }
        return result;
    }

    // Both columns of a ground-truth/generated pair, or null when either is absent (that metric is skipped).
    private static (DataViewSchema.Column Truth, DataViewSchema.Column Generated)? Optional(DataViewSchema schema, string truth, string generated, DataViewType type)
    {
        var truthColumn = schema.GetColumnOrNull(truth);
        var generatedColumn = schema.GetColumnOrNull(generated);
        if (truthColumn is null || generatedColumn is null) return null;
        foreach (var column in new[] { truthColumn.Value, generatedColumn.Value })
            if (!Compatible(column.Type, type))
                throw new ArgumentException($"test notes: column '{column.Name}' is {column.Type}, expected {type}");
        return (truthColumn.Value, generatedColumn.Value);
    }

    // Text vectors may be of known or unknown size.
    private static bool Compatible(DataViewType actual, DataViewType expected) =>
        expected is VectorDataViewType { ItemType: var item }
            ? actual is VectorDataViewType v && v.ItemType.Equals(item)
            : actual.Equals(expected);
}
