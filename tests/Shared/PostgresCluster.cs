using System.Diagnostics;
using Npgsql;

namespace NoteLLM.MLNet.TestSupport;

/// <summary>
/// A throwaway PostgreSQL 15 server with pgvector, for the tests and the index benchmark: a cluster initialised in a
/// temporary folder, reached through a Unix socket in that folder (no TCP port to collide with), stopped and deleted
/// on dispose. The server and pgvector come from scripts/install-pgvector.sh.
/// </summary>
public sealed class PostgresCluster : IDisposable
{
    private const string Bin = "/usr/lib/postgresql/15/bin";
    private const int Port = 5432; // only names the socket file inside the private folder
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);
    private readonly string folder;

    /// <param name="settings">Server settings (<c>name=value</c>) on top of the defaults, e.g. <c>shared_buffers=1GB</c>.</param>
    public PostgresCluster(params string[] settings)
    {
        if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException("the throwaway PostgreSQL cluster runs Debian's PostgreSQL 15 on Linux");
        if (!File.Exists(Path.Combine(Bin, "initdb")) || !File.Exists("/usr/share/postgresql/15/extension/vector.control"))
            throw new InvalidOperationException(
                $"PostgreSQL 15 and pgvector are needed ({Bin}/initdb, /usr/share/postgresql/15/extension/vector.control): " +
                "install them with scripts/install-pgvector.sh (as root).");
        folder = Directory.CreateTempSubdirectory("notellm-pg-").FullName;
        File.SetUnixFileMode(folder, (UnixFileMode)0b111_111_111); // the server user writes its data and socket here
        string data = Path.Combine(folder, "data");
        RunAsServerUser(Path.Combine(Bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8");
        string options = $"-c listen_addresses='' -c unix_socket_directories='{folder}' -p {Port} -c max_connections=200 " +
                         string.Join(' ', settings.Select(s => $"-c {s}"));
        RunAsServerUser(Path.Combine(Bin, "pg_ctl"), "-D", data, "-w", "-t", "60", "-l", Path.Combine(folder, "server.log"), "start", "-o", options);
        ConnectionString = $"Host={folder};Port={Port};Username=postgres;Database=postgres";
    }

    /// <summary>Connection string of the server's superuser, who may create the extension.</summary>
    public string ConnectionString { get; }

    public void Dispose()
    {
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

    // PostgreSQL refuses to run as root: as root (CI), the cluster belongs to the postgres user Debian's package creates.
    private static void RunAsServerUser(string program, params string[] args)
    {
        bool root = Environment.UserName == "root";
        var start = new ProcessStartInfo(root ? "runuser" : program);
        if (root)
            foreach (string a in new[] { "-u", "postgres", "--", program }) start.ArgumentList.Add(a);
        foreach (string a in args) start.ArgumentList.Add(a);
        var (exitCode, stdout, stderr) = ChildProcess.Run(start, Timeout, program);
        if (exitCode != 0)
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed ({exitCode}):\n{stdout}\n{stderr}");
    }
}
