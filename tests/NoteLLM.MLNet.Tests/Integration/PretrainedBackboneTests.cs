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

    // A few steps on the shipped MiniLM with the defaults otherwise: trained on 16-piece note windows, embeds 40.
    private static NoteLLMOptions Options => new()
    {
        PromptLimits = new NotePromptLimits { MaxNoteTokens = 16 },
        EmbeddingPromptLimits = new NotePromptLimits { MaxNoteTokens = 40 },
        Training = NoteLLMTrainerOptions.ForPretrainedEncoder with { BatchSize = 4, MaxSteps = 2, ValidationFraction = 0 },
        MaxNewTokens = 4,
    };

    private static List<Output> Transformed(MLContext ml, ITransformer model, IEnumerable<NoteRow> notes) =>
        ml.Data.CreateEnumerable<Output>(model.Transform(ml.Data.LoadFromEnumerable(notes)), reuseRowObject: false).ToList();

    [Fact]
    public void PromptsLongerThanTheEncodersPositionsAreRefusedBeforeTraining()
    {
        // MiniLM learned 512 positions; torch failed on the position lookup with "index out of range", after training
        // when only the embedding prompts were too long
        var ml = new MLContext(seed: 1);
        var options = Options;
        options.EmbeddingPromptLimits = new NotePromptLimits { MaxNoteTokens = 600, MaxContentCharacters = 10_000 };
        var pairs = ml.Data.LoadFromEnumerable(NoteLLMFixture.CreatePairs());

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.NoteLLM(options).Fit(pairs));
        Assert.Contains("of note", error.Message);
        Assert.Contains("the backbone learned 512 positions: lower NoteLLMOptions.EmbeddingPromptLimits.MaxNoteTokens", error.Message);

        options.EmbeddingPromptLimits = null;
        options.PromptLimits = new NotePromptLimits { MaxNoteTokens = 500 };
        options.MaxNewTokens = 24;
        error = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.NoteLLM(options).Fit(pairs));
        Assert.Contains("24 generated) but the backbone learned 512 positions: lower NoteLLMOptions.PromptLimits.MaxNoteTokens or NoteLLMOptions.MaxNewTokens", error.Message);
    }

    [Fact]
    public void ModelFittedOnTheShippedMiniLMLoadsInAnAppWithoutTheWeightsPackage()
    {
        var ml = new MLContext(seed: 1);
        var log = new List<string>();
        ml.Log += (_, e) => { lock (log) log.Add(e.Message); };
        var options = Options;
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

    /// <summary>
    /// Text no tokenizer test would think of, through the public API of a model on the real WordPiece vocabulary:
    /// every row comes back in order with a unit-length embedding, and the ordinary notes of the batch get exactly
    /// what they get without the hostile ones.
    /// </summary>
    [Fact]
    public void HostileTextThroughTheShippedMiniLMBreaksNoRowAndChangesNoOtherRow()
    {
        var ml = new MLContext(seed: 1);
        var pairs = NoteLLMFixture.CreatePairs();
        using var model = ml.Transforms.NoteLLM(Options).Fit(ml.Data.LoadFromEnumerable(pairs));
        var ordinary = pairs.Take(3).Select(p => new NoteRow { Id = p.Id, Title = p.Title, Content = p.Content, Hashtags = p.Hashtags }).ToList();
        NoteRow[] hostile =
        [
            new() { Id = "lone surrogates", Title = "\uD800broken", Content = "text \uDC00 more \uDBFF", Hashtags = ["\uD800"] },
            new() { Id = "control characters", Title = "\0\u0001\u001B[31mred\u001B[0m\u007F", Content = "\r\n\t\v\f\u0085\u2028" },
            new() { Id = "one huge word", Title = "x", Content = new string('x', 1_000_000) },
            new() { Id = "many words", Title = "words", Content = string.Join(" ", Enumerable.Repeat("word", 200_000)) },
            new() { Id = "scripts and emoji", Title = "\U0001D518\U0001D52B\U0001D526 \U0001F916\U0001F9D1\u200D\U0001F4BB", Content = "\u4E2D\u6587 \u05E2\u05D1\u05E8\u05D9\u05EA \u0627\u0644\u0639\u0631\u0628\u064A\u0629 e\u0301 \u200B\u200F\uFEFF" },
            new() { Id = "special tokens as text", Title = "[CLS] [SEP]", Content = "[EMB] [emb] [MASK] [PAD] [UNK] <|pad|> [SEP]", Hashtags = ["[EMB]", "[SEP]"] },
            new() { Id = "odd hashtags", Title = "tags", Content = "a note", Hashtags = ["", "   ", new string('#', 100_000), "tag with spaces"] },
            new() { Id = "only characters the tokenizer drops", Title = "\u200B", Content = "\0\u0001\uFEFF", Hashtags = ["\u200B"] },
            new() { Id = "empty", Title = "", Content = "" },
        ];
        var alone = Transformed(ml, model, ordinary);

        var mixed = Transformed(ml, model, [ordinary[0], .. hostile[..4], ordinary[1], .. hostile[4..], ordinary[2]]);
        Assert.Equal([ordinary[0].Id, .. hostile[..4].Select(n => n.Id), ordinary[1].Id, .. hostile[4..].Select(n => n.Id), ordinary[2].Id], mixed.Select(o => o.Id));
        foreach (var o in mixed)
        {
            Assert.True(o.Embedding.All(float.IsFinite), $"{o.Id}: embedding not finite");
            Assert.True(Math.Abs(Math.Sqrt(o.Embedding.Sum(x => (double)x * x)) - 1) < 1e-4, $"{o.Id}: embedding not of unit length");
            Assert.NotNull(o.GeneratedCategory);
            Assert.NotNull(o.GeneratedHashtags);
        }
        foreach (var expected in alone)
        {
            var actual = mixed.Single(o => o.Id == expected.Id);
            double diff = expected.Embedding.Zip(actual.Embedding, (a, b) => Math.Abs(a - b)).Max();
            Assert.True(diff < 1e-5, $"note {expected.Id}: embedding max abs diff {diff} next to the hostile notes");
            Assert.Equal(expected.GeneratedCategory, actual.GeneratedCategory);
            Assert.Equal(expected.GeneratedHashtags, actual.GeneratedHashtags);
        }
        // a note of only characters the tokenizer drops has no text, like the empty one: nothing generated, counted
        var noText = mixed.Where(o => o.Id is "only characters the tokenizer drops" or "empty").ToList();
        Assert.All(noText, o => Assert.Equal(("", 0), (o.GeneratedCategory, o.GeneratedHashtags.Length)));
        Assert.True(noText[0].Embedding.Zip(noText[1].Embedding, (a, b) => Math.Abs(a - b)).Max() < 1e-5, "two notes without text embed differently");
        Assert.Equal(2, model.EmptyNoteCount);
        // text written as [EMB] is the note's text, not a second read-out position
        var injected = mixed.Single(o => o.Id == "special tokens as text");
        var plain = Transformed(ml, model, [new NoteRow { Id = "plain", Title = "[CLS] [SEP]", Content = "[emb] [MASK] [PAD] [UNK] <|pad|> [SEP]", Hashtags = ["[SEP]"] }]).Single();
        Assert.True(injected.Embedding.Zip(plain.Embedding, (a, b) => Math.Abs(a - b)).Max() < 1e-5, "[EMB] in a note's text changed its embedding");
    }
}
