using System.Text.RegularExpressions;
using Npgsql;
using NpgsqlTypes;
using Pgvector;

namespace NoteLLM.MLNet.Retrieval;

/// <summary>
/// The related-note index kept in PostgreSQL: one table per index, <c>(id text primary key, embedding vector(n))</c>,
/// with a pgvector HNSW index over inner product. Every app server that connects to the database sees the same notes,
/// notes written by one are found by the others at once, and the database's own replication and backups cover them.
/// </summary>
/// <remarks>
/// Embeddings are L2-normalised before they are written (as in <see cref="NoteIndex"/>), so pgvector's inner-product
/// operator <c>&lt;#&gt;</c> ranks by cosine similarity without the extra division of its cosine operator; scores
/// are cosines. Each write batch is one transaction (binary COPY): a batch is stored completely or not at all, even if
/// the connection dies half-way. Every call takes a connection from the pool, so searches and writes may run from any
/// number of threads. The table is created, with the extension and the HNSW index, when missing; an existing table
/// whose embeddings have another length is refused. An existing HNSW index is used as it is, whatever its m and
/// ef_construction.
/// </remarks>
public sealed partial class PgVectorNoteIndex : INoteIndex
{
    private readonly NpgsqlDataSource dataSource;
    private readonly string table; // validated identifier, used verbatim in SQL
    private readonly string searchIndexName;

    private PgVectorNoteIndex(int dimensions, PgVectorNoteIndexOptions options, NpgsqlDataSource dataSource)
    {
        Dimensions = dimensions;
        Options = options;
        this.dataSource = dataSource;
        table = options.TableName;
        searchIndexName = table.Split('.')[^1] + "_embedding_hnsw";
    }

    /// <summary>The options this index was opened with.</summary>
    public PgVectorNoteIndexOptions Options { get; }

    /// <inheritdoc/>
    public int Dimensions { get; }

    /// <summary>
    /// Opens the index in <see cref="PgVectorNoteIndexOptions.TableName"/>, creating the pgvector extension, the table
    /// and (unless <see cref="PgVectorNoteIndexOptions.DeferSearchIndex"/>) its HNSW index when missing.
    /// </summary>
    /// <exception cref="InvalidOperationException">
    /// The table exists with embeddings of another length or without the expected columns, or the pgvector extension
    /// is not installed on the server.
    /// </exception>
    public static PgVectorNoteIndex Open(int dimensions, PgVectorNoteIndexOptions options)
    {
        // pgvector's vector type holds at most 16,000 values; its HNSW index at most 2,000.
        if (dimensions is < 1 or > 2000) throw new ArgumentOutOfRangeException(nameof(dimensions), dimensions, "must be 1 to 2,000 (pgvector's HNSW limit)");
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();

        // The vector type must exist before a data source that maps it loads the database's types.
        using (var bootstrap = new NpgsqlConnection(options.ConnectionString))
        {
            bootstrap.Open();
            CreateExtension(bootstrap);
            CreateOrCheckTable(bootstrap, options.TableName, dimensions);
        }
        var builder = new NpgsqlDataSourceBuilder(options.ConnectionString);
        builder.UseVector();
        var index = new PgVectorNoteIndex(dimensions, options, builder.Build());
        if (!options.DeferSearchIndex) index.BuildSearchIndex();
        return index;
    }

    /// <summary>
    /// The embedding length of the table <see cref="PgVectorNoteIndexOptions.TableName"/>, or null when it does not
    /// exist; nothing is created. An app that serves a table others fill checks it with this before
    /// <see cref="Open"/>, which would create a missing table empty.
    /// </summary>
    /// <exception cref="InvalidOperationException">The table exists without an <c>embedding vector(n)</c> column.</exception>
    public static int? StoredDimensions(PgVectorNoteIndexOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        using var connection = new NpgsqlConnection(options.ConnectionString);
        connection.Open();
        return StoredDimensions(connection, options.TableName);
    }

    /// <summary>
    /// Creates the table's HNSW index if it does not exist yet (with <see cref="PgVectorNoteIndexOptions.Connectivity"/>,
    /// <see cref="PgVectorNoteIndexOptions.ExpansionAdd"/> and <see cref="PgVectorNoteIndexOptions.IndexBuildMemory"/>).
    /// Building after a bulk load is much faster than inserting into an existing graph note by note.
    /// </summary>
    public void BuildSearchIndex()
    {
        using var connection = dataSource.OpenConnection();
        using var transaction = connection.BeginTransaction();
        if (Options.IndexBuildMemory is { } memory)
        {
            // Local to this transaction, so the pooled connection goes back with the server's setting.
            using var set = new NpgsqlCommand("SELECT set_config('maintenance_work_mem', $1, true)", connection, transaction);
            set.Parameters.AddWithValue(memory);
            set.ExecuteNonQuery();
        }
        // No command timeout: building the graph of millions of notes takes minutes, far beyond Npgsql's default 30 s.
        Execute(connection, $"CREATE INDEX IF NOT EXISTS {searchIndexName} ON {table} USING hnsw (embedding vector_ip_ops) " +
                            $"WITH (m = {Options.Connectivity}, ef_construction = {Options.ExpansionAdd})", timeoutSeconds: 0);
        transaction.Commit();
    }

    /// <summary>Drops the table and its index (all notes of this index); the instance is unusable afterwards.</summary>
    public void DropTable()
    {
        using var connection = dataSource.OpenConnection();
        Execute(connection, $"DROP TABLE IF EXISTS {table}");
    }

    /// <inheritdoc/>
    public int Count
    {
        get
        {
            using var connection = dataSource.OpenConnection();
            using var command = new NpgsqlCommand($"SELECT count(*)::int FROM {table}", connection);
            return (int)command.ExecuteScalar()!;
        }
    }

    /// <inheritdoc/>
    public bool Contains(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        using var connection = dataSource.OpenConnection();
        using var command = new NpgsqlCommand($"SELECT EXISTS (SELECT 1 FROM {table} WHERE id = $1)", connection);
        command.Parameters.AddWithValue(id);
        return (bool)command.ExecuteScalar()!;
    }

    /// <inheritdoc/>
    public float[] GetEmbedding(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        using var connection = dataSource.OpenConnection();
        using var command = new NpgsqlCommand($"SELECT embedding FROM {table} WHERE id = $1", connection);
        command.Parameters.AddWithValue(id);
        return command.ExecuteScalar() is Vector vector
            ? vector.ToArray()
            : throw new KeyNotFoundException($"note id '{id}' is not in the index (table {table})");
    }

    /// <inheritdoc/>
    /// <remarks>One transaction: the batch's ids are checked against the table, then written by binary COPY.</remarks>
    public void Add(IReadOnlyList<string> ids, IReadOnlyList<float[]> embeddings)
    {
        var normalised = NoteIndexChecks.CheckBatch(ids, embeddings, Dimensions, isStored: null);
        if (ids.Count == 0) return;
        using var connection = dataSource.OpenConnection();
        using var transaction = connection.BeginTransaction();
        using (var stored = new NpgsqlCommand($"SELECT id FROM {table} WHERE id = ANY($1) LIMIT 1", connection, transaction))
        {
            stored.Parameters.AddWithValue(ids.ToArray());
            if (stored.ExecuteScalar() is string id)
            {
                int position = ids.ToList().IndexOf(id);
                throw new ArgumentException($"note id '{id}' (position {position}) is already in the index", nameof(ids));
            }
        }
        try
        {
            Copy(connection, table, ids, normalised);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            throw new ArgumentException("a note id of the batch was added by another writer while this batch was written; nothing was added", nameof(ids), e);
        }
        transaction.Commit();
    }

    /// <inheritdoc/>
    /// <remarks>One transaction: the batch is copied into a temporary table, then merged with INSERT ... ON CONFLICT.</remarks>
    public void Upsert(IReadOnlyList<string> ids, IReadOnlyList<float[]> embeddings)
    {
        var normalised = NoteIndexChecks.CheckBatch(ids, embeddings, Dimensions, isStored: null);
        if (ids.Count == 0) return;
        using var connection = dataSource.OpenConnection();
        using var transaction = connection.BeginTransaction();
        Execute(connection, $"CREATE TEMPORARY TABLE note_upsert (id text NOT NULL, embedding vector({Dimensions}) NOT NULL) ON COMMIT DROP");
        Copy(connection, "note_upsert", ids, normalised);
        Execute(connection, $"INSERT INTO {table} (id, embedding) SELECT id, embedding FROM note_upsert " +
                            "ON CONFLICT (id) DO UPDATE SET embedding = EXCLUDED.embedding");
        transaction.Commit();
    }

    /// <inheritdoc/>
    public bool Remove(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        using var connection = dataSource.OpenConnection();
        using var command = new NpgsqlCommand($"DELETE FROM {table} WHERE id = $1", connection);
        command.Parameters.AddWithValue(id);
        return command.ExecuteNonQuery() > 0;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Queries go to the server <see cref="PgVectorNoteIndexOptions.QueryBatchSize"/> at a time, one statement per
    /// batch, on up to <see cref="PgVectorNoteIndexOptions.SearchConnections"/> connections at once.
    /// </remarks>
    public IReadOnlyList<RelatedNote>[] Search(IReadOnlyList<float[]> queries, int k, IReadOnlyList<string?>? excludeIds = null)
    {
        var normalised = NoteIndexChecks.CheckQueries(queries, k, excludeIds, Dimensions);
        var results = new IReadOnlyList<RelatedNote>[queries.Count];
        if (k == 0)
        {
            Array.Fill(results, Array.Empty<RelatedNote>());
            return results;
        }
        // Ask for one more when a note is excluded, then drop it (it is usually the query's own note).
        long limit = (long)k + (excludeIds is null ? 0 : 1);
        int batches = (queries.Count + Options.QueryBatchSize - 1) / Options.QueryBatchSize;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Options.SearchConnections };
        Parallel.For(0, batches, parallel, batch =>
        {
            int start = batch * Options.QueryBatchSize, count = Math.Min(Options.QueryBatchSize, queries.Count - start);
            SearchBatch(normalised, start, count, limit, k, excludeIds, results);
        });
        return results;
    }

    private void SearchBatch(float[][] queries, int start, int count, long limit, int k, IReadOnlyList<string?>? excludeIds, IReadOnlyList<RelatedNote>[] results)
    {
        using var connection = dataSource.OpenConnection();
        using var transaction = connection.BeginTransaction();
        // SET LOCAL lasts until the end of this transaction, so pooled connections go back unchanged.
        if (Options.Mode == NoteSearchMode.Exact)
            Execute(connection, "SET LOCAL enable_indexscan = off"); // a sequential scan scores every note
        else if (limit <= 1000)
            Execute(connection, $"SET LOCAL hnsw.ef_search = {Math.Max(Options.ExpansionSearch, limit)}");
        else
            Execute(connection, "SET LOCAL enable_indexscan = off"); // HNSW cannot return more than 1,000 rows

        // One statement per batch: each query vector of the array runs the ORDER BY ... LIMIT subquery that pgvector's
        // HNSW index answers, so the server plans once per batch instead of once per query.
        using var command = new NpgsqlCommand(
            $"SELECT q.ord, n.id, n.score FROM unnest($1::vector[]) WITH ORDINALITY AS q(embedding, ord) CROSS JOIN LATERAL " +
            $"(SELECT id, -(t.embedding <#> q.embedding) AS score FROM {table} t ORDER BY t.embedding <#> q.embedding LIMIT $2) n " +
            "ORDER BY q.ord, n.score DESC", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = queries.AsSpan(start, count).ToArray().Select(q => new Vector(q)).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = limit, NpgsqlDbType = NpgsqlDbType.Bigint });
        var lists = new List<RelatedNote>[count];
        for (int q = 0; q < count; q++) lists[q] = new List<RelatedNote>(); // grows with the rows: k may be int.MaxValue for "all"
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                int q = (int)reader.GetInt64(0) - 1;
                string id = reader.GetString(1);
                string? excluded = excludeIds?[start + q];
                if (lists[q].Count < k && (excluded is null || !string.Equals(id, excluded, StringComparison.Ordinal)))
                    lists[q].Add(new RelatedNote(id, (float)reader.GetDouble(2)));
            }
        }
        for (int q = 0; q < count; q++) results[start + q] = lists[q];
        transaction.Commit();
    }

    /// <inheritdoc/>
    public void Dispose() => dataSource.Dispose();

    private static void Copy(NpgsqlConnection connection, string into, IReadOnlyList<string> ids, float[][] embeddings)
    {
        using var writer = connection.BeginBinaryImport($"COPY {into} (id, embedding) FROM STDIN (FORMAT BINARY)");
        for (int i = 0; i < ids.Count; i++)
        {
            writer.StartRow();
            writer.Write(ids[i], NpgsqlDbType.Text);
            writer.Write(new Vector(embeddings[i]));
        }
        writer.Complete();
    }

    private static void CreateExtension(NpgsqlConnection connection)
    {
        try
        {
            Execute(connection, "CREATE EXTENSION IF NOT EXISTS vector");
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.UndefinedFile or PostgresErrorCodes.InsufficientPrivilege)
        {
            throw new InvalidOperationException(
                $"The pgvector extension is not available to this connection ({e.MessageText}). Install pgvector on the " +
                "PostgreSQL server (https://github.com/pgvector/pgvector#installation) and run CREATE EXTENSION vector " +
                "as a user allowed to, once per database.", e);
        }
    }

    // Creates the table, or checks that the existing one has an embedding column of this length ("vector(384)").
    private static void CreateOrCheckTable(NpgsqlConnection connection, string table, int dimensions)
    {
        if (StoredDimensions(connection, table) is not { } stored)
            Execute(connection, $"CREATE TABLE IF NOT EXISTS {table} (id text PRIMARY KEY, embedding vector({dimensions}) NOT NULL)");
        else if (stored != dimensions)
            throw new InvalidOperationException($"Table {table} holds embeddings of {stored} values, but this index was opened for " +
                                                $"{dimensions}: the model that fills it has another embedding size. Use another " +
                                                "TableName, or drop the table to rebuild it from the new model.");
    }

    // The length of the table's embedding column ("vector(384)"), or null when the table does not exist.
    private static int? StoredDimensions(NpgsqlConnection connection, string table)
    {
        using var command = new NpgsqlCommand(
            "SELECT to_regclass($1) IS NOT NULL, (SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a " +
            "WHERE a.attrelid = to_regclass($1) AND a.attname = 'embedding' AND NOT a.attisdropped)", connection);
        command.Parameters.AddWithValue(table);
        using var reader = command.ExecuteReader();
        reader.Read();
        if (!reader.GetBoolean(0)) return null;
        string? type = reader.IsDBNull(1) ? null : reader.GetString(1);
        var match = type is null ? Match.Empty : VectorType().Match(type);
        if (!match.Success)
            throw new InvalidOperationException($"Table {table} exists but has no 'embedding vector(n)' column (found: {type ?? "none"}); " +
                                                "choose another TableName.");
        return int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    // timeoutSeconds: null keeps the connection's command timeout, 0 waits without limit
    private static void Execute(NpgsqlConnection connection, string sql, int? timeoutSeconds = null)
    {
        using var command = new NpgsqlCommand(sql, connection);
        if (timeoutSeconds is int timeout) command.CommandTimeout = timeout;
        command.ExecuteNonQuery();
    }

    [GeneratedRegex("^vector\\((\\d+)\\)$")]
    private static partial Regex VectorType();
}
