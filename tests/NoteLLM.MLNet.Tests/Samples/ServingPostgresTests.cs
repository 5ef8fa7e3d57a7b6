using NoteLLM.MLNet.Retrieval;
using NoteLLM.MLNet.Tests.Integration;
using NoteLLM.MLNet.Tests.TestSupport;
using NoteLLM.QuickStart;
using Npgsql;

namespace NoteLLM.MLNet.Tests.Samples;

/// <summary>
/// The serving sample with --postgres: a table filled by this process is read by the sample's own process (a new
/// connection, nothing shared but the database) and gives the related notes the file index gives; a table of another
/// embedding size is a one-line error.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ServingPostgresTests(NoteLLMFixture fixture, PostgresServer server) : IClassFixture<NoteLLMFixture>, IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);
    private readonly PostgresTables tables = server.Tables("serving");

    private PgVectorNoteIndexOptions NewTable() => tables.NewOptions();

    public void Dispose() => tables.Dispose();

    [Fact]
    public void ServesTheRelatedNotesOfATableFilledByAnotherProcess()
    {
        using var output = new ServingTests.QuickStartOutput(fixture);
        var options = NewTable();
        using (var table = PgVectorNoteIndex.Open(NoteLLMFixture.EmbeddingDimension, options))
            table.Upsert(output.Expected.Select(o => o.Id).ToList(), output.Expected.Select(o => o.Embedding).ToList());
        NpgsqlConnection.ClearAllPools();
        File.Delete(output.Folder.File(QuickStartCommand.IndexFile)); // the related notes can only come from the table

        var (exit, stdout, stderr) = SampleApp.Run(SampleApp.Serving, output.Folder.Path, Timeout,
            "--model", QuickStartCommand.ModelFile, "--notes", ServingTests.QuickStartOutput.QueryFile, "--top", "3", "--json",
            "--postgres", server.ConnectionString, "--postgres-table", options.TableName);

        Assert.True(exit == 0, $"exit {exit}: {stderr}");
        output.AssertServed(stdout);
    }

    [Fact]
    public void ATableOfAnotherEmbeddingSizeIsAOneLineErrorNamingTheTableAndBothSizes()
    {
        using var output = new ServingTests.QuickStartOutput(fixture);
        var options = NewTable();
        using (var table = PgVectorNoteIndex.Open(8, options))
            table.Add("other-model-note", Enumerable.Repeat(1f, 8).ToArray());

        string line = SampleApp.AssertOneLineError(SampleApp.Run(SampleApp.Serving, output.Folder.Path, Timeout,
            "--model", QuickStartCommand.ModelFile, "--title", "vim", "--postgres", server.ConnectionString, "--postgres-table", options.TableName));

        Assert.Equal($"error: The model's embeddings have {NoteLLMFixture.EmbeddingDimension} dimensions but PostgreSQL table {options.TableName} holds 8: " +
                     "they come from different runs; rerun the quick start with --postgres to fill it from this model, or pass the --postgres-table it filled.", line);
    }

    [Fact]
    public void AMissingTableIsAOneLineErrorAndIsNotCreated()
    {
        using var output = new ServingTests.QuickStartOutput(fixture);
        var options = NewTable();

        string line = SampleApp.AssertOneLineError(SampleApp.Run(SampleApp.Serving, output.Folder.Path, Timeout,
            "--model", QuickStartCommand.ModelFile, "--title", "vim", "--postgres", server.ConnectionString, "--postgres-table", options.TableName));

        Assert.StartsWith($"error: No table {options.TableName} in the PostgreSQL database: run the quick start with --postgres", line);
        Assert.Null(PgVectorNoteIndex.StoredDimensions(options));
    }
}
