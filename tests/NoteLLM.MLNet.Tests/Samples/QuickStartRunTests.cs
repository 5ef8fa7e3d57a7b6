using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.ML;
using NoteLLM.MLNet.Data;
using NoteLLM.MLNet.Retrieval;
using NoteLLM.MLNet.Tests.TestSupport;
using NoteLLM.QuickStart;
using Npgsql;

namespace NoteLLM.MLNet.Tests.Samples;

/// <summary>
/// The quick start's successful path, run as a user runs it (its own process, the repository's bundled
/// data/debian-notes-subset found from the app's folder), shrunk to seconds: the from-scratch decoder (no weights
/// package), 2 steps on 64 sampled pairs, generation for 4 test notes, the notes also written to PostgreSQL
/// (--postgres). It checks what the user reads and what the serving samples read: the tables, the spread line, the
/// files of the output folder and the PostgreSQL table.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class QuickStartRunTests(PostgresServer server) : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);
    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
    private readonly PostgresTables tables = server.Tables("quickstart");

    public sealed class Scored
    {
        public float[] Embedding { get; set; } = [];
        public string[] GeneratedHashtags { get; set; } = [];
        public string GeneratedCategory { get; set; } = "";
    }

    /// <summary>The cells of a table row as Spectre.Console draws it (Unicode or ASCII borders).</summary>
    private static string[] Cells(string line) => line.Split('│', '|').Select(c => c.Trim()).ToArray()[1..^1];

    private static string[] RowStartingWith(string[] lines, string first) =>
        lines.Where(l => l.TrimStart().StartsWith('│') || l.TrimStart().StartsWith('|')).Select(Cells)
            .FirstOrDefault(c => c.Length > 0 && c[0] == first) ?? throw new Xunit.Sdk.XunitException($"no table row '{first}' in:\n{string.Join('\n', lines)}");

    public void Dispose() => tables.Dispose();

    [Fact]
    public void TinyRunPrintsTheTablesAndWritesALoadableModelWithItsIndex()
    {
        using var dir = new TempFolder();
        string output = dir.File("out"), table = tables.NewName();
        var (exit, stdout, stderr) = SampleApp.Run(SampleApp.QuickStart, dir.Path, Timeout,
            "--backbone", "scratch", "--steps", "2", "--train-pairs", "64", "--generate", "4", "--output", output,
            "--postgres", server.ConnectionString, "--postgres-table", table);
        Assert.True(exit == 0, $"exit code {exit}; stderr: {stderr}; stdout: {stdout}");
        Assert.DoesNotContain("error", stderr, StringComparison.OrdinalIgnoreCase);
        var lines = stdout.Replace("\r", "").Split('\n');

        // the recall table: R@1 ... R@100 and avg, a row for NoteLLM and one for the TF-IDF baseline, percentages
        Assert.Contains("I2I recall (%) on the test split", stdout);
        string[] header = RowStartingWith(lines, "embedder");
        Assert.Equal(["embedder", "R@1", "R@5", "R@10", "R@20", "R@50", "R@100", "avg"], header);
        foreach (string embedder in new[] { "NoteLLM", "TF-IDF baseline" })
        {
            string[] row = RowStartingWith(lines, embedder);
            Assert.Equal(header.Length, row.Length);
            Assert.All(row[1..], cell => Assert.InRange(double.Parse(cell, CultureInfo.InvariantCulture), 0, 100));
        }

        // the generation table, over the 4 notes asked for
        Assert.Contains("Generation on the test notes (%)", stdout);
        Assert.Equal(["task", "notes", "metric", "value"], RowStartingWith(lines, "task"));
        Assert.Equal("4", RowStartingWith(lines, "category")[1]);
        Assert.Equal("4", RowStartingWith(lines, "category, free decoding")[1]);
        string[] hashtags = RowStartingWith(lines, "hashtags");
        Assert.Equal(["hashtags", "4", "ROUGE-1 F1"], hashtags[..3]);

        // the spread of the embeddings
        var cosine = Regex.Match(stdout, @"Mean cosine of random test-note pairs \(near 1 = collapsed\): NoteLLM (-?\d\.\d{3})");
        Assert.True(cosine.Success, $"no random-pair cosine line in:\n{stdout}");
        Assert.InRange(double.Parse(cosine.Groups[1].Value, CultureInfo.InvariantCulture), -1, 1);

        // the output folder
        foreach (string file in new[] { QuickStartCommand.ModelFile, QuickStartCommand.IndexFile, QuickStartCommand.IndexNotesFile,
            QuickStartCommand.ExamplesFile, QuickStartCommand.LossChartFile, QuickStartCommand.RecallChartFile })
        {
            string path = Path.Combine(output, file);
            Assert.True(File.Exists(path), $"the quick start wrote no {file}; stdout:\n{stdout}");
            Assert.True(new FileInfo(path).Length > 0, $"{file} is empty");
        }
        Assert.Equal(["model.zip", "note-index.bin", "indexed-notes.jsonl", "example-notes.jsonl", "training-loss.png", "recall-at-k.png"],
            new[] { QuickStartCommand.ModelFile, QuickStartCommand.IndexFile, QuickStartCommand.IndexNotesFile,
                QuickStartCommand.ExamplesFile, QuickStartCommand.LossChartFile, QuickStartCommand.RecallChartFile });
        Assert.False(File.Exists(Path.Combine(output, QuickStartCommand.ModelFile + ".tmp")));
        foreach (string chart in new[] { QuickStartCommand.LossChartFile, QuickStartCommand.RecallChartFile })
            Assert.Equal(PngSignature, File.ReadAllBytes(Path.Combine(output, chart))[..PngSignature.Length]);
        Assert.NotEmpty(NotesJsonlFile.Read(Path.Combine(output, QuickStartCommand.ExamplesFile)));

        // model.zip loads with plain ML.NET and embeds an indexed note as the index holds it
        var notes = NotesJsonlFile.Read(Path.Combine(output, QuickStartCommand.IndexNotesFile)).ToList();
        using var index = NoteIndex.Load(Path.Combine(output, QuickStartCommand.IndexFile));
        Assert.Equal(notes.Select(n => n.Id), index.Ids);
        var ml = new MLContext();
        var model = ml.Model.Load(Path.Combine(output, QuickStartCommand.ModelFile), out var inputSchema);
        using var disposeModel = model as IDisposable;
        Assert.NotNull(inputSchema.GetColumnOrNull("Title"));
        var scored = ml.Data.CreateEnumerable<Scored>(model.Transform(ml.Data.LoadFromEnumerable(notes.Take(1))), reuseRowObject: false).Single();
        Assert.Equal(64, scored.Embedding.Length); // the quick start's from-scratch embedding size
        Assert.Equal(index.Dimensions, scored.Embedding.Length);
        double diff = scored.Embedding.Zip(index.GetEmbedding(notes[0].Id), (a, b) => Math.Abs(a - b)).Max();
        Assert.True(diff < 1e-4, $"the loaded model embeds note {notes[0].Id} {diff} away from its indexed embedding");
        Assert.NotNull(scored.GeneratedHashtags);
        Assert.NotNull(scored.GeneratedCategory);

        // --postgres: the same notes in the table, with the file index's embeddings
        Assert.Contains($"Wrote {index.Count:N0} notes to PostgreSQL table {table} ({index.Count:N0} notes in it)", Regex.Replace(stdout, @"\s+", " "));
        NpgsqlConnection.ClearAllPools();
        using var stored = PgVectorNoteIndex.Open(index.Dimensions, new PgVectorNoteIndexOptions { ConnectionString = server.ConnectionString, TableName = table });
        Assert.Equal(index.Count, stored.Count);
        double storedDiff = stored.GetEmbedding(notes[^1].Id).Zip(index.GetEmbedding(notes[^1].Id), (a, b) => Math.Abs(a - b)).Max();
        Assert.True(storedDiff < 1e-5, $"note {notes[^1].Id} is stored {storedDiff} away from its embedding in the file index");
    }
}
