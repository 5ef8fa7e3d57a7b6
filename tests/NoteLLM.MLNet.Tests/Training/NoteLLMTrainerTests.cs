using NoteLLM.MLNet.Bundle;
using NoteLLM.MLNet.Generation;
using NoteLLM.MLNet.Prompting;
using NoteLLM.MLNet.Tests.TestSupport;
using NoteLLM.MLNet.Training;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Tests.Training;

public class NoteLLMTrainerTests(ITestOutputHelper output)
{
    private static double RecallAt1(float[][] embeddings, int pairs)
    {
        // note i's partner is i + pairs (and back); rank every other note by dot product
        int hits = 0, n = embeddings.Length;
        for (int i = 0; i < n; i++)
        {
            int best = -1; double bestScore = double.NegativeInfinity;
            for (int j = 0; j < n; j++)
                if (j != i && embeddings[i].Zip(embeddings[j], (a, b) => (double)a * b).Sum() is var s && s > bestScore) { bestScore = s; best = j; }
            if (best == (i + pairs) % n) hits++;
        }
        return (double)hits / n;
    }

    [Fact]
    public void LearnsRelatedPairsAndCategoriesOfASyntheticTask()
    {
        var pairs = SyntheticNotes.Pairs(24);
        var notes = pairs.Select(p => p.First).Concat(pairs.Select(p => p.Second)).ToList();
        using var model = TinyModels.NoteLLM();
        var predictor = new NotePredictor(model, new GreedyDecodingOptions { MaxNewTokens = 4, RepetitionPenalty = 1.0 });
        double before = RecallAt1(predictor.Embed(notes), pairs.Count);

        var options = NoteLLMTrainerOptions.ForSmallModelFromScratch with
        {
            EmbeddingDimension = 32,
            BatchSize = 8,
            Epochs = 80,
            LearningRate = 3e-3,
            ValidationFraction = 0,
            LogEverySteps = 20,
        };
        var result = new NoteLLMTrainer(model, options, output.WriteLine).Train(pairs);
        var predictions = predictor.Predict(notes, NoteOutputs.Embedding | NoteOutputs.Category);
        double after = RecallAt1(predictions.Select(p => p.Embedding!).ToArray(), pairs.Count);
        double categoryAccuracy = predictions.Zip(notes, (p, n) => p.Category == n.Category).Count(x => x) / (double)notes.Count;
        output.WriteLine($"recall@1 {before:F3} -> {after:F3}, category accuracy {categoryAccuracy:F3}, {result.Steps} steps in {result.WallTime}");

        Assert.True(before < 0.3, $"an untrained model should be near chance (1/{notes.Count - 1}); recall@1 was {before:F3}");
        Assert.True(after > 0.9, $"recall@1 of the partner after training: {after:F3}");
        Assert.True(categoryAccuracy > 0.9, $"generated category accuracy: {categoryAccuracy:F3}");
        Assert.Equal(SyntheticNotes.Categories.OrderBy(c => c, StringComparer.Ordinal), model.Categories);
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16)] // the float32 master weights and their AdamW state resume too
    public void ResumedRunEndsWithTheSameWeightsAsAnUninterruptedOne(ScalarType dtype)
    {
        var pairs = SyntheticNotes.Pairs(12);
        var options = NoteLLMTrainerOptions.ForSmallModelFromScratch with
        {
            EmbeddingDimension = 32,
            BatchSize = 4,
            GradientAccumulationSteps = 2,
            Epochs = 12,
            ValidationFraction = 0.2,
            ValidateEverySteps = 3,
            CheckpointEverySteps = 4,
        };

        using var uninterrupted = TinyModels.NoteLLM(dtype: dtype);
        var full = new NoteLLMTrainer(uninterrupted, options).Train(pairs);

        using var dir = new TempFolder();
        var withCheckpoints = options with { CheckpointDirectory = dir.Path };
        using (var killed = TinyModels.NoteLLM(dtype: dtype))
        {
            // a crash after step 6 (no chance to write a checkpoint): the last one is at step 4, so steps 5-6 are redone on resume
            var trainer = new NoteLLMTrainer(killed, withCheckpoints with { LogEverySteps = 1 },
                progress: new SynchronousProgress(p => { if (p.Step == 6) throw new IOException("killed"); }));
            Assert.Throws<IOException>(() => trainer.Train(pairs));
        }
        using var resumedModel = TinyModels.NoteLLM(seed: 123, dtype: dtype); // different initial weights: everything must come from the checkpoint
        var resumed = new NoteLLMTrainer(resumedModel, withCheckpoints).Train(pairs);

        Assert.True(resumed.ResumedFromCheckpoint);
        Assert.Equal(full.Steps, resumed.Steps);
        Assert.Equal(full.BestValidationStep, resumed.BestValidationStep);
        TinyModels.AssertIdenticalWeights(uninterrupted.Network, resumedModel.Network, "the uninterrupted and the resumed run");
    }

    [Fact]
    public void CancellingWritesACheckpointOfTheStepsDoneAndStopsBeforeTheNext()
    {
        var pairs = SyntheticNotes.Pairs(12);
        using var dir = new TempFolder();
        var options = NoteLLMTrainerOptions.ForSmallModelFromScratch with
        {
            EmbeddingDimension = 32,
            BatchSize = 4,
            Epochs = 3,
            ValidationFraction = 0,
            CheckpointDirectory = dir.Path,
            CheckpointEverySteps = 100,
            LogEverySteps = 1,
        };
        using var model = TinyModels.NoteLLM();
        using var cancel = new CancellationTokenSource();
        var steps = new List<int>();
        var trainer = new NoteLLMTrainer(model, options, progress: new SynchronousProgress(p => { steps.Add(p.Step); if (p.Step == 5) cancel.Cancel(); }));
        Assert.Throws<OperationCanceledException>(() => trainer.Train(pairs, cancellation: cancel.Token));
        Assert.Equal([1, 2, 3, 4, 5], steps);
        Assert.Contains("\"Step\":5,", File.ReadAllText(Path.Combine(dir.Path, "checkpoint", "state.json")));
    }

    [Fact]
    public void ACheckpointFolderThatDoesNotExistYetIsCreatedBeforeTheFirstBestWeights()
    {
        using var dir = new TempFolder();
        string folder = Path.Combine(dir.Path, "not", "yet");
        // validation (which keeps the best weights in the folder) comes before the first checkpoint
        var options = NoteLLMTrainerOptions.ForSmallModelFromScratch with
        {
            EmbeddingDimension = 32,
            BatchSize = 4,
            Epochs = 1,
            ValidationFraction = 0.25,
            ValidateEverySteps = 1,
            CheckpointEverySteps = 100,
            CheckpointDirectory = folder,
        };
        using var model = TinyModels.NoteLLM();
        new NoteLLMTrainer(model, options).Train(SyntheticNotes.Pairs(12));
        Assert.True(File.Exists(Path.Combine(folder, "best-weights.bin")));
    }

    [Fact]
    public void APretrainedShareScalesTheBackboneAndProjectionStepsAndNotTheFreshParts()
    {
        var pairs = SyntheticNotes.Pairs(8);
        // one AdamW step at the peak rate, no clipping or decay: AdamW's first step moves every weight by about the rate
        var options = NoteLLMTrainerOptions.ForSmallModelFromScratch with
        {
            EmbeddingDimension = 32,
            BatchSize = 4,
            MaxSteps = 1,
            ValidationFraction = 0,
            WarmupRatio = 0,
            WeightDecay = 0,
            MaxGradientNorm = 0,
        };
        (float Backbone, float Projection, float Tau) LargestStep(double share)
        {
            using var model = TinyModels.NoteLLM();
            var before = model.Network.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
            new NoteLLMTrainer(model, options with { PretrainedLearningRateShare = share }).Train(pairs);
            float Largest(string prefix) => model.Network.named_parameters().Where(p => p.name.StartsWith(prefix, StringComparison.Ordinal))
                .Max(p => (p.parameter - before[p.name]).abs().max().item<float>());
            return (Largest("decoder."), Largest("embedding_projection."), Largest("tau"));
        }
        var full = LargestStep(1.0);
        var tenth = LargestStep(0.1);
        Assert.Equal(0.1, tenth.Backbone / full.Backbone, 3);
        Assert.Equal(0.1, tenth.Projection / full.Projection, 3);
        Assert.Equal(full.Tau, tenth.Tau, 1e-9);
    }

    [Fact]
    public void CheckpointOfOtherDataIsNotResumed()
    {
        using var dir = new TempFolder();
        var options = NoteLLMTrainerOptions.ForSmallModelFromScratch with { EmbeddingDimension = 32, BatchSize = 4, Epochs = 1, ValidationFraction = 0, CheckpointDirectory = dir.Path };
        using (var model = TinyModels.NoteLLM()) new NoteLLMTrainer(model, options).Train(SyntheticNotes.Pairs(8));
        using var other = TinyModels.NoteLLM();
        var e = Assert.Throws<InvalidOperationException>(() => new NoteLLMTrainer(other, options).Train(SyntheticNotes.Pairs(10)));
        Assert.Contains("other training data, options or starting model", e.Message);
    }

    [Theory]
    [InlineData("prompt limits")]
    [InlineData("starting weights")]
    [InlineData("an edited category")]
    public void ACheckpointOfAnotherStartingModelOrEditedNotesIsNotResumed(string change)
    {
        // each of these resumed silently: a finished run's checkpoint came back as the "new" model at once
        using var dir = new TempFolder();
        var options = NoteLLMTrainerOptions.ForSmallModelFromScratch with { EmbeddingDimension = 32, BatchSize = 4, Epochs = 1, ValidationFraction = 0, CheckpointDirectory = dir.Path };
        var pairs = SyntheticNotes.Pairs(8);
        using (var model = TinyModels.NoteLLM()) new NoteLLMTrainer(model, options).Train(pairs);

        using var other = change switch
        {
            "starting weights" => TinyModels.NoteLLM(seed: 1),
            // TinyModels.NoteLLM's model, weights and all, with another note-token limit
            "prompt limits" => NoteLLMModel.CreateFromScratch(TinyModels.Config(hidden: 64, layers: 2, heads: 4, kvHeads: 2, tied: true), embeddingDimension: 32,
                limits: new NotePromptLimits { MaxNoteTokens = 100 }, seed: 0),
            _ => TinyModels.NoteLLM(),
        };
        var edited = change == "an edited category" ? pairs.Take(1).Select(p => p with { First = p.First with { Category = "renamed" } }).Concat(pairs.Skip(1)).ToList() : pairs;

        var e = Assert.Throws<InvalidOperationException>(() => new NoteLLMTrainer(other, options) { FingerprintsStartingWeights = change == "starting weights" }.Train(edited));
        Assert.Contains("other training data, options or starting model", e.Message);
    }

    [Fact]
    public void AValidationSetThatCleansToNothingUsableIsReported()
    {
        // one pair left (the other pairs its note with itself): no validation loss can be computed, which was silent
        var pairs = SyntheticNotes.Pairs(10);
        var validation = new List<NotePair> { pairs[8], new("x", pairs[9].First, "x", pairs[9].First) };
        var log = new List<string>();
        var options = NoteLLMTrainerOptions.ForSmallModelFromScratch with { EmbeddingDimension = 32, BatchSize = 4, MaxSteps = 2 };
        using var model = TinyModels.NoteLLM();
        var result = new NoteLLMTrainer(model, options, log.Add).Train(pairs[..8], validation);

        Assert.Contains(log, l => l.StartsWith("validation data: pairs in 2, kept 1; dropped: self 1"));
        Assert.Contains(log, l => l.StartsWith("warning: 1 validation pair(s) remain after cleaning"));
        Assert.Null(result.BestValidationStep);
    }

    [Fact]
    public void ANaNValidationLossIsNeverTheBest()
    {
        // kept as the best, no later loss compared below it, and the weights of a NaN step would have been restored
        using var model = TinyModels.NoteLLM();
        using var best = new BestWeightsKeeper(model.Network, keepWeights: false, checkpointDirectory: null, bestLoss: null, bestStep: null);
        best.Offer(double.NaN, 1);
        best.Offer(0.7, 2);
        best.Offer(0.9, 3);
        Assert.Equal((0.7, 2), (best.BestLoss, best.BestStep));
    }

    [Fact]
    public void TwoRunsCannotShareACheckpointFolder()
    {
        // they wrote over each other's checkpoints and best weights
        using var dir = new TempFolder();
        var options = NoteLLMTrainerOptions.ForSmallModelFromScratch with { EmbeddingDimension = 32, BatchSize = 4, Epochs = 1, ValidationFraction = 0, CheckpointDirectory = dir.Path };
        using var model = TinyModels.NoteLLM();
        using (TrainingCheckpoint.Lock(dir.Path)) // what a run in another thread or process holds while it trains
        {
            var e = Assert.Throws<InvalidOperationException>(() => new NoteLLMTrainer(model, options).Train(SyntheticNotes.Pairs(8)));
            Assert.Contains($"Another training run is using the checkpoint folder '{dir.Path}'", e.Message);
        }
        new NoteLLMTrainer(model, options).Train(SyntheticNotes.Pairs(8)); // free again once it ends
        Assert.False(File.Exists(Path.Combine(dir.Path, "training.lock")));
    }

    [Theory]
    [InlineData("weights.bin")]
    [InlineData("state.json")]
    public void ADamagedCheckpointIsNamed(string file)
    {
        using var dir = new TempFolder();
        var options = NoteLLMTrainerOptions.ForSmallModelFromScratch with { EmbeddingDimension = 32, BatchSize = 4, Epochs = 1, ValidationFraction = 0, CheckpointDirectory = dir.Path };
        using (var model = TinyModels.NoteLLM()) new NoteLLMTrainer(model, options).Train(SyntheticNotes.Pairs(8));
        string path = Path.Combine(dir.Path, "checkpoint", file);
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..(file == "state.json" ? 0 : 1000)]);

        using var again = TinyModels.NoteLLM();
        var e = Assert.Throws<InvalidDataException>(() => new NoteLLMTrainer(again, options).Train(SyntheticNotes.Pairs(8)));
        Assert.Contains($"The checkpoint in '{Path.Combine(dir.Path, "checkpoint")}'", e.Message);
        Assert.Contains("delete the folder to train from the start", e.Message);
    }

    [Fact]
    public void BadPairsAreCountedNotFatal()
    {
        var good = SyntheticNotes.Pairs(6);
        var empty = new NoteText("", "", [], null);
        var noTargets = new NoteText("lonely", "no hashtags and no category", [], null);
        var pairs = new List<NotePair>(good)
        {
            good[0] with { },                                                    // duplicate
            new(good[1].SecondId, good[1].Second, good[1].FirstId, good[1].First), // duplicate in reverse order
            new("x", good[2].First, "x", good[2].First),                         // a note with itself
            new("e", empty, "n3a", good[3].First),                               // empty note
            new("lonely", noTargets, "n4a", good[4].First),                      // trains the embedding only
            new(null, new NoteText(new string('w', 5000), string.Join(" ", Enumerable.Repeat("long", 3000)), ["t"], "c"), null, good[5].Second), // far over the limits
        };
        using var model = TinyModels.NoteLLM();
        var options = NoteLLMTrainerOptions.ForSmallModelFromScratch with { EmbeddingDimension = 32, BatchSize = 8, Epochs = 1, ValidationFraction = 0 };
        var result = new NoteLLMTrainer(model, options, output.WriteLine).Train(pairs);
        var r = result.Data;
        Assert.Equal(12, r.PairsIn);
        Assert.Equal(2, r.DuplicatePairs);
        Assert.Equal(1, r.SelfPairs);
        Assert.Equal(1, r.PairsWithEmptyNote);
        Assert.Equal(8, r.PairsKept);
        Assert.Equal(1, r.NotesWithoutCategory);
        Assert.Equal(1, r.NotesWithoutHashtags);
        Assert.True(r.TruncatedPrompts >= 1, r.ToString());
        Assert.True(r.PromptsWithoutGenerationTarget >= 1, r.ToString());
    }

    [Fact]
    public void NotesOfOnlyCharactersTheTokenizerDropsAreDroppedLikeEmptyOnes()
    {
        var good = SyntheticNotes.Pairs(6);
        var words = good.SelectMany(p => new[] { p.First, p.Second }).SelectMany(n => n.Hashtags.Concat([n.Title, n.Content, n.Category!]));
        using var model = NoteLLMModel.CreateFromScratch(TinyModels.Config(hidden: 32, layers: 1, heads: 4, kvHeads: 2, tied: true), embeddingDimension: 16,
            tokenizer: TokenizerFiles.WordPieceOf(words), seed: 0);
        var invisible = new NoteText("\u200B", "\0\u0001\uFEFF", ["t"], "c"); // WordPiece drops control and zero-width characters
        var options = NoteLLMTrainerOptions.ForSmallModelFromScratch with { EmbeddingDimension = 16, BatchSize = 4, MaxSteps = 1, ValidationFraction = 0 };
        var result = new NoteLLMTrainer(model, options).Train([.. good, new("i", invisible, "n1a", good[1].First)], generationNotes: [invisible]);
        Assert.Equal(1, result.Data.PairsWithEmptyNote);
        Assert.Equal(6, result.Data.PairsKept);
        Assert.Equal(0, result.Data.GenerationNotesKept);
    }

    [Fact]
    public void GenerationLabelsAreOutputTokensOnlyWhateverThePrompt()
    {
        using var model = TinyModels.NoteLLM();
        var options = new NoteLLMTrainerOptions { HashtagTaskRatio = 0 };
        var pairs = SyntheticNotes.Pairs(2);
        using var a = CsftBatch.Build(model, pairs, options, new Random(1), CPU);
        var changed = pairs.Select(p => p with { First = p.First with { Title = "something else entirely", Content = "another body" } }).ToList();
        using var b = CsftBatch.Build(model, changed, options, new Random(1), CPU);

        var expected = pairs.Select(p => p.First).Concat(pairs.Select(p => p.Second))
            .SelectMany(n => model.Tokenizer.EncodeContinuation(n.Category!).Append(model.Tokenizer.EosTokenId)).Select(x => (long)x).ToArray();
        Assert.Equal(expected, a.Labels.data<long>().ToArray());
        Assert.Equal(expected, b.Labels.data<long>().ToArray());   // prompt tokens changed, labels did not
        // every label sits right after its predicting position, inside the output part of the prompt
        var ids = a.Ids;
        var rows = a.LabelRows.data<long>().ToArray(); var positions = a.LabelPositions.data<long>().ToArray();
        for (int i = 0; i < rows.Length; i++) Assert.Equal(expected[i], ids[rows[i], positions[i] + 1].item<long>());
    }

    [Fact]
    public void SavedModelLoadsWithIdenticalPredictions()
    {
        var pairs = SyntheticNotes.Pairs(6);
        using var model = TinyModels.NoteLLM();
        new NoteLLMTrainer(model, NoteLLMTrainerOptions.ForSmallModelFromScratch with { EmbeddingDimension = 32, BatchSize = 4, Epochs = 2, ValidationFraction = 0 }).Train(pairs);
        using var dir = new TempFolder();
        NoteLLMModelFiles.Save(model, dir.Path);
        using var loaded = NoteLLMModelFiles.Load(dir.Path);

        var notes = pairs.Select(p => p.First).ToList();
        var decoding = new GreedyDecodingOptions { MaxNewTokens = 5 };
        var want = new NotePredictor(model, decoding).Predict(notes);
        var got = new NotePredictor(loaded, decoding).Predict(notes);
        Assert.Equal(model.Categories, loaded.Categories);
        for (int i = 0; i < notes.Count; i++)
        {
            Assert.Equal(want[i].Embedding!, got[i].Embedding!);
            Assert.Equal(want[i].Category, got[i].Category);
            Assert.Equal(want[i].Hashtags!, got[i].Hashtags!);
        }
    }

    [Fact]
    public void LoraTrainsAdaptersEmbeddingsProjectionAndTauOnly()
    {
        using var model = TinyModels.NoteLLM();
        var before = model.Network.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
        var options = NoteLLMTrainerOptions.ForSmallModelFromScratch with { EmbeddingDimension = 32, BatchSize = 4, Epochs = 2, ValidationFraction = 0, LoraRank = 4, LoraTargets = ["q_proj", "v_proj"] };
        new NoteLLMTrainer(model, options).Train(SyntheticNotes.Pairs(8));

        var after = model.Network.state_dict();
        Assert.Equal(2 * 2 * 2, after.Keys.Count(k => k.Contains("lora_"))); // 2 layers x (q, v) x (A, B)
        foreach (var (name, t) in before)
        {
            bool trainable = name.Contains("embed_tokens") || name.StartsWith("embedding_projection") || name == "tau";
            Assert.True(trainable != t.eq(after[name]).all().item<bool>(), $"{name} should {(trainable ? "" : "not ")}change under LoRA");
        }
        Assert.Contains(after, kv => kv.Key.Contains("lora_B") && kv.Value.abs().sum().item<float>() > 0);

        using var dir = new TempFolder();
        NoteLLMModelFiles.Save(model, dir.Path);
        using var loaded = NoteLLMModelFiles.Load(dir.Path);
        var notes = SyntheticNotes.Pairs(3).Select(p => p.First).ToList();
        Assert.Equal(new NotePredictor(model).Embed(notes), new NotePredictor(loaded).Embed(notes));
    }

    [Fact]
    public void CachedEmbeddingGradientsEqualThoseOfOnePassOverTheWholeBatch()
    {
        // Two micro-batches of 3 pairs with negatives across both (gradient caching) must give the gradients of
        // L = (L_cl over all 6 pairs + alpha mean(L_gen of each micro-batch)) / (1 + alpha), alpha = 0.5.
        var pairs = SyntheticNotes.Pairs(6);
        using var model = TinyModels.NoteLLM();
        var options = new NoteLLMTrainerOptions { HashtagTaskRatio = 0, EmbeddingDimension = 32, Alpha = 0.5 };
        using var whole = CsftBatch.Build(model, pairs, options, new Random(1), CPU);
        using var first = CsftBatch.Build(model, pairs.Take(3).ToList(), options, new Random(1), CPU);
        using var second = CsftBatch.Build(model, pairs.Skip(3).ToList(), options, new Random(1), CPU);

        Dictionary<string, Tensor> Gradients(NoteLLMTrainerOptions o, params CsftBatch[] micros)
        {
            model.Network.zero_grad();
            new NoteLLMTrainer(model, o).AccumulateGradients(micros);
            return model.Network.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad?.clone() ?? zeros_like(p.parameter));
        }
        var cached = Gradients(options, first, second);
        var contrastive = Gradients(options with { Alpha = 0 }, whole);                         // d L_cl(6 pairs)
        var generation = Gradients(options with { ContrastiveWeight = 0 }, first, second);       // d (0.5 / 1.5) mean L_gen
        var withinMicroBatches = Gradients(options with { ContrastAcrossMicroBatches = false }, first, second);

        foreach (var (name, gradient) in cached)
        {
            var expected = contrastive[name] / 1.5 + generation[name];
            Assert.True(gradient.allclose(expected, rtol: 1e-4, atol: 1e-6), $"{name}: largest difference {(gradient - expected).abs().max().item<float>()}");
        }
        Assert.Contains(cached, g => !g.Value.allclose(withinMicroBatches[g.Key], rtol: 1e-2, atol: 1e-5)); // other negatives, other gradients
    }

    [Fact]
    public void NonFiniteLossStopsWithAClearMessage()
    {
        using var model = TinyModels.NoteLLM();
        using (no_grad()) model.Network.EmbeddingProjection.Weight.fill_(float.NaN);
        var options = NoteLLMTrainerOptions.ForSmallModelFromScratch with { EmbeddingDimension = 32, BatchSize = 4, Epochs = 1, ValidationFraction = 0 };
        var e = Assert.Throws<InvalidOperationException>(() => new NoteLLMTrainer(model, options).Train(SyntheticNotes.Pairs(8)));
        Assert.Contains("diverged at step 1", e.Message);
        Assert.Contains("NaN", e.Message);
    }
}
