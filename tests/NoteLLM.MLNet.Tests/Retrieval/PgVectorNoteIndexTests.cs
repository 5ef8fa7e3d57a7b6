using NoteLLM.MLNet.Retrieval;
using NoteLLM.MLNet.Tests.TestSupport;
using Npgsql;
using static NoteLLM.MLNet.Tests.Retrieval.IndexTestData;

namespace NoteLLM.MLNet.Tests.Retrieval;

/// <summary>The index contract on PostgreSQL + pgvector (a real server, see <see cref="PostgresServer"/>).</summary>
[Collection(PostgresCollection.Name)]
public sealed class PgVectorNoteIndexContractTests(PostgresServer server) : NoteIndexContractTests
{
    private readonly PostgresTables tables = server.Tables("contract");

    protected override INoteIndex Create(int dimensions, NoteSearchMode mode)
    {
        // Small query batches on several connections, so batching and the parallel search are exercised.
        var options = tables.NewOptions(mode);
        options.QueryBatchSize = 7;
        options.SearchConnections = 3;
        return PgVectorNoteIndex.Open(dimensions, options);
    }

    // A new instance with its own connection pool: everything it answers comes from the table.
    protected override INoteIndex Reopen(INoteIndex index)
    {
        var stored = (PgVectorNoteIndex)index;
        NpgsqlConnection.ClearAllPools();
        return PgVectorNoteIndex.Open(stored.Dimensions, stored.Options);
    }

    public override void Dispose()
    {
        base.Dispose();
        tables.Dispose();
    }
}

/// <summary>What only the PostgreSQL index has: a shared server, transactions, a schema that outlives the process.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PgVectorNoteIndexTests(PostgresServer server) : IDisposable
{
    private readonly PostgresTables tables = server.Tables("pgvector");

    private PgVectorNoteIndexOptions NewOptions(NoteSearchMode mode = NoteSearchMode.Approximate) => tables.NewOptions(mode);

    public void Dispose() => tables.Dispose();

    [Fact]
    public void OpeningATableOfAnotherDimensionIsAClearError()
    {
        var options = NewOptions();
        using (var index = PgVectorNoteIndex.Open(8, options)) index.Add("a", RandomUnitVectors(1, 8, seed: 1)[0]);

        var error = Assert.Throws<InvalidOperationException>(() => PgVectorNoteIndex.Open(16, options));

        Assert.Contains($"Table {options.TableName} holds embeddings of 8 values, but this index was opened for 16", error.Message);
        using var reopened = PgVectorNoteIndex.Open(8, options);
        Assert.Equal(1, reopened.Count);
    }

    [Fact]
    public void StoredDimensionsReadsTheTableWithoutCreatingIt()
    {
        var options = NewOptions();

        Assert.Null(PgVectorNoteIndex.StoredDimensions(options));
        Assert.Equal(true, server.Scalar($"SELECT to_regclass('{options.TableName}') IS NULL")); // not created
        PgVectorNoteIndex.Open(8, options).Dispose();
        Assert.Equal(8, PgVectorNoteIndex.StoredDimensions(options));
    }

    [Fact]
    public void ATableWithoutAnEmbeddingColumnIsRefused()
    {
        var options = NewOptions();
        server.Scalar($"CREATE TABLE {options.TableName} (id text PRIMARY KEY, body text)");

        var error = Assert.Throws<InvalidOperationException>(() => PgVectorNoteIndex.Open(8, options));

        Assert.Contains("has no 'embedding vector(n)' column", error.Message);
    }

    [Fact]
    public void BadOptionsNameTheOption()
    {
        var options = NewOptions();
        options.TableName = "Notes; DROP TABLE x";
        Assert.Contains("TableName", Assert.Throws<ArgumentException>(() => PgVectorNoteIndex.Open(8, options)).Message);
        options.TableName = "notes";
        options.ExpansionSearch = 5000;
        Assert.Equal("ExpansionSearch", Assert.Throws<ArgumentOutOfRangeException>(() => PgVectorNoteIndex.Open(8, options)).ParamName);
        Assert.Contains("ConnectionString", Assert.Throws<ArgumentException>(() => PgVectorNoteIndex.Open(8, new PgVectorNoteIndexOptions())).Message);
    }

    [Fact]
    public void ConcurrentSearchesFromEightThreadsGetTheSequentialAnswers()
    {
        var vectors = RandomUnitVectors(3000, 32, seed: 21);
        var queries = RandomUnitVectors(400, 32, seed: 22);
        using var index = PgVectorNoteIndex.Open(32, NewOptions());
        index.Add(Ids(3000), vectors);
        var sequential = queries.Select(q => index.Search(q, 10)).ToArray();

        var concurrent = new IReadOnlyList<RelatedNote>[queries.Length];
        Parallel.For(0, queries.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, q => concurrent[q] = index.Search(queries[q], 10));

        for (int q = 0; q < queries.Length; q++) AssertSameResults(sequential[q], concurrent[q]);
    }

    [Fact]
    public void ABatchLoadKilledHalfWayLeavesTheOldRowsOnly()
    {
        var options = NewOptions();
        options.DeferSearchIndex = true; // a plain table: the load is all COPY
        using var index = PgVectorNoteIndex.Open(64, options);
        index.Add(Ids(100), RandomUnitVectors(100, 64, seed: 23));
        var batch = RandomUnitVectors(200_000, 64, seed: 24);
        var batchIds = Enumerable.Range(0, batch.Length).Select(i => $"batch{i}").ToArray();

        var load = Task.Run(() => index.Add(batchIds, batch));
        // While the batch loads, other connections must see none of it; once its COPY has sent 60% of the rows
        // (PostgreSQL's own progress view), kill the loading backend.
        bool killed = false;
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (!killed && !load.IsCompleted && DateTime.UtcNow < deadline)
        {
            Assert.Equal(100L, server.Scalar($"SELECT count(*) FROM {options.TableName}"));
            killed = server.Scalar("SELECT pg_terminate_backend(pid) FROM pg_stat_progress_copy " +
                                   $"WHERE relid = '{options.TableName}'::regclass AND tuples_processed >= {batch.Length * 6 / 10}") is true;
            if (!killed) Thread.Sleep(10);
        }

        Assert.True(killed, "the batch was stored before 60% of it had been copied in one COPY, or the COPY finished before it could be killed");
        var error = Assert.ThrowsAny<Exception>(() => load.GetAwaiter().GetResult());
        Assert.True(error is NpgsqlException or InvalidOperationException, error.ToString());
        NpgsqlConnection.ClearAllPools();
        Assert.Equal(100, index.Count);
        Assert.Equal(0L, server.Scalar($"SELECT count(*) FROM {options.TableName} WHERE id LIKE 'batch%'"));
    }

    [Fact]
    public void DeferredSearchIndexIsBuiltAfterTheLoad()
    {
        var options = NewOptions();
        options.DeferSearchIndex = true;
        options.IndexBuildMemory = "64MB";
        using var index = PgVectorNoteIndex.Open(16, options);
        index.Add(Ids(500), RandomUnitVectors(500, 16, seed: 25));
        string indexName = options.TableName + "_embedding_hnsw";
        Assert.Equal(0L, server.Scalar($"SELECT count(*) FROM pg_indexes WHERE indexname = '{indexName}'"));

        index.BuildSearchIndex();

        Assert.Contains("USING hnsw (embedding vector_ip_ops) WITH (m='16', ef_construction='64')",
            (string)server.Scalar($"SELECT indexdef FROM pg_indexes WHERE indexname = '{indexName}'")!);
        Assert.Equal("note7", index.Search(RandomUnitVectors(500, 16, seed: 25)[7], 1)[0].Id);
    }
}
