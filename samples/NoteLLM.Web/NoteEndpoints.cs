using System.Globalization;
using NoteLLM.MLNet.Data;
using NoteLLM.MLNet.Retrieval;

namespace NoteLLM.Web;

/// <summary>
/// The JSON endpoints. A bad request gets a 400 ProblemDetails whose <c>detail</c> says what is wrong; an id that is
/// not indexed gets a 404 ProblemDetails.
/// </summary>
public static class NoteEndpoints
{
    /// <summary>The most related notes one request may ask for (<c>k</c>), and how many it gets when it does not say.</summary>
    public const int MaxK = 100, DefaultK = 10;

    /// <summary>The most notes one listing may return (<c>limit</c>), and how many it returns when it does not say.</summary>
    public const int MaxLimit = 500, DefaultLimit = 50;

    /// <summary>The longest title or content accepted, in characters, the most hashtags, and the longest hashtag.</summary>
    public const int MaxTextLength = 10_000, MaxHashtags = 50, MaxHashtagLength = 200;

    public static void MapNoteEndpoints(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api");
        api.MapPost("/embed", (NoteRequest? note, NoteServing serving) =>
        {
            if (Invalid(note) is { } problem) return problem;
            var embedding = serving.Embed(note!.ToRecord());
            return Results.Ok(new EmbedResponse(embedding.Length, embedding));
        });
        api.MapPost("/annotate", (NoteRequest? note, NoteServing serving) =>
        {
            if (Invalid(note) is { } problem) return problem;
            var annotation = serving.Annotate(note!.ToRecord());
            return Results.Ok(new AnnotateResponse(annotation.GeneratedCategory, annotation.GeneratedHashtags));
        });
        api.MapPost("/related", (NoteRequest? note, string? k, NoteServing serving) =>
        {
            if (Count(k, "k", DefaultK, MaxK, out int top) is { } badK) return badK;
            if (Invalid(note) is { } problem) return problem;
            return Results.Ok(new RelatedResponse(note!.Id, Items(serving, serving.Related(note.ToRecord(), top))));
        });
        api.MapGet("/notes", (string? query, string? limit, NoteServing serving) =>
        {
            if (Count(limit, "limit", DefaultLimit, MaxLimit, out int take) is { } badLimit) return badLimit;
            var found = serving.Search(query).ToList();
            return Results.Ok(new NoteListResponse(found.Count, found.Take(take).Select(n => new NoteSummary(n.Id, n.Title, n.Category)).ToArray()));
        });
        api.MapGet("/notes/{id}", (string id, NoteServing serving) =>
            serving.Find(id) is { } note
                ? Results.Ok(new NoteDetail(note.Id, note.Title, note.Content, note.Hashtags, note.Category))
                : NotIndexed(id));
        api.MapGet("/notes/{id}/related", (string id, string? k, NoteServing serving) =>
        {
            if (Count(k, "k", DefaultK, MaxK, out int top) is { } badK) return badK;
            return serving.RelatedTo(id, top) is { } related ? Results.Ok(new RelatedResponse(id, Items(serving, related))) : NotIndexed(id);
        });
    }

    private static RelatedItem[] Items(NoteServing serving, IReadOnlyList<RelatedNote> related) =>
        related.Select(r => new RelatedItem(r.Id, serving.Title(r.Id), r.Score)).ToArray();

    private static IResult? Invalid(NoteRequest? note)
    {
        if (note is null)
            return BadRequest("The body must be a JSON note: {\"title\": \"...\", \"content\": \"...\", \"hashtags\": [\"...\"]}.");
        if (string.IsNullOrWhiteSpace(note.Title) && string.IsNullOrWhiteSpace(note.Content))
            return BadRequest("The note has neither title nor content: give at least one of them.");
        foreach (var (name, text) in new[] { ("title", note.Title), ("content", note.Content) })
            if (text?.Length > MaxTextLength)
                return BadRequest(string.Create(CultureInfo.InvariantCulture, $"The note's {name} is {text.Length:N0} characters long; at most {MaxTextLength:N0} are accepted."));
        if (note.Hashtags?.Length > MaxHashtags)
            return BadRequest($"The note has {note.Hashtags.Length} hashtags; at most {MaxHashtags} are accepted.");
        if (note.Hashtags?.Any(h => h is null) == true)
            return BadRequest("A hashtag is null: hashtags must be strings.");
        if (note.Hashtags?.FirstOrDefault(h => h.Length > MaxHashtagLength) is { } longHashtag)
            return BadRequest(string.Create(CultureInfo.InvariantCulture, $"A hashtag is {longHashtag.Length:N0} characters long; at most {MaxHashtagLength} are accepted."));
        return null;
    }

    // A whole-number query parameter from 1 to max (fallback when absent); the 400 when it is anything else.
    private static IResult? Count(string? text, string name, int fallback, int max, out int value)
    {
        value = fallback;
        if (text is null) return null;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out value))
            return BadRequest($"{name} must be a whole number from 1 to {max}; got '{text}'.");
        return value is < 1 || value > max ? BadRequest($"{name} must be from 1 to {max}; got {value}.") : null;
    }

    private static IResult BadRequest(string detail) => Results.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: "Bad request");

    private static IResult NotIndexed(string id) => Results.Problem($"No indexed note has id '{id}'.", statusCode: StatusCodes.Status404NotFound, title: "Note not found");
}

/// <summary>A posted note: title and/or content, optional hashtags; an indexed <c>id</c> keeps the note out of its own related notes.</summary>
public sealed record NoteRequest(string? Id, string? Title, string? Content, string[]? Hashtags)
{
    internal NoteRecord ToRecord() => new() { Id = Id ?? "", Title = Title ?? "", Content = Content ?? "", Hashtags = Hashtags ?? [] };
}

public sealed record EmbedResponse(int Dimensions, float[] Embedding);

public sealed record AnnotateResponse(string Category, string[] Hashtags);

public sealed record RelatedItem(string Id, string Title, float Score);

/// <summary>The related notes of the note <c>id</c> (null for a posted note without one), best first.</summary>
public sealed record RelatedResponse(string? Id, RelatedItem[] Related);

public sealed record NoteSummary(string Id, string Title, string Category);

/// <summary><c>total</c> notes matched; the first <c>limit</c> of them, in index order.</summary>
public sealed record NoteListResponse(int Total, NoteSummary[] Notes);

public sealed record NoteDetail(string Id, string Title, string Content, string[] Hashtags, string Category);
