// NoteLLM.Serving: a consumer of the NoteLLM.MLNet package. It loads the quick start's model.zip with plain
// mlContext.Model.Load (no NoteLLM transformer type is named: the zip tells ML.NET which loader to use), and for each
// note prints the generated category and hashtags and its related notes from the saved note index.
//
//   dotnet run -c Release --project samples/NoteLLM.Serving -- --title "vim: Vi IMproved" --content "Vim is an almost compatible version of vi."
//   dotnet run -c Release --project samples/NoteLLM.Serving -- --notes quickstart-output/example-notes.jsonl [--model quickstart-output/model.zip] [--top 5] [--json]
//
// The index (note-index.bin) and the indexed notes' titles (indexed-notes.jsonl) are read from the model's folder.
// Exit code: 0 success, 1 an error the message explains, 2 bad usage.
using System.Globalization;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using NoteLLM.MLNet.Data;
using NoteLLM.MLNet.Retrieval;

const string Usage = "usage: NoteLLM.Serving [--model <model.zip>] (--title <text> [--content <text>] | --notes <notes.jsonl>) [--top <k>] [--json]";
const string IndexFile = "note-index.bin", IndexNotesFile = "indexed-notes.jsonl";

string model = Path.Combine("quickstart-output", "model.zip");
string? title = null, content = null, notesFile = null;
int top = 5;
bool json = false;
for (int i = 0; i < args.Length; i++)
{
    string? Value() => i + 1 < args.Length ? args[++i] : null;
    switch (args[i])
    {
        case "--model": model = Value() ?? ""; break;
        case "--title": title = Value(); break;
        case "--content": content = Value(); break;
        case "--notes": notesFile = Value(); break;
        case "--top" when int.TryParse(Value(), CultureInfo.InvariantCulture, out int k) && k > 0: top = k; break;
        case "--json": json = true; break;
        default: return Fail($"unknown or incomplete argument '{args[i]}'. {Usage}", 2);
    }
}
if ((title is null && content is null) == (notesFile is null)) return Fail($"give one note (--title/--content) or a notes file (--notes). {Usage}", 2);

string modelPath = Path.GetFullPath(model);
if (!File.Exists(modelPath))
    return Fail($"No model file at '{modelPath}': run the quick start first (dotnet run -c Release --project samples/NoteLLM.QuickStart) or pass --model <path to model.zip>.");
string folder = Path.GetDirectoryName(modelPath)!;
string indexPath = Path.Combine(folder, IndexFile), indexNotesPath = Path.Combine(folder, IndexNotesFile);
foreach (string path in new[] { indexPath, indexNotesPath })
    if (!File.Exists(path))
        return Fail($"No {Path.GetFileName(path)} next to the model in '{folder}': the quick start saves it with model.zip; rerun it or copy the file there.");

List<NoteRecord> notes;
try
{
    notes = notesFile is null
        ? [new NoteRecord { Id = "note-1", Title = title ?? "", Content = content ?? "" }]
        : NotesJsonlFile.Read(notesFile).ToList();
}
catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or InvalidDataException)
{
    return Fail(e.Message);
}

var mlContext = new MLContext(seed: 1);
ITransformer transformer;
NoteIndex index;
try
{
    transformer = mlContext.Model.Load(modelPath, out _);
    index = NoteIndex.Load(indexPath);
}
catch (Exception e)
{
    return Fail($"Could not load '{modelPath}' and its index ({e.GetBaseException().Message}): rerun the quick start to write them again.");
}
var titles = NotesJsonlFile.Read(indexNotesPath).ToDictionary(n => n.Id, n => n.Title);

// The model's outputs, read by their conventional column names.
IDataView output = transformer.Transform(mlContext.Data.LoadFromEnumerable(notes));
var embeddingColumn = output.Schema["Embedding"];
var hashtagsColumn = output.Schema["GeneratedHashtags"];
var categoryColumn = output.Schema["GeneratedCategory"];
using (index)
using (var cursor = output.GetRowCursor([embeddingColumn, hashtagsColumn, categoryColumn]))
{
    var embeddingGetter = cursor.GetGetter<VBuffer<float>>(embeddingColumn);
    var hashtagsGetter = cursor.GetGetter<VBuffer<ReadOnlyMemory<char>>>(hashtagsColumn);
    var categoryGetter = cursor.GetGetter<ReadOnlyMemory<char>>(categoryColumn);
    VBuffer<float> embedding = default;
    VBuffer<ReadOnlyMemory<char>> hashtags = default;
    ReadOnlyMemory<char> category = default;
    for (int row = 0; cursor.MoveNext(); row++)
    {
        embeddingGetter(ref embedding);
        hashtagsGetter(ref hashtags);
        categoryGetter(ref category);
        var note = notes[row];
        // a note that is itself in the index is not its own related note
        var related = index.Search([embedding.DenseValues().ToArray()], top, [note.Id])[0];
        var generatedHashtags = hashtags.DenseValues().Select(h => h.ToString()).ToArray();
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                id = note.Id,
                title = note.Title,
                category = category.ToString(),
                hashtags = generatedHashtags,
                related = related.Select(r => new { id = r.Id, title = titles.GetValueOrDefault(r.Id, ""), score = r.Score }),
            }));
            continue;
        }
        Console.WriteLine($"note {note.Id}: {note.Title}");
        Console.WriteLine($"  category: {category}");
        Console.WriteLine($"  hashtags: {string.Join(", ", generatedHashtags)}");
        Console.WriteLine($"  related notes (top {top} of {index.Count:N0}):");
        for (int i = 0; i < related.Count; i++)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    {i + 1}. {related[i].Score:F3}  {related[i].Id}: {titles.GetValueOrDefault(related[i].Id, "")}"));
    }
}
return 0;

static int Fail(string message, int exitCode = 1)
{
    Console.Error.WriteLine($"error: {message}");
    return exitCode;
}
