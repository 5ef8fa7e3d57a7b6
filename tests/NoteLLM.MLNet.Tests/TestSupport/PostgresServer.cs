using System.Collections.Concurrent;
using NoteLLM.MLNet.Retrieval;
using NoteLLM.MLNet.TestSupport;
using Npgsql;

namespace NoteLLM.MLNet.Tests.TestSupport;

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "PostgreSQL server";
}

/// <summary>
/// The real PostgreSQL + pgvector server the tests run against: a throwaway <see cref="PostgresCluster"/> (fsync off,
/// nothing here needs to survive a crash), or, with NOTELLM_TEST_POSTGRES set to a connection string, that server
/// (each test uses tables of its own and drops them).
/// </summary>
public sealed class PostgresServer : IDisposable
{
    private readonly PostgresCluster? cluster;
    private int tables;

    public PostgresServer()
    {
        if (Environment.GetEnvironmentVariable("NOTELLM_TEST_POSTGRES") is { Length: > 0 } given)
        {
            ConnectionString = given;
            return;
        }
        cluster = new PostgresCluster("fsync=off");
        ConnectionString = cluster.ConnectionString;
    }

    /// <summary>Connection string of the server (superuser, so the tests can create the extension).</summary>
    public string ConnectionString { get; }

    /// <summary>A table name no other test uses.</summary>
    public string NewTableName(string prefix) => $"{prefix}_{Environment.ProcessId}_{Interlocked.Increment(ref tables)}";

    /// <summary>The tables of one test class, named after <paramref name="prefix"/> and dropped when it is disposed.</summary>
    public PostgresTables Tables(string prefix) => new(this, prefix);

    /// <summary>Runs one SQL statement and returns its first value.</summary>
    public object? Scalar(string sql)
    {
        using var connection = new NpgsqlConnection(ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        return command.ExecuteScalar();
    }

    public void Dispose() => cluster?.Dispose();
}

/// <summary>Tables a test class creates on the <see cref="PostgresServer"/>: fresh names, dropped together on dispose.</summary>
public sealed class PostgresTables(PostgresServer server, string prefix) : IDisposable
{
    private readonly ConcurrentQueue<string> names = new();

    /// <summary>A table name no other test uses, dropped with the others.</summary>
    public string NewName()
    {
        string name = server.NewTableName(prefix);
        names.Enqueue(name);
        return name;
    }

    /// <summary>Index options for a new table on the server.</summary>
    public PgVectorNoteIndexOptions NewOptions(NoteSearchMode mode = NoteSearchMode.Approximate) =>
        new() { ConnectionString = server.ConnectionString, TableName = NewName(), Mode = mode };

    public void Dispose()
    {
        foreach (string name in names) server.Scalar($"DROP TABLE IF EXISTS {name}");
    }
}
