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
