namespace NoteLLM.Web;

/// <summary>
/// Where the served files are: configuration keys <c>Model</c>, <c>Index</c> and <c>Notes</c> (command line
/// <c>--model</c>, <c>--index</c>, <c>--notes</c>; environment <c>Model</c> etc.; or <c>appsettings.json</c>), and
/// <c>Postgres</c> / <c>PostgresTable</c> (<c>--postgres</c>, <c>--postgres-table</c>) to read the index from
/// PostgreSQL instead.
/// </summary>
public sealed class NoteServingOptions
{
    /// <summary>The index file the quick start writes next to the model.</summary>
    public const string IndexFileName = "note-index.bin";

    /// <summary>The indexed notes (ids, titles, ...) the quick start writes next to the model.</summary>
    public const string NotesFileName = "indexed-notes.jsonl";

    /// <summary>The model zip; the quick start's by default, relative to the current folder (as the serving sample).</summary>
    public string Model { get; set; } = Path.Combine("quickstart-output", "model.zip");

    /// <summary>The note index; <see cref="IndexFileName"/> in the model's folder when not set.</summary>
    public string? Index { get; set; }

    /// <summary>The indexed notes; <see cref="NotesFileName"/> in the model's folder when not set.</summary>
    public string? Notes { get; set; }

    /// <summary>
    /// An Npgsql connection string: when set, the related notes come from the PostgreSQL table the quick start's
    /// <c>--postgres</c> filled (<see cref="PostgresTable"/>) and <see cref="Index"/> is not read.
    /// </summary>
    public string? Postgres { get; set; }

    /// <summary>The table <see cref="Postgres"/> reads; <see cref="DefaultPostgresTable"/> when not set.</summary>
    public string? PostgresTable { get; set; }

    /// <summary>The table the quick start's <c>--postgres</c> writes unless told another.</summary>
    public const string DefaultPostgresTable = "note_embeddings";

    internal string ModelPath => Path.GetFullPath(Model);

    internal string IndexPath => Path.GetFullPath(Index ?? Path.Combine(Path.GetDirectoryName(ModelPath)!, IndexFileName));

    internal string NotesPath => Path.GetFullPath(Notes ?? Path.Combine(Path.GetDirectoryName(ModelPath)!, NotesFileName));
}
