using Microsoft.Extensions.AI;
using NoteLLM.MLNet.AI;
using NoteLLM.MLNet.Tests.Integration;
using NoteLLM.MLNet.Tests.TestSupport;

namespace NoteLLM.MLNet.Tests.AI;

/// <summary>
/// The Microsoft.Extensions.AI view of a fitted (and of a saved and loaded) NoteLLM transformer, called through
/// M.E.AI's own extension methods: its vectors are the transformer's Embedding column for notes with the string as
/// content, batches and concurrent calls give the same vectors, and a cancelled token stops it.
/// </summary>
public class NoteEmbeddingGeneratorTests(NoteLLMFixture fixture) : IClassFixture<NoteLLMFixture>
{
    private const float Tolerance = 1e-5f;

    private List<float[]> TransformerEmbeddings(NoteLLMTransformer model, IEnumerable<string> texts)
    {
        var ml = fixture.MLContext;
        var rows = texts.Select((t, i) => new NoteRow { Id = $"n{i}", Content = t }).ToList();
        return ml.Data.CreateEnumerable<NoteLLMOutput>(model.Transform(ml.Data.LoadFromEnumerable(rows)), reuseRowObject: false)
            .Select(o => o.Embedding).ToList();
    }

    private List<string> Texts() => fixture.Notes.Select(n => n.Content!).Distinct().Take(6).ToList();

    private static void AssertClose(float[] expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= Tolerance, $"component {i}: expected {expected[i]}, got {actual[i]}");
    }

    [Fact]
    public async Task GenerateVectorAsyncGivesTheTransformersEmbeddingOfTheTextAsContent()
    {
        using var generator = fixture.Model.AsEmbeddingGenerator();
        string text = Texts()[0];
        ReadOnlyMemory<float> vector = await generator.GenerateVectorAsync(text);
        AssertClose(TransformerEmbeddings(fixture.Model, [text])[0], vector.Span);
    }

    [Fact]
    public async Task GenerateAsyncEmbedsManyStringsInOneCallInTheirOrder()
    {
        using var generator = fixture.Model.AsEmbeddingGenerator();
        var texts = Texts();
        GeneratedEmbeddings<Embedding<float>> embeddings = await generator.GenerateAsync(texts);
        var expected = TransformerEmbeddings(fixture.Model, texts);
        Assert.Equal(texts.Count, embeddings.Count);
        for (int i = 0; i < texts.Count; i++)
            AssertClose(expected[i], embeddings[i].Vector.Span);
        Embedding<float> single = await generator.GenerateAsync(texts[3]);
        AssertClose(expected[3], single.Vector.Span);
    }

    [Fact]
    public async Task ConcurrentCallsGiveTheSameVectorsAsOneAtATime()
    {
        using var generator = fixture.Model.AsEmbeddingGenerator();
        var texts = Texts();
        var expected = TransformerEmbeddings(fixture.Model, texts);
        var calls = Enumerable.Range(0, 4).Select(_ => Task.Run(() => generator.GenerateAsync(texts))).ToList();
        foreach (var embeddings in await Task.WhenAll(calls))
            for (int i = 0; i < texts.Count; i++)
                AssertClose(expected[i], embeddings[i].Vector.Span);
    }

    [Fact]
    public async Task WorksOnASavedAndLoadedModel()
    {
        using var dir = new TempFolder();
        var ml = fixture.MLContext;
        ml.Model.Save(fixture.Model, ml.Data.LoadFromEnumerable(fixture.Notes).Schema, dir.File("model.zip"));
        using var loaded = (NoteLLMTransformer)ml.Model.Load(dir.File("model.zip"), out _);
        using var generator = loaded.AsEmbeddingGenerator();
        string text = Texts()[1];
        AssertClose(TransformerEmbeddings(fixture.Model, [text])[0], (await generator.GenerateVectorAsync(text)).Span);
    }

    [Fact]
    public async Task AnAlreadyCancelledTokenThrowsOperationCanceled()
    {
        using var generator = fixture.Model.AsEmbeddingGenerator();
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => generator.GenerateAsync(Texts(), cancellationToken: cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => generator.GenerateVectorAsync("vim", cancellationToken: cancelled.Token));
    }

    [Fact]
    public void MetadataGivesTheEmbeddingSizeAndTheTransformerIsAService()
    {
        using var generator = fixture.Model.AsEmbeddingGenerator();
        Assert.Equal(NoteLLMFixture.EmbeddingDimension, generator.GetService<EmbeddingGeneratorMetadata>()!.DefaultModelDimensions);
        Assert.Same(fixture.Model, generator.GetService<NoteLLMTransformer>());
    }

    [Fact]
    public async Task AnotherDimensionCountIsRefused()
    {
        using var generator = fixture.Model.AsEmbeddingGenerator();
        var error = await Assert.ThrowsAsync<ArgumentException>(() =>
            generator.GenerateAsync(["vim"], new EmbeddingGenerationOptions { Dimensions = NoteLLMFixture.EmbeddingDimension + 1 }));
        Assert.Contains($"{NoteLLMFixture.EmbeddingDimension} dimensions", error.Message);
    }
}
