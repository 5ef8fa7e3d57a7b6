using Microsoft.ML;
using NoteApp;
using NoteLLM.MLNet.Tests.Integration;
using NoteLLM.MLNet.Tests.TestSupport;

namespace NoteLLM.MLNet.Tests.Docs;

/// <summary>
/// The code of docs/use-in-your-app.md (<see cref="NoteService"/>) on a saved tiny model gives the fitted transformer's
/// outputs: through a PredictionEngine, through engines on parallel threads sharing the model, and through the
/// Microsoft.Extensions.AI adapters. Packaging/ConsumerProjectTests runs the same code against the packed package.
/// </summary>
public class UseInYourAppTests(NoteLLMFixture fixture) : IClassFixture<NoteLLMFixture>
{
    private const float Tolerance = 1e-5f;

    private (TempFolder Dir, string Model, List<NoteLLMOutput> Expected, List<NoteRow> Notes) Saved()
    {
        var dir = new TempFolder();
        var ml = fixture.MLContext;
        var notes = fixture.Notes.DistinctBy(n => n.Id).ToList();
        IDataView noteRows = ml.Data.LoadFromEnumerable(notes);
        ml.Model.Save(fixture.Model, noteRows.Schema, dir.File("notellm.zip"));
        var expected = ml.Data.CreateEnumerable<NoteLLMOutput>(fixture.Model.Transform(noteRows), reuseRowObject: false).ToList();
        return (dir, dir.File("notellm.zip"), expected, notes);
    }

    private static Note ToNote(NoteRow n) => new() { Title = n.Title ?? "", Content = n.Content ?? "", Hashtags = n.Hashtags };

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        double diff = expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(diff <= Tolerance, $"embeddings differ by {diff}");
    }

    [Fact]
    public void PredictGivesTheFittedTransformersOutputs()
    {
        var (dir, model, expected, notes) = Saved();
        using var _ = dir;
        for (int i = 0; i < 3; i++)
        {
            var prediction = NoteService.Predict(model, ToNote(notes[i]));
            AssertClose(expected[i].Embedding, prediction.Embedding);
            Assert.Equal(expected[i].GeneratedHashtags, prediction.GeneratedHashtags);
            Assert.Equal(expected[i].GeneratedCategory, prediction.GeneratedCategory);
        }
    }

    [Fact]
    public void EnginesOnParallelThreadsShareTheModelAndGiveTheSameOutputs()
    {
        var (dir, model, expected, notes) = Saved();
        using var folder = dir;
        var ml = new MLContext();
        using var loaded = (IDisposable)ml.Model.Load(model, out _);
        var predictions = NoteService.PredictInParallel(ml, (ITransformer)loaded, notes.Select(ToNote).ToList());
        Assert.Equal(notes.Count, predictions.Length);
        for (int i = 0; i < notes.Count; i++)
        {
            AssertClose(expected[i].Embedding, predictions[i].Embedding);
            Assert.Equal(expected[i].GeneratedCategory, predictions[i].GeneratedCategory);
        }
        // the engines did not dispose the shared model
        Assert.Equal(notes.Count, ml.Data.CreateEnumerable<NoteLLMOutput>(((ITransformer)loaded).Transform(ml.Data.LoadFromEnumerable(notes)), false).Count());
    }

    [Fact]
    public async Task EmbeddingGeneratorAndAnnotatorGiveTheOutputsOfTheTextAsContent()
    {
        var (dir, model, _, notes) = Saved();
        using var __ = dir;
        var ml = fixture.MLContext;
        string text = notes[0].Content!;
        var contentOnly = new[] { new NoteRow { Id = "q", Content = text } };
        var expected = ml.Data.CreateEnumerable<NoteLLMOutput>(fixture.Model.Transform(ml.Data.LoadFromEnumerable(contentOnly)), false).Single();

        var (vector, annotation) = await NoteService.EmbedAndAnnotateAsync(model, text, CancellationToken.None);

        AssertClose(expected.Embedding, vector);
        Assert.Equal(expected.GeneratedHashtags, annotation.Hashtags);
        Assert.Equal(expected.GeneratedCategory, annotation.Category);
    }
}
