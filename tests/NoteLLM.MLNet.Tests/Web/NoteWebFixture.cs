using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using NoteLLM.MLNet.Data;
using NoteLLM.MLNet.Retrieval;
using NoteLLM.MLNet.Tests.Integration;
using NoteLLM.MLNet.Tests.TestSupport;
using NoteLLM.Web;

namespace NoteLLM.MLNet.Tests.Web;

/// <summary>
/// The quick start's output folder for a tiny fitted model (model.zip, note-index.bin, indexed-notes.jsonl) and the
/// web app served in memory on it; <see cref="Expected"/> holds what the fitted transformer gives for each note.
/// </summary>
public sealed class NoteWebFixture : IDisposable
{
    private readonly TempFolder folder = new();

    public NoteWebFixture()
    {
        using var fitted = new NoteLLMFixture();
        var ml = fitted.MLContext;
        Notes = fitted.Pairs.SelectMany(p => new[]
        {
            new NoteRecord { Id = p.Id, Title = p.Title ?? "", Content = p.Content ?? "", Hashtags = p.Hashtags, Category = p.Category ?? "" },
            new NoteRecord { Id = p.RelatedId, Title = p.RelatedTitle ?? "", Content = p.RelatedContent ?? "", Hashtags = p.RelatedHashtags, Category = p.RelatedCategory ?? "" },
        }).DistinctBy(n => n.Id).ToList();
        var data = ml.Data.LoadFromEnumerable(Notes);
        Expected = ml.Data.CreateEnumerable<NoteLLMOutput>(fitted.Model.Transform(data), reuseRowObject: false).ToDictionary(o => o.Id);
        ml.Model.Save(fitted.Model, data.Schema, ModelPath);
        Index = new NoteIndex(NoteLLMFixture.EmbeddingDimension);
        Index.Add(Notes.Select(n => n.Id).ToList(), Notes.Select(n => Expected[n.Id].Embedding).ToList());
        Index.Save(folder.File(NoteServingOptions.IndexFileName));
        NotesJsonlFile.Write(folder.File(NoteServingOptions.NotesFileName), Notes);
        Factory = Serve(ModelPath);
    }

    public string ModelPath => folder.File("model.zip");

    public List<NoteRecord> Notes { get; }

    public Dictionary<string, NoteLLMOutput> Expected { get; }

    /// <summary>The index the app serves, as saved.</summary>
    public NoteIndex Index { get; }

    public WebApplicationFactory<NoteServing> Factory { get; }

    /// <summary>
    /// The app on the model at <paramref name="modelPath"/> with the other <paramref name="options"/> (by
    /// <see cref="NoteServingOptions"/> property name), set the way a configuration file or the command line would.
    /// </summary>
    public static WebApplicationFactory<NoteServing> Serve(string modelPath, params (string Name, string Value)[] options) =>
        new WebApplicationFactory<NoteServing>().WithWebHostBuilder(host =>
        {
            host.UseSetting($"{NoteWebApp.Section}:{nameof(NoteServingOptions.Model)}", modelPath);
            foreach (var (name, value) in options) host.UseSetting($"{NoteWebApp.Section}:{name}", value);
        });

    public void Dispose()
    {
        Factory.Dispose();
        Index.Dispose();
        folder.Dispose();
    }
}
