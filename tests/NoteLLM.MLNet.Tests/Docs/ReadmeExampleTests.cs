using Microsoft.ML;
using NoteLLM.MLNet.Data;
using NoteLLM.MLNet.Tests.TestSupport;

namespace NoteLLM.MLNet.Tests.Docs;

/// <summary>
/// Runs the README's API example (<see cref="ReadmeExample"/>, which DocsSnippetTests keeps equal to the README text)
/// end to end, unchanged: the default backbone (the packaged all-MiniLM-L6-v2) and the example's own options. Only
/// its data argument differs: the first training pairs of data/debian-notes-subset and their notes, fewer pairs than
/// one batch of the preset, so Fit takes a single optimizer step.
/// </summary>
public class ReadmeExampleTests
{
    private const int Pairs = 4;

    public sealed class Scored
    {
        public string Id { get; set; } = "";
        public float[] Embedding { get; set; } = [];
        public string[] GeneratedHashtags { get; set; } = [];
        public string GeneratedCategory { get; set; } = "";
    }

    private static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "NoteLLM.MLNet.sln"))) return dir.FullName;
        throw new FileNotFoundException($"No NoteLLM.MLNet.sln above {AppContext.BaseDirectory}");
    }

    [Fact]
    public void ExampleFitsAndSavesAZipThatLoadsBackWithTheSameOutputs()
    {
        using var dir = new TempFolder();
        string subset = Path.Combine(Root(), "data/debian-notes-subset");
        var pairs = PairsCsvFile.Read(Path.Combine(subset, "train-pairs.csv.gz")).Take(Pairs).ToList();
        var ids = pairs.SelectMany(p => new[] { p.NoteId, p.RelatedNoteId }).ToHashSet();
        var notes = NotesJsonlFile.Read(Path.Combine(subset, "notes.jsonl.gz")).Where(n => ids.Contains(n.Id)).ToList();
        Assert.Equal(ids.Count, notes.Count);
        Directory.CreateDirectory(dir.File("data"));
        NotesJsonlFile.Write(dir.File("data/notes.jsonl.gz"), notes);
        PairsCsvFile.Write(dir.File("data/train-pairs.csv.gz"), pairs);

        // the example saves notellm.zip to the working directory, as in a user's app; tests run one at a time (AssemblyInfo.cs)
        string previous = Environment.CurrentDirectory;
        ITransformer model;
        Environment.CurrentDirectory = dir.Path;
        try
        {
            model = ReadmeExample.Run("data");
        }
        finally
        {
            Environment.CurrentDirectory = previous;
        }
        using var _ = model as IDisposable;

        string zip = dir.File("notellm.zip");
        Assert.True(File.Exists(zip), $"the example wrote no {zip}");
        var ml = new MLContext();
        var loaded = ml.Model.Load(zip, out var inputSchema);
        using var __ = loaded as IDisposable;
        // the notes' schema was saved with the model (the input it takes), not the pair rows' it was fitted on
        Assert.NotNull(inputSchema.GetColumnOrNull("Title"));
        Assert.Null(inputSchema.GetColumnOrNull("RelatedTitle"));

        var input = ml.Data.LoadFromEnumerable(notes);
        var inMemory = ml.Data.CreateEnumerable<Scored>(model.Transform(input), reuseRowObject: false).ToList();
        var fromZip = ml.Data.CreateEnumerable<Scored>(loaded.Transform(input), reuseRowObject: false).ToList();
        Assert.Equal(notes.Count, inMemory.Count);
        Assert.Equal(notes.Count, fromZip.Count);
        var categories = notes.Select(n => n.Category).ToHashSet();
        for (int i = 0; i < notes.Count; i++)
        {
            var (expected, actual) = (inMemory[i], fromZip[i]);
            Assert.Equal(notes[i].Id, actual.Id);
            Assert.Equal(384, actual.Embedding.Length); // MiniLM's hidden size, as the README says
            double norm = Math.Sqrt(actual.Embedding.Sum(v => (double)v * v));
            Assert.True(Math.Abs(norm - 1) < 1e-4, $"note {actual.Id}: embedding norm {norm}, the README promises unit length");
            double diff = expected.Embedding.Zip(actual.Embedding, (a, b) => Math.Abs(a - b)).Max();
            Assert.True(diff < 1e-5, $"note {actual.Id}: loaded model's embedding differs from the fitted one by {diff}");
            Assert.NotNull(actual.GeneratedHashtags);
            Assert.Equal(expected.GeneratedHashtags, actual.GeneratedHashtags);
            Assert.Contains(actual.GeneratedCategory, categories); // categories are constrained to those seen in training
            Assert.Equal(expected.GeneratedCategory, actual.GeneratedCategory);
        }
    }
}
