using NoteLLM.MLNet.Bundle;
using NoteLLM.MLNet.Generation;
using NoteLLM.MLNet.Tests.TestSupport;

namespace NoteLLM.MLNet.Tests.Generation;

public class NotePredictorTests
{
    [Fact]
    public void EmbeddingsReadFromTheCategoryPassEqualThoseOfTheirOwnPass()
    {
        using var model = NoteLLMModel.CreateFromScratch(
            TinyModels.Config(hidden: 64, layers: 2, heads: 4, kvHeads: 2, tied: true), embeddingDimension: 32, seed: 3);
        // Notes of different lengths, in batches of 4, so the category prompts are left-padded differently.
        var notes = SyntheticNotes.Pairs(5).SelectMany(p => new[] { p.First, p.Second with { Content = p.Second.Content + " and more words" } }).ToList();
        var predictor = new NotePredictor(model, new GreedyDecodingOptions { MaxNewTokens = 4 }, batchSize: 4);

        var embeddingsAlone = predictor.Predict(notes, NoteOutputs.Embedding);
        var categoriesAlone = predictor.Predict(notes, NoteOutputs.Category);
        var together = predictor.Predict(notes, NoteOutputs.Embedding | NoteOutputs.Category);

        for (int i = 0; i < notes.Count; i++)
        {
            Assert.Equal(categoriesAlone[i].Category, together[i].Category);
            var expected = embeddingsAlone[i].Embedding!;
            var actual = together[i].Embedding!;
            Assert.Equal(expected.Length, actual.Length);
            for (int d = 0; d < expected.Length; d++) Assert.Equal(expected[d], actual[d], tolerance: 1e-5);
        }
    }
}
