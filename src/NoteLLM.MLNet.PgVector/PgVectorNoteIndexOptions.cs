using System.Text.RegularExpressions;

namespace NoteLLM.MLNet.Retrieval;

/// <summary>Options of a <see cref="PgVectorNoteIndex"/>: where the table is and how its HNSW index is built and searched.</summary>
public sealed partial class PgVectorNoteIndexOptions
{
    /// <summary>The Npgsql connection string of the database (required), e.g. <c>Host=db;Database=notes;Username=app</c>.</summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>
    /// The table holding the embeddings, one per index (an unquoted PostgreSQL identifier: lower-case letters, digits
    /// and underscores, at most 48 characters, optionally prefixed by a schema as <c>schema.table</c>). It is created
    /// with its HNSW index when missing. Default: <c>note_embeddings</c>.
    /// </summary>
    public string TableName { get; set; } = "note_embeddings";

    /// <summary>
    /// Exact (a sequential scan ordered by inner product: every stored note is scored) or approximate (the table's
    /// pgvector HNSW index). Default: <see cref="NoteSearchMode.Approximate"/>, the reason to keep notes in PostgreSQL.
    /// </summary>
    public NoteSearchMode Mode { get; set; } = NoteSearchMode.Approximate;

    /// <summary>HNSW graph degree (pgvector's <c>m</c>, 2 to 100), used when the index is created. Default: 16.</summary>
    public int Connectivity { get; set; } = 16;

    /// <summary>
    /// HNSW candidate list size while building (pgvector's <c>ef_construction</c>, 4 to 1,000 and at least
    /// 2 x <see cref="Connectivity"/>), used when the index is created. Default: 64 (pgvector's own).
    /// </summary>
    public int ExpansionAdd { get; set; } = 64;

    /// <summary>
    /// HNSW candidate list size while searching (pgvector's <c>hnsw.ef_search</c>, 1 to 1,000), set per query batch;
    /// raised to k (+1 when an id is excluded) when a query asks for more, since HNSW returns at most ef_search rows.
    /// Default: 64.
    /// </summary>
    public int ExpansionSearch { get; set; } = 64;

    /// <summary>
    /// When true, opening the index does not create the HNSW index: load the notes first, then call
    /// <see cref="PgVectorNoteIndex.BuildSearchIndex"/>, which builds the graph in one pass several times faster than
    /// inserting into it note by note. Default: false.
    /// </summary>
    public bool DeferSearchIndex { get; set; }

    /// <summary>
    /// PostgreSQL's <c>maintenance_work_mem</c> for the session that builds the HNSW index (e.g. <c>2GB</c>); pgvector
    /// builds much faster when the whole graph fits. Null keeps the server's setting. Default: null.
    /// </summary>
    public string? IndexBuildMemory { get; set; }

    /// <summary>Queries sent to the server in one round trip (one batch of statements). Default: 64.</summary>
    public int QueryBatchSize { get; set; } = 64;

    /// <summary>Connections answering the batches of one <see cref="PgVectorNoteIndex.Search"/> call at once. Default: 4.</summary>
    public int SearchConnections { get; set; } = 4;

    [GeneratedRegex("^([a-z_][a-z0-9_]{0,47}\\.)?[a-z_][a-z0-9_]{0,47}$")]
    private static partial Regex TableNamePattern();

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(ConnectionString))
            throw new ArgumentException("ConnectionString is required (an Npgsql connection string)", nameof(ConnectionString));
        if (TableName is null || !TableNamePattern().IsMatch(TableName))
            throw new ArgumentException($"TableName '{TableName}' is not a lower-case identifier of letters, digits and underscores " +
                                        "(at most 48 characters, optionally schema.table)", nameof(TableName));
        if (Connectivity is < 2 or > 100) throw new ArgumentOutOfRangeException(nameof(Connectivity), Connectivity, "must be 2 to 100 (pgvector's m)");
        if (ExpansionAdd < Math.Max(4, 2 * Connectivity) || ExpansionAdd > 1000)
            throw new ArgumentOutOfRangeException(nameof(ExpansionAdd), ExpansionAdd, $"must be {Math.Max(4, 2 * Connectivity)} (2 x Connectivity) to 1,000 (pgvector's ef_construction)");
        if (ExpansionSearch is < 1 or > 1000) throw new ArgumentOutOfRangeException(nameof(ExpansionSearch), ExpansionSearch, "must be 1 to 1,000 (pgvector's hnsw.ef_search)");
        if (QueryBatchSize < 1) throw new ArgumentOutOfRangeException(nameof(QueryBatchSize), QueryBatchSize, "must be at least 1");
        if (SearchConnections < 1) throw new ArgumentOutOfRangeException(nameof(SearchConnections), SearchConnections, "must be at least 1");
    }
}
