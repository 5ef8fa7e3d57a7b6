using Microsoft.ML;
using NoteLLM.MLNet.Evaluation;

namespace NoteLLM.MLNet.Tests.Evaluation;

public class TfIdfEmbedderTests
{
    private static float Dot(float[] a, float[] b) => a.Zip(b, (x, y) => x * y).Sum();

    [Fact]
    public void EmbeddingsAreUnitLengthAndRankSharedRareWordsHighest()
    {
        var notes = new[]
        {
            ("xml", "Python library for parsing XML documents"),
            ("xml2", "An XML parser: fast parsing of documents"),
            ("game", "A space shooter game with ships"),
            ("python", "Python bindings for the game engine"),
        };
        var embedder = new TfIdfEmbedder(new MLContext(seed: 1), notes.Select(n => n.Item2));

        var embedded = embedder.Embed(notes);

        Assert.Equal(notes.Select(n => n.Item1), embedded.Select(e => e.Id));
        Assert.All(embedded, e => Assert.Equal(1f, Dot(e.Embedding, e.Embedding), 4));
        var xml = embedded[0].Embedding;
        Assert.True(Dot(xml, embedded[1].Embedding) > Dot(xml, embedded[3].Embedding));
        Assert.Equal(0f, Dot(xml, embedded[2].Embedding)); // no word in common
        // Unknown words only: the zero vector.
        Assert.All(embedder.Embed(new[] { ("new", "zebra quokka") })[0].Embedding, v => Assert.Equal(0f, v));
    }
}
