// Usage: NoteLLM.MLNet.ModelLoadCheck <model.zip> <notes.json | notes.jsonl>
//
// Loads the model with mlContext.Model.Load (no NoteLLM type is named here, so this proves the zip carries
// everything another process needs), transforms the notes (JSON array or JSON lines with Id, Title, Content,
// Hashtags (array or delimited string) and Category) and prints one JSON object per note with every visible
// column of the result. Exit code 0 on success, 1 on a load/transform error (message on stderr), 2 on bad usage.
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML;
using Microsoft.ML.Data;

if (args.Length != 2)
{
    Console.Error.WriteLine("Usage: NoteLLM.MLNet.ModelLoadCheck <model.zip> <notes.json | notes.jsonl>");
    return 2;
}

try
{
    var notes = NoteFile.Read(args[1]);
    var mlContext = new MLContext(seed: 1);
    ITransformer model = mlContext.Model.Load(args[0], out _);
    IDataView output = model.Transform(mlContext.Data.LoadFromEnumerable(notes));
    using var stdout = Console.OpenStandardOutput();
    foreach (var row in OutputRows.ToJson(output))
    {
        JsonSerializer.Serialize(stdout, row);
        stdout.WriteByte((byte)'\n');
    }
    return 0;
}
catch (Exception ex)
{
    Console.Error.WriteLine(ex);
    return 1;
}

/// <summary>A note as the model's input columns (conventions: Hashtags is a text vector).</summary>
sealed class Note
{
    public string Id { get; set; } = "";
    public string Title { get; set; } = "";
    public string Content { get; set; } = "";
    public string[] Hashtags { get; set; } = Array.Empty<string>();
    public string Category { get; set; } = "";
}

static class NoteFile
{
    /// <summary>Reads a JSON array of notes or one note per line.</summary>
    public static List<Note> Read(string path)
    {
        string text = File.ReadAllText(path);
        var nodes = text.TrimStart().StartsWith('[')
            ? JsonNode.Parse(text)!.AsArray().Select(n => n!).ToList()
            : text.Split('\n').Where(l => l.Trim().Length > 0).Select(l => JsonNode.Parse(l)!).ToList();
        return nodes.Select(ToNote).ToList();
    }

    private static Note ToNote(JsonNode node, int index)
    {
        var obj = node as JsonObject ?? throw new InvalidDataException($"Note {index} is not a JSON object.");
        string Text(string name) => obj[name] is JsonValue v ? v.ToString() : "";
        var hashtags = obj["Hashtags"] switch
        {
            JsonArray array => array.Select(t => t?.ToString() ?? "").ToArray(),
            JsonValue value => value.ToString().Split(new[] { ',', ';', '\n' }, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            _ => Array.Empty<string>(),
        };
        return new Note { Id = Text("Id"), Title = Text("Title"), Content = Text("Content"), Hashtags = hashtags, Category = Text("Category") };
    }
}

static class OutputRows
{
    /// <summary>Every visible column of every row, as JSON (vectors as arrays, text as strings, numbers as numbers).</summary>
    public static IEnumerable<JsonObject> ToJson(IDataView data)
    {
        var columns = data.Schema.Where(c => !c.IsHidden).ToList();
        using var cursor = data.GetRowCursor(columns);
        var readers = columns.Select(c => (c.Name, Read: CreateReader(cursor, c))).ToList();
        while (cursor.MoveNext())
        {
            var row = new JsonObject();
            foreach (var (name, read) in readers)
                row[name] = read();
            yield return row;
        }
    }

    private static Func<JsonNode?> CreateReader(DataViewRow row, DataViewSchema.Column column)
    {
        var itemType = column.Type is VectorDataViewType vector ? vector.ItemType : column.Type;
        var method = typeof(OutputRows).GetMethod(nameof(CreateTypedReader), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .MakeGenericMethod(itemType.RawType);
        return (Func<JsonNode?>)method.Invoke(null, new object[] { row, column })!;
    }

    private static Func<JsonNode?> CreateTypedReader<T>(DataViewRow row, DataViewSchema.Column column)
    {
        if (column.Type is VectorDataViewType)
        {
            var getter = row.GetGetter<VBuffer<T>>(column);
            VBuffer<T> value = default;
            return () =>
            {
                getter(ref value);
                return new JsonArray(value.DenseValues().Select(ToJson).ToArray());
            };
        }
        var scalarGetter = row.GetGetter<T>(column);
        T scalar = default!;
        return () =>
        {
            scalarGetter(ref scalar);
            return ToJson(scalar);
        };
    }

    private static JsonNode? ToJson<T>(T value) => value switch
    {
        ReadOnlyMemory<char> text => JsonValue.Create(text.ToString()),
        float f => JsonValue.Create(f),
        double d => JsonValue.Create(d),
        bool b => JsonValue.Create(b),
        int or long or uint or ulong or short or ushort or byte or sbyte => JsonValue.Create(Convert.ToDecimal(value)),
        _ => JsonValue.Create(value?.ToString()),
    };
}
