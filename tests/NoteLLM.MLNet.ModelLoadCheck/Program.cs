// Usage: NoteLLM.MLNet.ModelLoadCheck <model.zip> <notes.json | notes.jsonl> [--threads N]
//
// Loads the model with mlContext.Model.Load (no NoteLLM type is named here, so this proves the zip carries
// everything another process needs), transforms the notes (JSON array or JSON lines with Id, Title, Content,
// Hashtags (array or delimited string) and Category) and prints one JSON object per note with every visible
// column of the result. With --threads N it then predicts every note with one PredictionEngine on this thread (the
// reference, printed with "Thread": 0) and again on N threads at once, each with its own PredictionEngine and in its
// own order (printed with "Thread": 1..N); the model must have the Embedding, GeneratedCategory and
// GeneratedHashtags columns. Messages the model logs (ML.NET log lines that contain "NoteLLM: ") go to stderr.
// Exit code 0 on success, 1 on a load/transform error (message on stderr), 2 on bad usage.
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML;
using Microsoft.ML.Data;

int threads = 0;
if (!(args.Length == 2 || args.Length == 4 && args[2] == "--threads" && int.TryParse(args[3], out threads) && threads > 0))
{
    Console.Error.WriteLine("Usage: NoteLLM.MLNet.ModelLoadCheck <model.zip> <notes.json | notes.jsonl> [--threads N]");
    return 2;
}

try
{
    var notes = NoteFile.Read(args[1]);
    var mlContext = new MLContext(seed: 1);
    mlContext.Log += (_, e) => { if (e.Message.Contains("NoteLLM: ", StringComparison.Ordinal)) Console.Error.WriteLine(e.Message); };
    ITransformer model = mlContext.Model.Load(args[0], out _);
    IDataView output = model.Transform(mlContext.Data.LoadFromEnumerable(notes));
    using var stdout = Console.OpenStandardOutput();
    void Print(JsonObject row)
    {
        JsonSerializer.Serialize(stdout, row);
        stdout.WriteByte((byte)'\n');
    }
    foreach (var row in OutputRows.ToJson(output))
        Print(row);
    if (threads > 0)
        foreach (var (thread, predictions) in Engines.PredictOnThreads(mlContext, model, output.Schema, notes, threads))
            foreach (var prediction in predictions)
                Print(prediction.ToJson(thread));
    return 0;
}
catch (Exception ex)
{
    Console.Error.WriteLine(ex);
    return 1;
}

/// <summary>A note as the model's input columns (conventions: Hashtags is a text vector).</summary>
internal sealed class Note
{
    public string Id { get; set; } = "";
    public string Title { get; set; } = "";
    public string Content { get; set; } = "";
    public string[] Hashtags { get; set; } = Array.Empty<string>();
    public string Category { get; set; } = "";
}

internal static class NoteFile
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

/// <summary>What a PredictionEngine returns for a note.</summary>
internal sealed class Prediction
{
    public string Id { get; set; } = "";
    public float[] Embedding { get; set; } = Array.Empty<float>();
    public string GeneratedCategory { get; set; } = "";
    public string[] GeneratedHashtags { get; set; } = Array.Empty<string>();

    public JsonObject ToJson(int thread) => new()
    {
        ["Thread"] = thread,
        ["Id"] = Id,
        ["Embedding"] = new JsonArray(Embedding.Select(v => (JsonNode)JsonValue.Create(v)).ToArray()),
        ["GeneratedCategory"] = GeneratedCategory,
        ["GeneratedHashtags"] = new JsonArray(GeneratedHashtags.Select(h => (JsonNode)JsonValue.Create(h)).ToArray()),
    };
}

internal static class Engines
{
    /// <summary>Every note's prediction by one PredictionEngine on this thread (thread 0), then by <paramref name="threads"/>
    /// threads at once, each with its own PredictionEngine and starting at another note (threads 1..N), in note order.</summary>
    public static IEnumerable<(int Thread, Prediction[] Predictions)> PredictOnThreads(MLContext mlContext, ITransformer model,
        DataViewSchema outputSchema, List<Note> notes, int threads)
    {
        var outputDefinition = SchemaDefinition.Create(typeof(Prediction));
        outputDefinition["Embedding"].ColumnType = outputSchema["Embedding"].Type; // a fixed-size vector
        Prediction[] Predict(int start)
        {
            using var engine = mlContext.Model.CreatePredictionEngine<Note, Prediction>(model,
                new PredictionEngineOptions { OwnsTransformer = false, OutputSchemaDefinition = outputDefinition });
            var predictions = new Prediction[notes.Count];
            for (int k = 0; k < notes.Count; k++)
            {
                int i = (start + k) % notes.Count;
                predictions[i] = engine.Predict(notes[i]);
            }
            return predictions;
        }

        var results = new Prediction[threads + 1][];
        results[0] = Predict(0);
        var errors = new Exception?[threads + 1];
        var workers = Enumerable.Range(1, threads).Select(t => new Thread(() =>
        {
            try { results[t] = Predict(t * notes.Count / threads); }
            catch (Exception e) { errors[t] = e; }
        })).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());
        if (errors.FirstOrDefault(e => e is not null) is { } error)
            throw new AggregateException("A prediction thread failed.", error);
        return results.Select((predictions, thread) => (thread, predictions));
    }
}

internal static class OutputRows
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
