using System.Text.Json.Nodes;
using Microsoft.ML;
using NoteLLM.MLNet.Data;
using NoteLLM.MLNet.Retrieval;
using NoteLLM.MLNet.Tests.Integration;
using NoteLLM.MLNet.Tests.TestSupport;
using NoteLLM.QuickStart;

namespace NoteLLM.MLNet.Tests.Samples;

/// <summary>
/// The serving sample loads a model zip and note index written the quick start's way in its own process and gives
/// the same outputs as the fitted transformer; its newcomer errors are one line each; --help succeeds and bad arguments
/// fail with a message.
/// </summary>
public class ServingTests(NoteLLMFixture fixture) : IClassFixture<NoteLLMFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    /// <summary>The quick start's output folder for the fixture's model, and what the fitted transformer gives for each note.</summary>
    internal sealed class QuickStartOutput : IDisposable
    {
        public QuickStartOutput(NoteLLMFixture fixture)
        {
            var ml = fixture.MLContext;
            var notes = fixture.Notes.DistinctBy(n => n.Id).ToList();
            Expected = ml.Data.CreateEnumerable<NoteLLMOutput>(fixture.Model.Transform(ml.Data.LoadFromEnumerable(notes)), reuseRowObject: false).ToList();
            // model.zip, the note index and the indexed notes' titles, and four notes to serve
            ml.Model.Save(fixture.Model, ml.Data.LoadFromEnumerable(notes).Schema, Folder.File(QuickStartCommand.ModelFile));
            Index = new NoteIndex(NoteLLMFixture.EmbeddingDimension);
            Index.Add(Expected.Select(o => o.Id).ToList(), Expected.Select(o => o.Embedding).ToList());
            Index.Save(Folder.File(QuickStartCommand.IndexFile));
            Records = notes.Select(n => new NoteRecord { Id = n.Id, Title = n.Title ?? "", Content = n.Content ?? "", Hashtags = n.Hashtags }).ToList();
            NotesJsonlFile.Write(Folder.File(QuickStartCommand.IndexNotesFile), Records);
            NotesJsonlFile.Write(Folder.File(QueryFile), Records.Take(4));
        }

        public const string QueryFile = "query.jsonl";

        public TempFolder Folder { get; } = new();

        public List<NoteLLMOutput> Expected { get; }

        public NoteIndex Index { get; }

        public List<NoteRecord> Records { get; }

        /// <summary>Asserts the serving sample's --json answer for <see cref="QueryFile"/> at --top 3 is the fitted model's with the index's related notes.</summary>
        public void AssertServed(string stdout)
        {
            var rows = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
            Assert.Equal(4, rows.Count);
            for (int i = 0; i < rows.Count; i++)
            {
                Assert.Equal(Expected[i].Id, rows[i]["id"]!.GetValue<string>());
                Assert.Equal(Expected[i].GeneratedCategory, rows[i]["category"]!.GetValue<string>());
                Assert.Equal(Expected[i].GeneratedHashtags, rows[i]["hashtags"]!.AsArray().Select(h => h!.GetValue<string>()));
                var related = Index.RelatedNotes(Expected[i].Id, 3);
                var served = rows[i]["related"]!.AsArray();
                Assert.Equal(related.Select(r => r.Id), served.Select(r => r!["id"]!.GetValue<string>()));
                Assert.Equal(related.Select(r => Records.Single(n => n.Id == r.Id).Title), served.Select(r => r!["title"]!.GetValue<string>()));
                Assert.All(related.Zip(served), pair => Assert.Equal(pair.First.Score, pair.Second!["score"]!.GetValue<float>(), 1e-5f));
            }
        }

        public void Dispose()
        {
            Index.Dispose();
            Folder.Dispose();
        }
    }

    [Fact]
    public void ServesNotesFromTheSavedModelAndIndexLikeTheFittedModel()
    {
        using var output = new QuickStartOutput(fixture);

        var (exit, stdout, stderr) = SampleApp.Run(SampleApp.Serving, output.Folder.Path, Timeout,
            "--model", QuickStartCommand.ModelFile, "--notes", QuickStartOutput.QueryFile, "--top", "3", "--json");
        Assert.True(exit == 0, $"exit {exit}: {stderr}");
        output.AssertServed(stdout);
    }

    [Fact]
    public void AnIndexOfAnotherRunOrADamagedTitlesFileIsOneLine()
    {
        using var output = new QuickStartOutput(fixture);
        string[] args = ["--model", QuickStartCommand.ModelFile, "--notes", QuickStartOutput.QueryFile];
        string indexNotes = output.Folder.File(QuickStartCommand.IndexNotesFile);
        File.WriteAllText(indexNotes, "{\"id\":\"a\"}\nnot json\n");
        string line = SampleApp.AssertOneLineError(SampleApp.Run(SampleApp.Serving, output.Folder.Path, Timeout, args));
        Assert.Contains($"Could not read '{indexNotes}' ({indexNotes} line 2: expected a JSON object", line);

        File.WriteAllText(indexNotes, "{\"id\":\"a\"}\n{\"id\":\"a\"}\n");
        line = SampleApp.AssertOneLineError(SampleApp.Run(SampleApp.Serving, output.Folder.Path, Timeout, args));
        Assert.Contains("lists note 'a' twice", line);

        using (var other = new NoteIndex(NoteLLMFixture.EmbeddingDimension + 1))
        {
            other.Add("a", Enumerable.Repeat(1f, NoteLLMFixture.EmbeddingDimension + 1).ToArray());
            other.Save(output.Folder.File(QuickStartCommand.IndexFile));
        }
        line = SampleApp.AssertOneLineError(SampleApp.Run(SampleApp.Serving, output.Folder.Path, Timeout, args));
        Assert.Contains($"The model's embeddings have {NoteLLMFixture.EmbeddingDimension} dimensions but the index at '{output.Folder.File(QuickStartCommand.IndexFile)}' holds {NoteLLMFixture.EmbeddingDimension + 1}", line);
    }

    [Fact]
    public void ATopAboveTheIndexSizeListsEveryOtherNote()
    {
        using var output = new QuickStartOutput(fixture);
        var (exit, stdout, stderr) = SampleApp.Run(SampleApp.Serving, output.Folder.Path, Timeout,
            "--model", QuickStartCommand.ModelFile, "--notes", QuickStartOutput.QueryFile, "--top", int.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture), "--json");
        Assert.True(exit == 0, $"exit {exit}: {stderr}");
        var first = JsonNode.Parse(stdout.Split('\n')[0])!.AsObject();
        Assert.Equal(output.Index.Count - 1, first["related"]!.AsArray().Count);
    }

    [Fact]
    public void MissingModelFileSaysToRunTheQuickStartFirst()
    {
        using var dir = new TempFolder();
        string line = SampleApp.AssertOneLineError(SampleApp.Run(SampleApp.Serving, dir.Path, Timeout, "--title", "vim"));
        Assert.Contains($"No model file at '{dir.File("quickstart-output/model.zip")}'", line);
        Assert.Contains("dotnet run -c Release --project samples/NoteLLM.QuickStart", line);
        Assert.Contains("--model", line);
    }

    [Fact]
    public void ModelWithoutItsIndexNamesTheMissingFile()
    {
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("model.zip"), [1, 2, 3]);
        string line = SampleApp.AssertOneLineError(SampleApp.Run(SampleApp.Serving, dir.Path, Timeout, "--model", "model.zip", "--title", "vim"));
        Assert.Contains($"No note-index.bin next to the model in '{dir.Path}'", line);
    }

    [Fact]
    public void DamagedModelFileSaysToWriteItAgain()
    {
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("model.zip"), [1, 2, 3]);
        File.WriteAllBytes(dir.File("note-index.bin"), [1, 2, 3]);
        File.WriteAllText(dir.File("indexed-notes.jsonl"), "");
        string line = SampleApp.AssertOneLineError(SampleApp.Run(SampleApp.Serving, dir.Path, Timeout, "--model", "model.zip", "--title", "vim"));
        Assert.Contains($"Could not load '{dir.File("model.zip")}'", line);
        Assert.Contains("rerun the quick start", line);
    }

    [Fact]
    public void MissingNotesFileIsNamed()
    {
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("model.zip"), [1, 2, 3]);
        File.WriteAllBytes(dir.File("note-index.bin"), [1, 2, 3]);
        File.WriteAllText(dir.File("indexed-notes.jsonl"), "");
        string line = SampleApp.AssertOneLineError(SampleApp.Run(SampleApp.Serving, dir.Path, Timeout, "--model", "model.zip", "--notes", "missing.jsonl"));
        Assert.Contains("missing.jsonl", line);
    }

    [Fact]
    public void HelpListsTheOptionsAndSucceeds()
    {
        using var dir = new TempFolder();
        var (exit, stdout, stderr) = SampleApp.Run(SampleApp.Serving, dir.Path, Timeout, "--help");
        Assert.True(exit == 0, $"exit {exit}: {stderr}");
        foreach (string option in new[] { "--model", "--title", "--content", "--notes", "--top", "--json", "--postgres", "--postgres-table" })
            Assert.Contains(option, stdout);
    }

    [Theory]
    [InlineData("Unknown option 'bogus'", "--bogus")]
    [InlineData("--top must be at least 1", "--title", "vim", "--top", "0")]
    [InlineData("Give one note (--title/--content) or a notes file (--notes)")]
    [InlineData("Give one note (--title/--content) or a notes file (--notes)", "--title", "vim", "--notes", "notes.jsonl")]
    [InlineData("--postgres-table names the table of --postgres", "--title", "vim", "--postgres-table", "notes")]
    public void BadArgumentsFailWithAMessage(string message, params string[] args)
    {
        using var dir = new TempFolder();
        var (exit, stdout, stderr) = SampleApp.Run(SampleApp.Serving, dir.Path, Timeout, args);
        Assert.True(exit != 0, $"exit 0 for {string.Join(' ', args)}: {stdout}");
        Assert.Contains(message, stdout + stderr);
        Assert.DoesNotContain("No model file", stdout + stderr); // refused before any work
    }
}
