using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.ML;

namespace NoteLLM.MLNet.Data;

/// <summary>
/// Notes as JSON Lines: one object per line,
/// <c>{"id":…,"title":…,"content":…,"hashtags":[…],"category":…,"exposure":n,"split":"train"}</c>.
/// <c>id</c> is required; the other fields default to empty (exposure to 0). A <c>.gz</c> name means gzip.
/// </summary>
public static class NotesJsonlFile
{
    private sealed class Line
    {
        [JsonPropertyName("id")] public string? Id { get; set; }
        [JsonPropertyName("title")] public string? Title { get; set; }
        [JsonPropertyName("content")] public string? Content { get; set; }
        [JsonPropertyName("hashtags")] public string[]? Hashtags { get; set; }
        [JsonPropertyName("category")] public string? Category { get; set; }
        [JsonPropertyName("exposure")] public int Exposure { get; set; }
        [JsonPropertyName("split")] public string? Split { get; set; }
    }

    private static readonly JsonSerializerOptions WriteOptions = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Reads the notes of <paramref name="path"/> lazily, line by line (blank lines are skipped).</summary>
    /// <exception cref="InvalidDataException">A line is not a note object; the message names the file and line.</exception>
    public static IEnumerable<NoteRecord> Read(string path)
    {
        using var reader = DataFile.OpenText(path);
        int lineNumber = 0;
        for (string? text; (text = reader.ReadLine()) != null;)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            Line? line;
            try
            {
                line = JsonSerializer.Deserialize<Line>(text);
            }
            catch (JsonException e)
            {
                throw Bad(path, lineNumber, e.Message);
            }
            if (line is null) throw Bad(path, lineNumber, "got null");
            if (string.IsNullOrEmpty(line.Id)) throw Bad(path, lineNumber, "the \"id\" field is missing or empty");
            if (line.Hashtags is { } tags && Array.Exists(tags, t => t is null))
                throw Bad(path, lineNumber, "\"hashtags\" holds a null");
            yield return new NoteRecord
            {
                Id = line.Id,
                Title = line.Title ?? "",
                Content = line.Content ?? "",
                Hashtags = line.Hashtags ?? [],
                Category = line.Category ?? "",
                Exposure = line.Exposure,
                Split = line.Split ?? "",
            };
        }
    }

    /// <summary>Loads the notes of <paramref name="path"/> into an <see cref="IDataView"/> (read fully, so errors surface here).</summary>
    public static IDataView Load(MLContext mlContext, string path) =>
        mlContext.Data.LoadFromEnumerable(Read(path).ToList());

    /// <summary>Writes <paramref name="notes"/> to <paramref name="path"/> (atomically; gzip when it ends in <c>.gz</c>).</summary>
    /// <exception cref="ArgumentException">A note <see cref="Read"/> would refuse (null, no id, a null hashtag), named by
    /// its position; no file is written.</exception>
    public static void Write(string path, IEnumerable<NoteRecord> notes) =>
        DataFile.WriteAtomically(path, writer =>
        {
            int position = 0;
            foreach (var note in notes)
            {
                if (note is null) throw new ArgumentException($"note {position} is null", nameof(notes));
                if (string.IsNullOrEmpty(note.Id)) throw new ArgumentException($"note {position} has no id: every note needs one", nameof(notes));
                if (note.Hashtags is { } tags && Array.Exists(tags, t => t is null))
                    throw new ArgumentException($"note {position} ('{note.Id}') has a null hashtag", nameof(notes));
                position++;
                writer.WriteLine(JsonSerializer.Serialize(new Line
                {
                    Id = note.Id,
                    Title = note.Title,
                    Content = note.Content,
                    Hashtags = note.Hashtags,
                    Category = note.Category,
                    Exposure = note.Exposure,
                    Split = note.Split,
                }, WriteOptions));
            }
        });

    private static InvalidDataException Bad(string path, int line, string detail) =>
        new($"{path} line {line}: expected a JSON object with a non-empty string \"id\" and optional string "
            + $"\"title\", \"content\", \"category\", \"split\", string array \"hashtags\" and integer \"exposure\" ({detail}).");
}
