using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc.Testing;
using NoteLLM.MLNet.Retrieval;
using NoteLLM.MLNet.Tests.Integration;
using NoteLLM.MLNet.Tests.TestSupport;
using NoteLLM.Web;
using Npgsql;

namespace NoteLLM.MLNet.Tests.Web;

/// <summary>
/// The web sample with <c>Postgres</c> set (<c>--postgres</c>): the related notes come from the table, as the saved
/// index gives them; a missing table or one of another embedding size stops the start with a message naming it.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class NoteWebPostgresTests(NoteWebFixture fixture, PostgresServer server) : IClassFixture<NoteWebFixture>, IDisposable
{
    private readonly PostgresTables tables = server.Tables("web");

    private PgVectorNoteIndexOptions NewTable() => tables.NewOptions();

    private WebApplicationFactory<NoteServing> Serve(string table) =>
        NoteWebFixture.Serve(fixture.ModelPath, (nameof(NoteServingOptions.Postgres), server.ConnectionString), (nameof(NoteServingOptions.PostgresTable), table),
            (nameof(NoteServingOptions.Index), "no-such-index.bin")); // the file index is not read

    public void Dispose() => tables.Dispose();

    private static bool Close(float a, float b) => Math.Abs(a - b) < 1e-5f;

    [Fact]
    public async Task RelatedNotesComeFromTheTableAsFromTheSavedIndex()
    {
        var options = NewTable();
        var ids = fixture.Notes.Select(n => n.Id).ToList();
        using (var table = PgVectorNoteIndex.Open(NoteLLMFixture.EmbeddingDimension, options))
            table.Upsert(ids, ids.Select(fixture.Index.GetEmbedding).ToList());
        NpgsqlConnection.ClearAllPools();
        using var factory = Serve(options.TableName);
        var client = factory.CreateClient();

        foreach (string id in ids.Take(3))
        {
            var expected = fixture.Index.RelatedNotes(id, 4);
            var json = JsonNode.Parse(await client.GetStringAsync($"/api/notes/{id}/related?k=4"))!["related"]!.AsArray();
            Assert.Equal(expected.Select(r => r.Id), json.Select(r => r!["id"]!.GetValue<string>()));
            Assert.Equal(expected.Select(r => r.Score), json.Select(r => r!["score"]!.GetValue<float>()), Close);
            Assert.Equal(expected.Select(r => fixture.Notes.Single(n => n.Id == r.Id).Title), json.Select(r => r!["title"]!.GetValue<string>()));
        }
        var note = fixture.Notes[1];
        var posted = JsonNode.Parse(await (await client.PostAsJsonAsync("/api/related?k=5",
            new { id = note.Id, title = note.Title, content = note.Content, hashtags = note.Hashtags })).Content.ReadAsStringAsync())!["related"]!.AsArray();
        Assert.Equal(fixture.Index.RelatedNotes(note.Id, 5).Select(r => r.Id), posted.Select(r => r!["id"]!.GetValue<string>()));
        Assert.Equal(ids, JsonNode.Parse(await client.GetStringAsync("/api/notes"))!["notes"]!.AsArray().Select(n => n!["id"]!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/notes/{note.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/notes/no-such-note")).StatusCode);
    }

    [Fact]
    public void ATableOfAnotherEmbeddingSizeStopsTheStartNamingTheTableAndBothSizes()
    {
        var options = NewTable();
        using (var table = PgVectorNoteIndex.Open(8, options))
            table.Add("other-model-note", Enumerable.Repeat(1f, 8).ToArray());

        var error = NoteWebStartupTests.StartupError(Serve(options.TableName));

        Assert.Equal($"The model's embeddings have {NoteLLMFixture.EmbeddingDimension} dimensions but PostgreSQL table {options.TableName} holds 8: " +
                     $"they come from different runs; rerun the quick start ({NoteServing.QuickStartCommand}) with --postgres to fill it from this model, " +
                     "or pass the --postgres-table it filled.", error.Message);
    }

    [Fact]
    public void AMissingTableStopsTheStartAndIsNotCreated()
    {
        var options = NewTable();

        var error = NoteWebStartupTests.StartupError(Serve(options.TableName));

        Assert.Equal($"No table {options.TableName} in the PostgreSQL database: run the quick start ({NoteServing.QuickStartCommand}) with " +
                     "--postgres <connection string> to fill it, or pass the --postgres-table it filled.", error.Message);
        Assert.Null(PgVectorNoteIndex.StoredDimensions(options));
    }
}
