using NoteLLM.MLNet.Bundle;
using NoteLLM.MLNet.Tests.TestSupport;
using NoteLLM.MLNet.Training;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Tests.Training;

public class GenerationLossTests
{
    [Fact]
    public void PerNoteAveragesEachNotesOwnTokensThenTheNotesAndPerTokenAveragesAllTokens()
    {
        using var model = NoteLLMModel.CreateFromScratch(TinyModels.Config(hidden: 32, layers: 1, heads: 2, kvHeads: 2, tied: true), embeddingDimension: 16, seed: 3);
        // half of each side generates its hashtag (tag::<category>, several tokens), the other half its category (one word)
        var options = new NoteLLMTrainerOptions { HashtagTaskRatio = 0.5, HashtagCount = 1 };
        using var batch = CsftBatch.Build(model, SyntheticNotes.Pairs(4), options, new Random(1), CPU);
        using var scope = NewDisposeScope();
        var hidden = batch.Hidden(model.Network);
        var rows = batch.LabelRows.data<long>().ToArray();
        var lengths = rows.GroupBy(r => r).Select(g => g.Count()).Distinct().ToArray();
        Assert.True(lengths.Length > 1, "the batch must mix output lengths for the two averages to differ");

        // each note's mean token loss, from the loss of that note's tokens alone
        double NoteLoss(long row)
        {
            var mine = batch.LabelRows.eq(row);
            return GenerationLoss.Compute(model.Backbone, hidden, batch.LabelRows[mine], batch.LabelPositions[mine], batch.Labels[mine], GenerationLossAverage.PerToken).item<float>();
        }
        var notes = rows.Distinct().ToArray();
        double perNoteExpected = notes.Average(NoteLoss);
        double perTokenExpected = notes.Sum(r => NoteLoss(r) * rows.Count(x => x == r)) / rows.Length;

        double perNote = GenerationLoss.Compute(model.Backbone, hidden, batch.LabelRows, batch.LabelPositions, batch.Labels, GenerationLossAverage.PerNote).item<float>();
        double perToken = GenerationLoss.Compute(model.Backbone, hidden, batch.LabelRows, batch.LabelPositions, batch.Labels, GenerationLossAverage.PerToken).item<float>();
        Assert.Equal(perNoteExpected, perNote, 1e-4);
        Assert.Equal(perTokenExpected, perToken, 1e-4);
        Assert.True(Math.Abs(perNote - perToken) > 1e-3, $"per note {perNote} and per token {perToken} should differ on mixed output lengths");
    }
}
