using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using NoteLLM.MLNet.Data;
using NoteLLM.MLNet.Retrieval;
using NoteLLM.MLNet.Tests.Integration;
using NoteLLM.Web;

namespace NoteLLM.MLNet.Tests.Web;

/// <summary>
/// The web sample's endpoints on a tiny model saved the quick start's way, served in memory: each answers as the
/// fitted transformer and the saved index do, bad requests get a 400 ProblemDetails that says why, unknown ids 404.
/// </summary>
public class NoteWebTests(NoteWebFixture fixture) : IClassFixture<NoteWebFixture>
{
    private readonly HttpClient client = fixture.Factory.CreateClient();

    private NoteRecord Note(int i) => fixture.Notes[i];

    private static object Body(NoteRecord note, bool withId = true) =>
        new { id = withId ? note.Id : null, title = note.Title, content = note.Content, hashtags = note.Hashtags };

    private static async Task<JsonObject> Json(HttpResponseMessage response, HttpStatusCode status = HttpStatusCode.OK)
    {
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{response.StatusCode}: {body}");
        return JsonNode.Parse(body)!.AsObject();
    }

    // the served index is read back from its file and searched in other blocks: scores agree to float rounding
    private static bool Close(float a, float b) => Math.Abs(a - b) < 1e-5f;

    private static string[] Strings(JsonNode? array) => array!.AsArray().Select(s => s!.GetValue<string>()).ToArray();

    [Fact]
    public async Task EmbedGivesTheFittedModelsEmbedding()
    {
        var json = await Json(await client.PostAsJsonAsync("/api/embed", Body(Note(0))));
        var embedding = json["embedding"]!.AsArray().Select(v => v!.GetValue<float>()).ToArray();
        Assert.Equal(NoteLLMFixture.EmbeddingDimension, json["dimensions"]!.GetValue<int>());
        Assert.Equal(fixture.Expected[Note(0).Id].Embedding, embedding, Close);
    }

    [Fact]
    public async Task AnnotateGivesTheFittedModelsCategoryAndHashtags()
    {
        for (int i = 0; i < 3; i++)
        {
            var json = await Json(await client.PostAsJsonAsync("/api/annotate", Body(Note(i))));
            Assert.Equal(fixture.Expected[Note(i).Id].GeneratedCategory, json["category"]!.GetValue<string>());
            Assert.Equal(fixture.Expected[Note(i).Id].GeneratedHashtags, Strings(json["hashtags"]));
        }
    }

    [Fact]
    public async Task RelatedToPostedTextSearchesTheIndexWithItsEmbedding()
    {
        var note = Note(1);
        var json = await Json(await client.PostAsJsonAsync("/api/related?k=5", Body(note, withId: false)));
        var embedding = (await Json(await client.PostAsJsonAsync("/api/embed", Body(note))))["embedding"]!.AsArray().Select(v => v!.GetValue<float>()).ToArray();
        var expected = fixture.Index.Search(embedding, 5);
        var related = json["related"]!.AsArray();
        Assert.Null(json["id"]);
        Assert.Equal(expected.Select(r => r.Id), related.Select(r => r!["id"]!.GetValue<string>()));
        Assert.Equal(expected.Select(r => r.Score), related.Select(r => r!["score"]!.GetValue<float>()), Close);
        Assert.Equal(expected.Select(r => fixture.Notes.Single(n => n.Id == r.Id).Title), related.Select(r => r!["title"]!.GetValue<string>()));
        // the posted note is itself indexed, so it is its own best match unless its id is given
        Assert.Equal(note.Id, expected[0].Id);
        var withId = await Json(await client.PostAsJsonAsync("/api/related?k=5", Body(note)));
        Assert.Equal(note.Id, withId["id"]!.GetValue<string>());
        Assert.DoesNotContain(note.Id, withId["related"]!.AsArray().Select(r => r!["id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task RelatedToAnIndexedNoteAreTheIndexsRelatedNotes()
    {
        string id = Note(2).Id;
        var json = await Json(await client.GetAsync($"/api/notes/{id}/related?k=4"));
        var expected = fixture.Index.RelatedNotes(id, 4);
        Assert.Equal(id, json["id"]!.GetValue<string>());
        Assert.Equal(expected.Select(r => r.Id), json["related"]!.AsArray().Select(r => r!["id"]!.GetValue<string>()));
        Assert.Equal(expected.Select(r => r.Score), json["related"]!.AsArray().Select(r => r!["score"]!.GetValue<float>()), Close);
        Assert.Equal(NoteEndpoints.DefaultK, (await Json(await client.GetAsync($"/api/notes/{id}/related")))["related"]!.AsArray().Count);
    }

    [Fact]
    public async Task NotesAreListedSearchedAndShown()
    {
        var all = await Json(await client.GetAsync("/api/notes"));
        Assert.Equal(fixture.Notes.Count, all["total"]!.GetValue<int>());
        Assert.Equal(fixture.Index.Ids, all["notes"]!.AsArray().Select(n => n!["id"]!.GetValue<string>()));

        var note = Note(3);
        string word = note.Title.Split(' ')[0]; // the made-up word only this note and its text carry
        var found = await Json(await client.GetAsync($"/api/notes?query={word.ToUpperInvariant()}&limit=1"));
        Assert.Equal(fixture.Notes.Count(n => n.Title.Contains(word) || n.Id.Contains(word) || n.Category.Contains(word)), found["total"]!.GetValue<int>());
        Assert.Equal(note.Id, Assert.Single(found["notes"]!.AsArray())!["id"]!.GetValue<string>());

        var shown = await Json(await client.GetAsync($"/api/notes/{note.Id}"));
        Assert.Equal(note.Title, shown["title"]!.GetValue<string>());
        Assert.Equal(note.Content, shown["content"]!.GetValue<string>());
        Assert.Equal(note.Category, shown["category"]!.GetValue<string>());
        Assert.Equal(note.Hashtags, Strings(shown["hashtags"]));
    }

    [Fact]
    public async Task ThePageIsServed()
    {
        var response = await client.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("/api/notes/", await response.Content.ReadAsStringAsync());
    }

    public static TheoryData<string, string, string?, string> BadRequests => new()
    {
        { "POST", "/api/embed", """{"title": " ", "content": ""}""", "neither title nor content" },
        { "POST", "/api/annotate", """{"hashtags": ["a"]}""", "neither title nor content" },
        { "POST", "/api/annotate", "null", "The body must be a JSON note" },
        { "POST", "/api/related?k=0", """{"title": "vim"}""", "k must be from 1 to 100; got 0." },
        { "POST", "/api/related?k=101", """{"title": "vim"}""", "k must be from 1 to 100; got 101." },
        { "POST", "/api/related?k=ten", """{"title": "vim"}""", "k must be a whole number from 1 to 100; got 'ten'." },
        { "POST", "/api/related", $$"""{"title": "{{new string('x', NoteEndpoints.MaxTextLength + 1)}}"}""", "title is 10,001 characters long" },
        { "POST", "/api/embed", $$"""{"title": "vim", "hashtags": [{{string.Join(',', Enumerable.Repeat("\"t\"", NoteEndpoints.MaxHashtags + 1))}}]}""", "51 hashtags" },
        { "POST", "/api/embed", """{"title": "vim", "hashtags": ["a", null]}""", "hashtags must be strings" },
        { "POST", "/api/embed", $$"""{"title": "vim", "hashtags": ["a", "{{new string('x', NoteEndpoints.MaxHashtagLength + 1)}}"]}""", "A hashtag is 201 characters long; at most 200 are accepted." },
        { "GET", "/api/notes/n0a/related?k=-3", null, "k must be from 1 to 100; got -3." },
        { "GET", "/api/notes?limit=501", null, "limit must be from 1 to 500; got 501." },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task BadRequestsGetAProblemThatSaysWhy(string method, string path, string? body, string reason)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null) request.Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        var response = await client.SendAsync(request);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await Json(response, HttpStatusCode.BadRequest);
        Assert.Equal(400, problem["status"]!.GetValue<int>());
        Assert.Contains(reason, problem["detail"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("/api/notes/no-such-note")]
    [InlineData("/api/notes/no-such-note/related?k=3")]
    public async Task UnknownIdIsNotFound(string path)
    {
        var response = await client.GetAsync(path);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await Json(response, HttpStatusCode.NotFound);
        Assert.Equal("No indexed note has id 'no-such-note'.", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task ConcurrentRelatedRequestsGetTheSequentialAnswers()
    {
        // 32 requests over every note: pooled engines on one shared transformer must not mix up their notes. The ids must
        // be the same; scores are compared to float rounding, as the other endpoint tests compare them.
        var bodies = Enumerable.Range(0, 32).Select(i => Body(Note(i % fixture.Notes.Count), withId: false)).ToList();
        async Task<(string[] Ids, float[] Scores)> Related(object body)
        {
            var related = (await Json(await client.PostAsJsonAsync("/api/related?k=5", body)))["related"]!.AsArray();
            return (related.Select(r => r!["id"]!.GetValue<string>()).ToArray(), related.Select(r => r!["score"]!.GetValue<float>()).ToArray());
        }
        var sequential = new List<(string[] Ids, float[] Scores)>();
        foreach (var body in bodies) sequential.Add(await Related(body));
        var concurrent = await Task.WhenAll(bodies.Select(body => Task.Run(() => Related(body))));
        for (int i = 0; i < bodies.Count; i++)
        {
            Assert.Equal(sequential[i].Ids, concurrent[i].Ids);
            Assert.Equal(sequential[i].Scores, concurrent[i].Scores, Close);
        }
        Assert.True(sequential.Select(answer => answer.Ids[0]).Distinct().Count() > 1);
    }
}
