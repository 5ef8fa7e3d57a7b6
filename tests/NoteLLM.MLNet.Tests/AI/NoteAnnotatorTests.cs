using NoteLLM.MLNet.AI;
using NoteLLM.MLNet.Prompting;
using NoteLLM.MLNet.Tests.Integration;

namespace NoteLLM.MLNet.Tests.AI;

/// <summary>The annotator gives the transformer's generated hashtags and category, in the notes' order, and stops on a
/// cancelled token.</summary>
public class NoteAnnotatorTests(NoteLLMFixture fixture) : IClassFixture<NoteLLMFixture>
{
    [Fact]
    public async Task AnnotationsAreTheTransformersGeneratedHashtagsAndCategory()
    {
        var ml = fixture.MLContext;
        var notes = fixture.Notes.DistinctBy(n => n.Id).Take(5).ToList();
        var expected = ml.Data.CreateEnumerable<NoteLLMOutput>(fixture.Model.Transform(ml.Data.LoadFromEnumerable(notes)), reuseRowObject: false).ToList();

        var annotations = await fixture.Model.AsNoteAnnotator().AnnotateAsync(notes.Select(n => NoteText.Of(n.Title, n.Content, n.Hashtags)));

        Assert.Equal(notes.Count, annotations.Count);
        Assert.Contains(annotations, a => a.Category.Length > 0 || a.Hashtags.Count > 0);
        for (int i = 0; i < notes.Count; i++)
        {
            Assert.Equal(expected[i].GeneratedHashtags, annotations[i].Hashtags);
            Assert.Equal(expected[i].GeneratedCategory, annotations[i].Category);
        }
    }

    [Fact]
    public async Task AnAlreadyCancelledTokenThrowsOperationCanceled()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            fixture.Model.AsNoteAnnotator().AnnotateAsync([NoteText.Of("vim", "Vi IMproved")], cancelled.Token));
    }
}
