using Microsoft.Extensions.ObjectPool;
using Microsoft.ML;
using Microsoft.ML.Data;
using NoteLLM.MLNet.Data;
using NoteLLM.MLNet.Retrieval;
using Npgsql;

namespace NoteLLM.Web;

/// <summary>
/// The served model: the fitted NoteLLM transformer loaded with plain <c>mlContext.Model.Load</c>, the note index
/// (the saved file, or the PostgreSQL table the quick start filled) and the indexed notes. The transformer is shared;
/// <see cref="PredictionEngine{TSrc, TDst}"/>s, which are not thread safe, are pooled with
/// Microsoft.Extensions.ObjectPool as ML.NET's <c>PredictionEnginePool</c> does, one pool per output type so that an
/// embedding request never pays for generation. Safe for concurrent use.
/// </summary>
public sealed class NoteServing : IDisposable
{
    /// <summary>The command that writes the model, the index and the indexed notes.</summary>
    public const string QuickStartCommand = "dotnet run -c Release --project samples/NoteLLM.QuickStart";

    // The model's outputs, read by their conventional column names (NoteLLMOptions' defaults).
    private const string EmbeddingColumn = "Embedding";

    private readonly MLContext mlContext = new(seed: 1);
    private readonly ITransformer transformer;
    private readonly INoteIndex index;
    private readonly List<NoteRecord> listed; // the notes file, in its order
    private readonly Dictionary<string, NoteRecord> notes;
    private readonly ObjectPool<PredictionEngine<NoteRecord, NoteEmbedding>> embedders;
    private readonly ObjectPool<PredictionEngine<NoteRecord, NoteAnnotation>> annotators;

    /// <summary>Loads the files <paramref name="options"/> names and opens its PostgreSQL table if it names one.</summary>
    /// <exception cref="NoteServingStartupException">
    /// a file or the table is missing or cannot be read, or the index's embeddings are not the model's size; the
    /// message says what to do.
    /// </exception>
    public NoteServing(NoteServingOptions options, ObjectPoolProvider poolProvider)
    {
        string modelPath = options.ModelPath, indexPath = options.IndexPath, notesPath = options.NotesPath;
        if (!File.Exists(modelPath))
            throw new NoteServingStartupException($"No model file at '{modelPath}': run the quick start first ({QuickStartCommand}) or pass --model <path to model.zip>.");
        if (options.Postgres is null && !File.Exists(indexPath))
            throw new NoteServingStartupException($"No note index at '{indexPath}': the quick start ({QuickStartCommand}) writes {NoteServingOptions.IndexFileName} next to model.zip; rerun it or pass --index <path>.");
        if (!File.Exists(notesPath))
            throw new NoteServingStartupException($"No indexed notes at '{notesPath}': the quick start ({QuickStartCommand}) writes {NoteServingOptions.NotesFileName} next to model.zip; rerun it or pass --notes <path>.");
        DataViewSchema.Column embedding;
        INoteIndex? saved = null;
        try
        {
            transformer = mlContext.Model.Load(modelPath, out _);
            if (options.Postgres is null) saved = NoteIndex.Load(indexPath);
            listed = NotesJsonlFile.Read(notesPath).ToList();
            notes = listed.ToDictionary(n => n.Id, StringComparer.Ordinal);
            embedding = transformer.GetOutputSchema(mlContext.Data.LoadFromEnumerable(Array.Empty<NoteRecord>()).Schema)[EmbeddingColumn];
        }
        catch (Exception e)
        {
            throw new NoteServingStartupException($"Could not load '{modelPath}' and its index ({e.GetBaseException().Message}): rerun the quick start ({QuickStartCommand}) to write them again.", e);
        }
        EmbeddingDimension = embedding.Type is VectorDataViewType { Size: > 0 } vector ? vector.Size : 0;
        index = saved ?? OpenPostgres(options.Postgres!, options.PostgresTable ?? NoteServingOptions.DefaultPostgresTable, EmbeddingDimension);
        if (EmbeddingDimension != index.Dimensions)
            throw new NoteServingStartupException($"The model's embeddings have {EmbeddingDimension} dimensions but the index at '{indexPath}' holds {index.Dimensions}: they come from different runs; rerun the quick start ({QuickStartCommand}).");

        // The output class declares a vector of unknown size; the model's column has a fixed size.
        var embeddingOutput = SchemaDefinition.Create(typeof(NoteEmbedding));
        embeddingOutput[EmbeddingColumn].ColumnType = embedding.Type;
        embedders = poolProvider.Create(new EnginePolicy<NoteEmbedding>(() =>
            mlContext.Model.CreatePredictionEngine<NoteRecord, NoteEmbedding>(transformer, new PredictionEngineOptions { OwnsTransformer = false, OutputSchemaDefinition = embeddingOutput })));
        annotators = poolProvider.Create(new EnginePolicy<NoteAnnotation>(() =>
            mlContext.Model.CreatePredictionEngine<NoteRecord, NoteAnnotation>(transformer, new PredictionEngineOptions { OwnsTransformer = false })));
    }

    /// <summary>Length of every embedding.</summary>
    public int EmbeddingDimension { get; }

    /// <summary>Number of indexed notes.</summary>
    public int Count => index.Count;

    /// <summary>The note's embedding (unit length).</summary>
    public float[] Embed(NoteRecord note) => Predict(embedders, note).Embedding;

    /// <summary>The note's generated category and hashtags.</summary>
    public NoteAnnotation Annotate(NoteRecord note) => Predict(annotators, note);

    /// <summary>
    /// The <paramref name="k"/> indexed notes most similar to <paramref name="note"/>, best first; the note itself is
    /// left out when its id is indexed.
    /// </summary>
    public IReadOnlyList<RelatedNote> Related(NoteRecord note, int k) =>
        index.Search([Embed(note)], k, [index.Contains(note.Id) ? note.Id : null])[0];

    /// <summary>The <paramref name="k"/> indexed notes most similar to the indexed note <paramref name="id"/>; null when it is not indexed.</summary>
    public IReadOnlyList<RelatedNote>? RelatedTo(string id, int k) => index.Contains(id) ? index.RelatedNotes(id, k) : null;

    /// <summary>An indexed note; null when <paramref name="id"/> is not indexed.</summary>
    public NoteRecord? Find(string id) =>
        !index.Contains(id) ? null : notes.TryGetValue(id, out var note) ? note : new NoteRecord { Id = id };

    /// <summary>The title of an indexed note, from the notes file (the index holds embeddings only); empty when the file has no such note.</summary>
    public string Title(string id) => notes.TryGetValue(id, out var note) ? note.Title : "";

    /// <summary>
    /// The indexed notes whose id, title or category contains <paramref name="query"/> (any case), all when it is
    /// empty, in the order of the notes file: the quick start writes the notes it indexed there, in index order, and
    /// an <see cref="INoteIndex"/> does not list its notes.
    /// </summary>
    public IEnumerable<NoteRecord> Search(string? query)
    {
        string text = query?.Trim() ?? "";
        return listed.Where(n => n.Id.Contains(text, StringComparison.OrdinalIgnoreCase)
            || n.Title.Contains(text, StringComparison.OrdinalIgnoreCase) || n.Category.Contains(text, StringComparison.OrdinalIgnoreCase));
    }

    public void Dispose()
    {
        (embedders as IDisposable)?.Dispose();
        (annotators as IDisposable)?.Dispose();
        index.Dispose();
        (transformer as IDisposable)?.Dispose();
    }

    /// <summary>
    /// Opens the table the quick start's <c>--postgres</c> filled. It is checked first, as
    /// <see cref="PgVectorNoteIndex.Open"/> would create a missing table empty; the connection string, which may hold
    /// a password, is never shown.
    /// </summary>
    private static PgVectorNoteIndex OpenPostgres(string connectionString, string table, int dimensions)
    {
        var options = new PgVectorNoteIndexOptions { ConnectionString = connectionString, TableName = table };
        int? stored;
        try
        {
            stored = PgVectorNoteIndex.StoredDimensions(options);
            if (stored == dimensions) return PgVectorNoteIndex.Open(dimensions, options);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or ArgumentException)
        {
            string reason = e.InnerException is { } inner && e is NpgsqlException ? $"{e.Message} ({inner.Message})" : e.Message;
            throw new NoteServingStartupException($"Could not read PostgreSQL table {table} (--postgres): {reason}", e);
        }
        throw new NoteServingStartupException(stored is null
            ? $"No table {table} in the PostgreSQL database: run the quick start ({QuickStartCommand}) with --postgres <connection string> to fill it, or pass the --postgres-table it filled."
            : $"The model's embeddings have {dimensions} dimensions but PostgreSQL table {table} holds {stored}: they come from different runs; " +
              $"rerun the quick start ({QuickStartCommand}) with --postgres to fill it from this model, or pass the --postgres-table it filled.");
    }

    private static T Predict<T>(ObjectPool<PredictionEngine<NoteRecord, T>> pool, NoteRecord note) where T : class, new()
    {
        var engine = pool.Get();
        try
        {
            return engine.Predict(note);
        }
        finally
        {
            pool.Return(engine);
        }
    }

    private sealed class EnginePolicy<T>(Func<PredictionEngine<NoteRecord, T>> create) : IPooledObjectPolicy<PredictionEngine<NoteRecord, T>>
        where T : class, new()
    {
        public PredictionEngine<NoteRecord, T> Create() => create();

        public bool Return(PredictionEngine<NoteRecord, T> engine) => true;
    }
}

/// <summary>What the model gives for a note's embedding request.</summary>
public sealed class NoteEmbedding
{
    public float[] Embedding { get; set; } = [];
}

/// <summary>What the model generates for a note.</summary>
public sealed class NoteAnnotation
{
    public string GeneratedCategory { get; set; } = "";
    public string[] GeneratedHashtags { get; set; } = [];
}

/// <summary>The model, the index or the indexed notes could not be loaded; the message says which and what to do.</summary>
public sealed class NoteServingStartupException(string message, Exception? inner = null) : Exception(message, inner);
