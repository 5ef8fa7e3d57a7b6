using System.Diagnostics;
using Npgsql;

namespace NoteLLM.MLNet.Tests.TestSupport;

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "PostgreSQL server";
}

/// <summary>
/// A real, throwaway PostgreSQL server with pgvector for the tests: a cluster initialised in a temporary folder,
/// reached through a Unix socket in that folder (no TCP port to collide with), stopped and deleted at the end.
/// With NOTELLM_TEST_POSTGRES set to a connection string, that server is used instead (each test uses tables of its own).
/// The server and pgvector come from scripts/install-pgvector.sh, which .ci/run runs first.
/// </summary>
public sealed class PostgresServer : IDisposable
{
    private const string Bin = "/usr/lib/postgresql/15/bin";
    private const int Port = 5432; // only names the socket file inside the private folder
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);
    private readonly string? folder;
    private int tables;

    public PostgresServer()
    {
        if (Environment.GetEnvironmentVariable("NOTELLM_TEST_POSTGRES") is { Length: > 0 } given)
        {
            ConnectionString = given;
            return;
        }
        if (!File.Exists(Path.Combine(Bin, "initdb")) || !File.Exists("/usr/share/postgresql/15/extension/vector.control"))
            throw new InvalidOperationException(
                $"The PostgreSQL tests need PostgreSQL 15 and pgvector ({Bin}/initdb, /usr/share/postgresql/15/extension/vector.control). " +
                "Install them with scripts/install-pgvector.sh (as root), or set NOTELLM_TEST_POSTGRES to the connection string of a server with pgvector.");

        folder = Directory.CreateTempSubdirectory("notellm-pg-").FullName;
        string data = Path.Combine(folder, "data");
        // PostgreSQL refuses to run as root: as root (CI), the cluster belongs to the postgres user that Debian's package creates.
        File.SetUnixFileMode(folder, (UnixFileMode)0b111_111_111); // the server user writes its data and socket here
        RunAsServerUser(Path.Combine(Bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8");
        RunAsServerUser(Path.Combine(Bin, "pg_ctl"), "-D", data, "-w", "-t", "60", "-l", Path.Combine(folder, "server.log"), "start",
            "-o", $"-c listen_addresses='' -c unix_socket_directories='{folder}' -p {Port} -c fsync=off -c max_connections=200");
        ConnectionString = $"Host={folder};Port={Port};Username=postgres;Database=postgres;Pooling=true";
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

    public void Dispose()
    {
        if (folder is null) return;
        NpgsqlConnection.ClearAllPools();
        try
        {
            RunAsServerUser(Path.Combine(Bin, "pg_ctl"), "-D", Path.Combine(folder, "data"), "-m", "immediate", "-w", "stop");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static void RunAsServerUser(string program, params string[] args)
    {
        bool root = Environment.UserName == "root";
        var start = new ProcessStartInfo(root ? "runuser" : program) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (root)
            foreach (string a in new[] { "-u", "postgres", "--", program }) start.ArgumentList.Add(a);
        foreach (string a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} did not finish within {Timeout}");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed ({process.ExitCode}):\n{stdout.Result}\n{stderr.Result}");
    }
}
