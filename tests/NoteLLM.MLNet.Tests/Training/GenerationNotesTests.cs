using NoteLLM.MLNet.Bundle;
using NoteLLM.MLNet.Prompting;
using NoteLLM.MLNet.Tests.TestSupport;
using NoteLLM.MLNet.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Tests.Training;

/// <summary>Notes that train CSFT only (NoteLLMOptions.GenerationNotes): they generate, take no part in GCL, and resume exactly.</summary>
public class GenerationNotesTests
{
    private static List<NoteText> Notes(int count, string category) => Enumerable.Range(0, count)
        .Select(i => new NoteText($"extra note {i}", $"about {category} number {i}", [$"tag::{category}"], category)).ToList();

    [Fact]
    public void TheyAddGenerationTargetsAndNoEmbeddings()
    {
        using var model = TinyModels.NoteLLM();
        var options = new NoteLLMTrainerOptions { HashtagTaskRatio = 0 };
        var pairs = SyntheticNotes.Pairs(3);
        using var plain = CsftBatch.Build(model, pairs, options, new Random(1), CPU);
        using var withNotes = CsftBatch.Build(model, pairs, options, new Random(1), CPU, Notes(2, "extra"));
        using var scope = NewDisposeScope();

        Assert.Equal(8, withNotes.Prompts.Length);
        Assert.Equal(6, withNotes.PairNotes);
        var rows = withNotes.LabelRows.data<long>().ToArray();
        Assert.Contains(6L, rows);
        Assert.Contains(7L, rows);
        // the pairs' rows are built as without the extra notes, and only they are embedded
        var plainRows = plain.LabelRows.data<long>().ToArray();
        Assert.Equal(plainRows, rows.Where(r => r < 6).ToArray());
        Assert.Equal(plain.Labels.data<long>().ToArray(), withNotes.Labels.data<long>().ToArray()[..plainRows.Length]);
        var embeddings = withNotes.Embeddings(model.Network, withNotes.Hidden(model.Network));
        Assert.Equal([6L, 32L], embeddings.shape);
        Assert.True(embeddings.allclose(plain.Embeddings(model.Network, plain.Hidden(model.Network)), rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void TheyChangeNoGradientOfTheContrastiveLoss()
    {
        using var model = TinyModels.NoteLLM();
        var pairs = SyntheticNotes.Pairs(4);
        var contrastiveOnly = new NoteLLMTrainerOptions { HashtagTaskRatio = 0, EmbeddingDimension = 32, Alpha = 0 };
        Dictionary<string, Tensor> Gradients(IReadOnlyList<NoteText>? notes)
        {
            using var batch = CsftBatch.Build(model, pairs, contrastiveOnly, new Random(1), CPU, notes);
            model.Network.zero_grad();
            new NoteLLMTrainer(model, contrastiveOnly).AccumulateGradients([batch]);
            return model.Network.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad?.clone() ?? zeros_like(p.parameter));
        }
        var without = Gradients(null);
        var with = Gradients(Notes(3, "extra"));
        // equal up to float rounding, which the matrix products' blocking makes depend on the batch's row count: within
        // 1e-4 of each tensor's largest gradient (a contribution of the extra notes would be of the gradients' own size)
        foreach (var (name, gradient) in with)
        {
            float difference = (gradient - without[name]).abs().max().item<float>(), scale = without[name].abs().max().item<float>();
            Assert.True(difference <= 1e-4 * scale, $"{name}: largest difference {difference}, largest gradient {scale}");
        }
    }

    [Fact]
    public void TrainingCountsThemMakesTheirCategoriesLegalAndResumesExactly()
    {
        var pairs = SyntheticNotes.Pairs(8);
        var notes = Notes(5, "onlyhere").Append(NoteText.Of("", " ", ["tag::x"], "empty")).Append(new NoteText("nothing", "to generate", [], null)).ToList();
        var options = NoteLLMTrainerOptions.ForSmallModelFromScratch with
        {
            EmbeddingDimension = 32,
            BatchSize = 4,
            GradientAccumulationSteps = 2,
            Epochs = 4,
            ValidationFraction = 0,
            GenerationNotesPerMicroBatch = 3,
            CheckpointEverySteps = 3,
            LogEverySteps = 1,
        };
        using var uninterrupted = TinyModels.NoteLLM();
        var full = new NoteLLMTrainer(uninterrupted, options).Train(pairs, generationNotes: notes);
        Assert.Equal(7, full.Data.GenerationNotesIn);
        Assert.Equal(5, full.Data.GenerationNotesKept);
        Assert.Contains("onlyhere", uninterrupted.Categories);
        Assert.DoesNotContain("empty", uninterrupted.Categories);

        using var dir = new TempFolder();
        var withCheckpoints = options with { CheckpointDirectory = dir.Path };
        using (var killed = TinyModels.NoteLLM())
        {
            var trainer = new NoteLLMTrainer(killed, withCheckpoints, progress: new SynchronousProgress(p => { if (p.Step == 4) throw new IOException("killed"); }));
            Assert.Throws<IOException>(() => trainer.Train(pairs, generationNotes: notes));
        }
        using var resumedModel = TinyModels.NoteLLM(seed: 123);
        var resumed = new NoteLLMTrainer(resumedModel, withCheckpoints).Train(pairs, generationNotes: notes);
        Assert.True(resumed.ResumedFromCheckpoint);
        TinyModels.AssertIdenticalWeights(uninterrupted.Network, resumedModel.Network, "the uninterrupted and the resumed run");

        // other generation notes are other training data: the checkpoint is not resumed
        using var other = TinyModels.NoteLLM();
        var e = Assert.Throws<InvalidOperationException>(() => new NoteLLMTrainer(other, withCheckpoints).Train(pairs, generationNotes: notes.Take(3)));
        Assert.Contains("other training data, options or starting model", e.Message);
    }
}
