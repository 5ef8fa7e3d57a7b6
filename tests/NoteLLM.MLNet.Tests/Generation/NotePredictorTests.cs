using NoteLLM.MLNet.Bundle;
using NoteLLM.MLNet.Generation;
using NoteLLM.MLNet.Prompting;
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

    [Fact]
    public void EmbeddingPromptLimitsChangeTheEmbeddingsAndNotTheGeneration()
    {
        using var model = NoteLLMModel.CreateFromScratch(TinyModels.Config(hidden: 64, layers: 2, heads: 4, kvHeads: 2, tied: true), embeddingDimension: 32,
            limits: new NotePromptLimits { MaxNoteTokens = 8 }, seed: 3);
        var notes = SyntheticNotes.Pairs(4).SelectMany(p => new[] { p.First, p.Second with { Content = p.Second.Content + " with many more words than eight tokens hold" } }).ToList();
        var decoding = new GreedyDecodingOptions { MaxNewTokens = 4 };
        var trainingWindow = new NotePredictor(model, decoding, batchSize: 4).Predict(notes);

        model.UseEmbeddingPromptLimits(new NotePromptLimits { MaxNoteTokens = 40 });
        Assert.Equal(8, model.Prompts.Limits.MaxNoteTokens); // generation keeps the training window
        var predictor = new NotePredictor(model, decoding, batchSize: 4);
        var longWindow = predictor.Predict(notes);
        var embeddingsAlone = predictor.Predict(notes, NoteOutputs.Embedding);
        using var dir = new TempFolder();
        NoteLLMModelFiles.Save(model, dir.Path);
        using var loaded = NoteLLMModelFiles.Load(dir.Path);
        Assert.Equal(40, loaded.EmbeddingPrompts.Limits.MaxNoteTokens);
        var reloaded = new NotePredictor(loaded, decoding, batchSize: 4).Predict(notes);

        for (int i = 0; i < notes.Count; i++)
        {
            Assert.Equal(trainingWindow[i].Category, longWindow[i].Category);
            Assert.Equal(trainingWindow[i].Hashtags, longWindow[i].Hashtags);
            Assert.Equal(longWindow[i].Category, reloaded[i].Category);
            Assert.Equal(longWindow[i].Hashtags, reloaded[i].Hashtags);
            for (int d = 0; d < 32; d++)
            {
                Assert.Equal(embeddingsAlone[i].Embedding![d], longWindow[i].Embedding![d], tolerance: 1e-5);
                Assert.Equal(longWindow[i].Embedding![d], reloaded[i].Embedding![d], tolerance: 1e-5);
            }
        }
        // the longer notes are read further, so their embeddings move
        Assert.Contains(Enumerable.Range(0, notes.Count), i => trainingWindow[i].Embedding!.Zip(longWindow[i].Embedding!, (a, b) => Math.Abs(a - b)).Max() > 1e-3);
    }
}
