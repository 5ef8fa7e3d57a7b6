using Microsoft.ML;
using Microsoft.ML.Data;
using NoteLLM.MLNet.Modeling;
using NoteLLM.MLNet.Prompting;
using NoteLLM.MLNet.Tests.DataViews;
using NoteLLM.MLNet.Tests.TestSupport;
using NoteLLM.MLNet.Training;

namespace NoteLLM.MLNet.Tests.Integration;

/// <summary>
/// The default backbone end to end: <c>mlContext.Transforms.NoteLLM(options)</c> with no backbone named fine-tunes the
/// packaged all-MiniLM-L6-v2 (a few steps: this checks plumbing, not quality), and an application that references
/// NoteLLM.MLNet but not the weights package loads the saved zip in another process and reproduces every output,
/// including the longer note window the model was fitted to embed with (<see cref="NoteLLMOptions.EmbeddingPromptLimits"/>).
/// </summary>
public sealed class PretrainedBackboneTests
{
    public sealed class Output
    {
        public string Id { get; set; } = "";
        [VectorType(384)] public float[] Embedding { get; set; } = [];
        public string[] GeneratedHashtags { get; set; } = [];
        public string GeneratedCategory { get; set; } = "";
    }

    [Fact]
    public void ModelFittedOnTheShippedMiniLMLoadsInAnAppWithoutTheWeightsPackage()
    {
        var ml = new MLContext(seed: 1);
        var log = new List<string>();
        ml.Log += (_, e) => { lock (log) log.Add(e.Message); };
        var options = new NoteLLMOptions
        {
            PromptLimits = new NotePromptLimits { MaxNoteTokens = 16 },
            EmbeddingPromptLimits = new NotePromptLimits { MaxNoteTokens = 40 },
            Training = NoteLLMTrainerOptions.ForPretrainedEncoder with { BatchSize = 4, MaxSteps = 2, ValidationFraction = 0 },
            MaxNewTokens = 4,
        };
        Assert.Equal(NoteLLMBackbone.PretrainedEncoder, options.ResolvedBackbone);
        Assert.Equal(PretrainedEncoder.MiniLM, options.Encoder);
        Assert.Equal(NotePromptTemplates.ForSentenceEncoder, options.ResolvedPromptTemplates);
        Assert.Equal(new NotePromptTemplates(), new NoteLLMOptions { Backbone = NoteLLMBackbone.DecoderFromScratch }.ResolvedPromptTemplates);

        var pairs = NoteLLMFixture.CreatePairs();
        using var model = ml.Transforms.NoteLLM(options).Fit(ml.Data.LoadFromEnumerable(pairs));
        Assert.Contains(log, m => m.Contains("all-MiniLM-L6-v2") && m.Contains("the sentence encoder's prompt"));
        // trained on 16-piece note windows, the fitted model embeds 40 and generates from 16
        Assert.Equal(options.EmbeddingPromptLimits, model.Model.EmbeddingPrompts.Limits);
        Assert.Equal(options.PromptLimits, model.Model.Prompts.Limits);
        Assert.Contains(log, m => m.Contains("embeds with") && m.Contains("MaxNoteTokens = 40"));
        var notes = pairs.Take(4).Select(p => new NoteRow { Id = p.Id, Title = p.Title, Content = p.Content, Hashtags = p.Hashtags }).ToList();
        Assert.Contains(notes, n => model.Model.EmbeddingPrompts.PromptText(NoteText.Of(n.Title, n.Content, n.Hashtags, null), PromptTask.Category).Text
                                    != model.Model.Prompts.PromptText(NoteText.Of(n.Title, n.Content, n.Hashtags, null), PromptTask.Category).Text);
        var expected = ml.Data.CreateEnumerable<Output>(model.Transform(ml.Data.LoadFromEnumerable(notes)), reuseRowObject: false).ToList();
        Assert.All(expected, e => Assert.Equal(384, e.Embedding.Length));

        using var dir = new TempFolder();
        string zip = dir.File("model.zip"), notesFile = dir.File("notes.jsonl");
        ml.Model.Save(model, null, zip);
        ModelLoadCheckRunner.WriteNotes(notesFile, notes.Select(n => new TestNoteRow { Id = n.Id, Title = n.Title ?? "", Content = n.Content ?? "", Hashtags = n.Hashtags }));

        // the consumer app ships without the 91 MB weights package: the zip alone carries the fine-tuned weights
        string appFolder = Path.GetDirectoryName(typeof(PretrainedBackboneTests).Assembly.Location)!;
        Assert.DoesNotContain("SentenceTransformers", File.ReadAllText(Path.Combine(appFolder, "NoteLLM.MLNet.ModelLoadCheck.deps.json")));
        var (exit, stdout, stderr) = ModelLoadCheckRunner.Run(zip, notesFile, TimeSpan.FromMinutes(5), ownDependencies: true);
        Assert.True(exit == 0, $"ModelLoadCheck failed ({exit}): {stderr}");
        var rows = ModelLoadCheckRunner.ParseRows(stdout);
        Assert.Equal(expected.Count, rows.Count);
        for (int i = 0; i < rows.Count; i++)
        {
            var embedding = rows[i]["Embedding"]!.AsArray().Select(v => v!.GetValue<float>()).ToArray();
            double diff = expected[i].Embedding.Zip(embedding, (a, b) => Math.Abs(a - b)).Max();
            Assert.True(diff < 1e-5, $"note {expected[i].Id}: embedding max abs diff {diff}");
            Assert.Equal(expected[i].GeneratedCategory, rows[i]["GeneratedCategory"]!.GetValue<string>());
            Assert.Equal(expected[i].GeneratedHashtags, rows[i]["GeneratedHashtags"]!.AsArray().Select(v => v!.GetValue<string>()).ToArray());
        }
    }
}
