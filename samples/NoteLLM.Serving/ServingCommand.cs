using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using NoteLLM.MLNet.Data;
using NoteLLM.MLNet.Retrieval;
using Npgsql;
using Spectre.Console.Cli;

namespace NoteLLM.Serving;

/// <summary>
/// Loads the quick start's model.zip with plain mlContext.Model.Load (no NoteLLM transformer type is named: the zip
/// tells ML.NET which loader to use), and for each note prints the generated category and hashtags and its related
/// notes from the saved note index, or with --postgres from the PostgreSQL table the quick start filled. Exit code 1
/// with one line on standard error when a file is missing or damaged or the table cannot be read.
/// </summary>
public sealed class ServingCommand : Command<ServingSettings>
{
    private const string IndexFile = "note-index.bin", IndexNotesFile = "indexed-notes.jsonl", DefaultPostgresTable = "note_embeddings";

    public override int Execute(CommandContext context, ServingSettings settings, CancellationToken cancellationToken)
    {
        string modelPath = Path.GetFullPath(settings.Model);
        if (!File.Exists(modelPath))
            return Fail($"No model file at '{modelPath}': run the quick start first (dotnet run -c Release --project samples/NoteLLM.QuickStart) or pass --model <path to model.zip>.");
        string folder = Path.GetDirectoryName(modelPath)!;
        string indexPath = Path.Combine(folder, IndexFile), indexNotesPath = Path.Combine(folder, IndexNotesFile);
        // From PostgreSQL only the related notes come: their titles are still read from the model's folder.
        foreach (string path in settings.Postgres is null ? new[] { indexPath, indexNotesPath } : [indexNotesPath])
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
        INoteIndex? index = null;
        int dimensions;
        try
        {
            transformer = mlContext.Model.Load(modelPath, out var inputSchema);
            dimensions = transformer.GetOutputSchema(inputSchema)["Embedding"].Type is VectorDataViewType { Size: > 0 } vector ? vector.Size : 0;
            if (settings.Postgres is null) index = NoteIndex.Load(indexPath);
        }
        catch (Exception e)
        {
            return Fail($"Could not load '{modelPath}' and its index ({e.GetBaseException().Message}): rerun the quick start to write them again.");
        }
        if (index is null && !TryOpenPostgres(settings.Postgres!, settings.PostgresTable ?? DefaultPostgresTable, dimensions, out index, out string? error))
            return Fail(error);
        using (index)
        {
            if (index.Dimensions != dimensions)
                return Fail($"The model's embeddings have {dimensions} dimensions but the index at '{indexPath}' holds {index.Dimensions}: they come from different runs; rerun the quick start to write them again.");
            if (!TryReadTitles(indexNotesPath, out var titles, out string? titlesError))
                return Fail(titlesError);
            Serve(mlContext, transformer, index, notes, titles, settings);
        }
        return 0;
    }

    // The titles of the indexed notes, shown beside their ids; a damaged file or a repeated id is the error line.
    private static bool TryReadTitles(string path, [NotNullWhen(true)] out Dictionary<string, string>? titles, [NotNullWhen(false)] out string? error)
    {
        titles = new Dictionary<string, string>(StringComparer.Ordinal);
        error = null;
        try
        {
            foreach (var note in NotesJsonlFile.Read(path))
            {
                if (titles.TryAdd(note.Id, note.Title)) continue;
                error = $"'{path}' lists note '{note.Id}' twice: rerun the quick start to write it again.";
                break;
            }
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            error = $"Could not read '{path}' ({e.Message}): rerun the quick start to write it again.";
        }
        if (error is null) return true;
        titles = null;
        return false;
    }

    private static void Serve(MLContext mlContext, ITransformer transformer, INoteIndex index, List<NoteRecord> notes,
        Dictionary<string, string> titles, ServingSettings settings)
    {
        int indexed = index.Count; // once: on PostgreSQL every call is a query
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
            Console.WriteLine($"  related notes (top {settings.Top} of {indexed:N0}):");
            for (int i = 0; i < related.Count; i++)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    {i + 1}. {related[i].Score:F3}  {related[i].Id}: {titles.GetValueOrDefault(related[i].Id, "")}"));
        }
    }

    /// <summary>
    /// Opens the table the quick start's --postgres filled, or gives the error line. The table is checked first, as
    /// <see cref="PgVectorNoteIndex.Open"/> would create a missing one empty. The connection string, which may hold a
    /// password, is never shown.
    /// </summary>
    private static bool TryOpenPostgres(string connectionString, string table, int dimensions,
        [NotNullWhen(true)] out INoteIndex? index, [NotNullWhen(false)] out string? error)
    {
        index = null;
        error = null;
        var options = new PgVectorNoteIndexOptions { ConnectionString = connectionString, TableName = table };
        try
        {
            int? stored = PgVectorNoteIndex.StoredDimensions(options);
            if (stored is null)
                error = $"No table {table} in the PostgreSQL database: run the quick start with --postgres <connection string> to fill it, or pass the --postgres-table it filled.";
            else if (stored != dimensions)
                error = $"The model's embeddings have {dimensions} dimensions but PostgreSQL table {table} holds {stored}: they come from different runs; " +
                       "rerun the quick start with --postgres to fill it from this model, or pass the --postgres-table it filled.";
            else
                index = PgVectorNoteIndex.Open(dimensions, options);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or ArgumentException)
        {
            string reason = e.InnerException is { } inner && e is NpgsqlException ? $"{e.Message} ({inner.Message})" : e.Message;
            error = $"Could not read PostgreSQL table {table} (--postgres): {reason}";
        }
        return index is not null;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"error: {message}");
        return 1;
    }
}
