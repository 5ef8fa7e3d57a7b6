using System.Globalization;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using NoteLLM.MLNet.Data;
using NoteLLM.MLNet.Retrieval;
using Spectre.Console.Cli;

namespace NoteLLM.Serving;

/// <summary>
/// Loads the quick start's model.zip with plain mlContext.Model.Load (no NoteLLM transformer type is named: the zip
/// tells ML.NET which loader to use), and for each note prints the generated category and hashtags and its related
/// notes from the saved note index. Exit code 1 with one line on standard error when a file is missing or damaged.
/// </summary>
public sealed class ServingCommand : Command<ServingSettings>
{
    private const string IndexFile = "note-index.bin", IndexNotesFile = "indexed-notes.jsonl";

    public override int Execute(CommandContext context, ServingSettings settings, CancellationToken cancellationToken)
    {
        string modelPath = Path.GetFullPath(settings.Model);
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
            notes = settings.Notes is null
                ? [new NoteRecord { Id = "note-1", Title = settings.Title ?? "", Content = settings.Content ?? "" }]
                : NotesJsonlFile.Read(settings.Notes).ToList();
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
        using (index)
            Serve(mlContext, transformer, index, notes, NotesJsonlFile.Read(indexNotesPath).ToDictionary(n => n.Id, n => n.Title), settings);
        return 0;
    }

    private static void Serve(MLContext mlContext, ITransformer transformer, NoteIndex index, List<NoteRecord> notes,
        Dictionary<string, string> titles, ServingSettings settings)
    {
        // The model's outputs, read by their conventional column names.
        IDataView output = transformer.Transform(mlContext.Data.LoadFromEnumerable(notes));
        var embeddingColumn = output.Schema["Embedding"];
        var hashtagsColumn = output.Schema["GeneratedHashtags"];
        var categoryColumn = output.Schema["GeneratedCategory"];
        using var cursor = output.GetRowCursor([embeddingColumn, hashtagsColumn, categoryColumn]);
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
            var related = index.Search([embedding.DenseValues().ToArray()], settings.Top, [note.Id])[0];
            var generatedHashtags = hashtags.DenseValues().Select(h => h.ToString()).ToArray();
            if (settings.Json)
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
            Console.WriteLine($"  related notes (top {settings.Top} of {index.Count:N0}):");
            for (int i = 0; i < related.Count; i++)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    {i + 1}. {related[i].Score:F3}  {related[i].Id}: {titles.GetValueOrDefault(related[i].Id, "")}"));
        }
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"error: {message}");
        return 1;
    }
}
