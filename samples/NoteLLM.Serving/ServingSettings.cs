using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace NoteLLM.Serving;

/// <summary>Command-line options of the serving sample: one note (--title/--content) or a notes file (--notes).</summary>
public sealed class ServingSettings : CommandSettings
{
    [CommandOption("--model <FILE>")]
    [Description("The model zip the quick start wrote; note-index.bin (unless --postgres) and indexed-notes.jsonl are read from its folder.")]
    [DefaultValue("quickstart-output/model.zip")]
    public string Model { get; init; } = Path.Combine("quickstart-output", "model.zip");

    [CommandOption("--title <TEXT>")]
    [Description("Title of the one note to serve.")]
    public string? Title { get; init; }

    [CommandOption("--content <TEXT>")]
    [Description("Content of the one note to serve.")]
    public string? Content { get; init; }

    [CommandOption("--notes <FILE>")]
    [Description("A JSON-lines notes file to serve instead of one note (e.g. quickstart-output/example-notes.jsonl).")]
    public string? Notes { get; init; }

    [CommandOption("--top <K>")]
    [Description("Related notes per note.")]
    [DefaultValue(5)]
    public int Top { get; init; } = 5;

    [CommandOption("--json")]
    [Description("One JSON object per note instead of text.")]
    public bool Json { get; init; }

    [CommandOption("--postgres <CONNECTION-STRING>")]
    [Description("Read the related notes from the PostgreSQL table the quick start's --postgres filled (an Npgsql connection string) instead of note-index.bin.")]
    public string? Postgres { get; init; }

    [CommandOption("--postgres-table <NAME>")]
    [Description("The table --postgres reads (default note_embeddings).")]
    public string? PostgresTable { get; init; }

    public override ValidationResult Validate() =>
        (Title is null && Content is null) == (Notes is null) ? ValidationResult.Error("Give one note (--title/--content) or a notes file (--notes).")
        : Top < 1 ? ValidationResult.Error("--top must be at least 1.")
        : PostgresTable is not null && Postgres is null ? ValidationResult.Error("--postgres-table names the table of --postgres: give --postgres <connection string> too.")
        : ValidationResult.Success();
}
