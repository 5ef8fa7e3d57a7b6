using System.IO.Compression;
using System.Text.RegularExpressions;
using Microsoft.Data.Analysis;
using Microsoft.ML;
using Microsoft.ML.Data;
using NoteLLM.MLNet.Evaluation;
using NoteLLM.MLNet.Generation;
using NoteLLM.MLNet.Prompting;
using NoteLLM.MLNet.Runtime;
using NoteLLM.MLNet.Tests.DataViews;
using NoteLLM.MLNet.Tests.TestSupport;
using NoteLLM.MLNet.Training;

namespace NoteLLM.MLNet.Tests.Integration;

public class NoteLLMEstimatorTests(NoteLLMFixture fixture) : IClassFixture<NoteLLMFixture>
{
    private MLContext ML => fixture.MLContext;

    private List<NoteLLMOutput> Outputs(ITransformer model, IEnumerable<NoteRow> notes) =>
        ML.Data.CreateEnumerable<NoteLLMOutput>(model.Transform(ML.Data.LoadFromEnumerable(notes)), reuseRowObject: false).ToList();

    private static void AssertSame(IReadOnlyList<NoteLLMOutput> expected, IReadOnlyList<NoteLLMOutput> actual, double tolerance)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Id, actual[i].Id);
            Assert.Equal(NoteLLMFixture.EmbeddingDimension, actual[i].Embedding.Length);
            double diff = expected[i].Embedding.Zip(actual[i].Embedding, (a, b) => Math.Abs(a - b)).Max();
            Assert.True(diff < tolerance, $"note {expected[i].Id}: embedding max abs diff {diff}");
            Assert.Equal(expected[i].GeneratedCategory, actual[i].GeneratedCategory);
            Assert.Equal(expected[i].GeneratedHashtags, actual[i].GeneratedHashtags);
        }
    }

    [Fact]
    public void FitLogsThroughTheChannelAndProducesAllOutputs()
    {
        Assert.Contains(fixture.Log, m => m.Contains("training data: pairs in 12"));
        Assert.Contains(fixture.Log, m => m.Contains("step "));
        var outputs = Outputs(fixture.Model, fixture.Notes);
        Assert.All(outputs, o => Assert.Equal(1.0, Math.Sqrt(o.Embedding.Sum(x => (double)x * x)), 4));
        Assert.Contains(outputs, o => o.GeneratedCategory.Length > 0);
        Assert.Equal(SyntheticNotes.Categories.Order(StringComparer.Ordinal), fixture.Model.Categories);
    }

    [Fact]
    public void AnotherProcessLoadsTheZipAndReproducesEmbeddingsHashtagsAndCategory()
    {
        using var dir = new TempFolder();
        var expected = Outputs(fixture.Model, fixture.Notes);
        string zip = dir.File("model.zip");
        ML.Model.Save(fixture.Model, ML.Data.LoadFromEnumerable(fixture.Pairs).Schema, zip);
        string notes = dir.File("notes.jsonl");
        ModelLoadCheckRunner.WriteNotes(notes, fixture.Notes.Select(n => new TestNoteRow { Id = n.Id, Title = n.Title ?? "", Content = n.Content ?? "", Hashtags = n.Hashtags }));

        // the app's own dependencies: it references NoteLLM.MLNet but names none of its types
        var (exit, stdout, stderr) = ModelLoadCheckRunner.Run(zip, notes, TimeSpan.FromMinutes(5), ownDependencies: true);
        Assert.True(exit == 0, $"ModelLoadCheck failed ({exit}): {stderr}");
        var actual = ModelLoadCheckRunner.ParseRows(stdout).Select(r => new NoteLLMOutput
        {
            Id = r["Id"]!.GetValue<string>(),
            Embedding = r["Embedding"]!.AsArray().Select(v => v!.GetValue<float>()).ToArray(),
            GeneratedHashtags = r["GeneratedHashtags"]!.AsArray().Select(v => v!.GetValue<string>()).ToArray(),
            GeneratedCategory = r["GeneratedCategory"]!.GetValue<string>(),
        }).ToList();
        AssertSame(expected, actual, 1e-5);
        // a consumer that only loads a zip gets oneMKL's AVX-512 kernels on an AMD CPU with AVX-512 too, and hears of it;
        // it shares this process's CPU and environment (a preload, the opt-out, a build without a C compiler)
        switch (CpuMatrixProducts.UseAvx512KernelsOnAmd())
        {
            case CpuMatrixProducts.VendorTestAnswer.NotNeeded or CpuMatrixProducts.VendorTestAnswer.AlreadyIntel:
                Assert.DoesNotContain("oneMKL", stderr);
                break;
            case CpuMatrixProducts.VendorTestAnswer.Loaded:
                Assert.Contains("f32 matrix products run oneMKL's AVX-512 kernels on this AMD CPU", stderr);
                break;
            default:
                Assert.Contains("f32 matrix products run oneMKL's AVX2 kernels on this AMD CPU", stderr);
                break;
        }
    }

    [Fact]
    public void AnotherProcessServesBadNotesThenEightThreadsWithTheirOwnPredictionEnginesAgreeWithOneThread()
    {
        using var dir = new TempFolder();
        string zip = dir.File("model.zip");
        ML.Model.Save(fixture.Model, null, zip);
        var good = fixture.Notes.Take(6).Prepend(new NoteRow { Id = "vim", Title = "vim", Content = "Vi IMproved text editor" }).ToList();
        var expected = Outputs(fixture.Model, good);
        NoteRow[] bad = [TenThousandHashtags, new() { Id = "empty" }, new() { Id = "blank", Title = " ", Content = "\n" }];
        string notes = dir.File("notes.jsonl");
        ModelLoadCheckRunner.WriteNotes(notes, bad.Concat(good).Select(n => new TestNoteRow { Id = n.Id, Title = n.Title ?? "", Content = n.Content ?? "", Hashtags = n.Hashtags }));

        var (exit, stdout, stderr) = ModelLoadCheckRunner.Run(zip, notes, TimeSpan.FromMinutes(5), ownDependencies: true, threads: 8);
        Assert.True(exit == 0, $"ModelLoadCheck failed ({exit}): {stderr}");
        var rows = ModelLoadCheckRunner.ParseRows(stdout).Select(r => (Thread: r["Thread"]?.GetValue<int>(), Output: new NoteLLMOutput
        {
            Id = r["Id"]!.GetValue<string>(),
            Embedding = r["Embedding"]!.AsArray().Select(v => v!.GetValue<float>()).ToArray(),
            GeneratedHashtags = r["GeneratedHashtags"]!.AsArray().Select(v => v!.GetValue<string>()).ToArray(),
            GeneratedCategory = r["GeneratedCategory"]!.GetValue<string>(),
        })).ToLookup(r => r.Thread, r => r.Output);
        var transformed = rows[null].ToList();
        var reference = rows[0].ToList();
        AssertSame(expected, transformed.Skip(bad.Length).ToList(), 1e-5); // after the bad notes, as in the saving process
        AssertSame(transformed, reference, 1e-5);
        for (int thread = 1; thread <= 8; thread++)
            AssertSame(reference, rows[thread].ToList(), 1e-5);
    }

    [Fact]
    public void PredictionEngineOnALoadedModelMatchesTransform()
    {
        using var dir = new TempFolder();
        string zip = dir.File("model.zip");
        ML.Model.Save(fixture.Model, null, zip);
        var loaded = ML.Model.Load(zip, out _);
        var notes = fixture.Notes.Take(6).ToList();
        var viaTransform = Outputs(loaded, notes);
        using var engine = ML.Model.CreatePredictionEngine<NoteRow, NoteLLMOutput>(loaded);
        var viaEngine = notes.Select(n => { var o = engine.Predict(n); return new NoteLLMOutput { Id = n.Id, Embedding = o.Embedding, GeneratedCategory = o.GeneratedCategory, GeneratedHashtags = o.GeneratedHashtags }; }).ToList();
        AssertSame(viaTransform, viaEngine, 1e-5);
        AssertSame(Outputs(fixture.Model, notes), viaTransform, 1e-5);
    }

    [Fact]
    public void ChainWithBuiltInTransformsSavesAndLoads()
    {
        var pairs = ML.Data.LoadFromEnumerable(fixture.Pairs);
        var chain = ML.Transforms.Text.NormalizeText("Title")
            .Append(ML.Transforms.NoteLLM(NoteLLMFixture.Options(NoteOutputs.Embedding)))
            .Append(ML.Transforms.NormalizeLpNorm("EmbeddingNormalized", "Embedding"))
            .Fit(pairs);
        using var dir = new TempFolder();
        string zip = dir.File("chain.zip");
        ML.Model.Save(chain, pairs.Schema, zip);
        var loaded = ML.Model.Load(zip, out var schema);
        var notes = ML.Data.LoadFromEnumerable(fixture.Notes);
        float[][] Read(ITransformer model) => model.Transform(notes).GetColumn<float[]>("EmbeddingNormalized").ToArray();
        var before = Read(chain); var after = Read(loaded);
        for (int i = 0; i < before.Length; i++)
            for (int d = 0; d < before[i].Length; d++) Assert.Equal(before[i][d], after[i][d], 1e-5f);
        Assert.Null(loaded.Transform(notes).Schema.GetColumnOrNull("GeneratedCategory")); // embedding-only model
    }

    [Fact]
    public void DataFrameInAndOut()
    {
        var notes = fixture.Notes.Take(5).ToList();
        var frame = new DataFrame(
            new StringDataFrameColumn("Id", notes.Select(n => n.Id)),
            new StringDataFrameColumn("Title", notes.Select(n => n.Title)),
            new StringDataFrameColumn("Content", notes.Select(n => n.Content)),
            new StringDataFrameColumn("Hashtags", notes.Select(n => string.Join(", ", n.Hashtags))));
        // ToDataFrame defaults to 100 rows: pass -1 for all
        var result = fixture.Model.Transform(frame).ToDataFrame(-1);
        Assert.Equal(5, result.Rows.Count);
        Assert.Equal(Outputs(fixture.Model, notes).Select(o => o.GeneratedCategory), result.Columns["GeneratedCategory"].Cast<string>());
    }

    [Fact]
    public void MissingOrMistypedColumnsAreNamed()
    {
        var noRelatedTitle = ML.Data.LoadFromEnumerable(fixture.Pairs.Select(p => new { p.Title, p.Content, p.Hashtags, p.Category, p.RelatedContent, p.RelatedHashtags, p.RelatedCategory }));
        var missing = Assert.ThrowsAny<ArgumentException>(() => ML.Transforms.NoteLLM(NoteLLMFixture.Options()).Fit(noRelatedTitle));
        Assert.Contains("Column 'RelatedTitle' not found", missing.Message);

        var floatHashtags = ML.Data.LoadFromEnumerable(fixture.Pairs.Select(p => new { p.Title, p.Content, Hashtags = 1f, p.Category, p.RelatedTitle, p.RelatedContent, p.RelatedHashtags, p.RelatedCategory }));
        var mistyped = Assert.ThrowsAny<ArgumentException>(() => ML.Transforms.NoteLLM(NoteLLMFixture.Options()).Fit(floatHashtags));
        Assert.Contains("Column 'Hashtags' has type Single", mistyped.Message);

        // the validation view is named as such; an id column that is not Text was ignored without a word
        var validation = Assert.ThrowsAny<ArgumentException>(() => ML.Transforms.NoteLLM(NoteLLMFixture.Options()).Fit(ML.Data.LoadFromEnumerable(fixture.Pairs), noRelatedTitle));
        Assert.StartsWith("The validation data: Column 'RelatedTitle' not found", validation.Message);
        var longIds = ML.Data.LoadFromEnumerable(fixture.Pairs.Select((p, i) => new { Id = (long)i, p.Title, p.Content, p.Hashtags, p.Category, RelatedId = (long)i + 1000, p.RelatedTitle, p.RelatedContent, p.RelatedHashtags, p.RelatedCategory }));
        var ids = Assert.ThrowsAny<ArgumentException>(() => ML.Transforms.NoteLLM(NoteLLMFixture.Options()).Fit(longIds));
        Assert.Contains("The training data's column 'Id' is Int64; note ids must be Text", ids.Message);

        var noTitle = ML.Data.LoadFromEnumerable(fixture.Notes.Select(n => new { n.Content, n.Hashtags }));
        var atTransform = Assert.ThrowsAny<ArgumentException>(() => fixture.Model.Transform(noTitle));
        Assert.Contains("Column 'Title' not found", atTransform.Message);
        var shape = Assert.ThrowsAny<ArgumentException>(() => ML.Transforms.NoteLLM(NoteLLMFixture.Options()).GetOutputSchema(SchemaShape.Create(noTitle.Schema)));
        Assert.Contains("Column 'Title' not found", shape.Message);
    }

    [Theory]
    [InlineData("InferenceBatchSize", "NoteLLMOptions.InferenceBatchSize is 0; expected 1 or more")]
    [InlineData("MaxNewTokens", "NoteLLMOptions.MaxNewTokens is 0; expected 1 or more")]
    [InlineData("GeneratedHashtagCount", "NoteLLMOptions.GeneratedHashtagCount is 0; expected 1 or more")]
    [InlineData("RepetitionPenalty", "NoteLLMOptions.RepetitionPenalty is NaN")]
    [InlineData("PromptLimits", "NoteLLMOptions.PromptLimits.MaxNoteTokens is 0; expected 1 or more")]
    [InlineData("EmbeddingPromptLimits", "NoteLLMOptions.EmbeddingPromptLimits.MaxHashtags is -1")]
    public void OutOfRangeOptionsAreRefusedBeforeTraining(string option, string expected)
    {
        // these were found only when the transformer was made after training (and the trained model discarded), or
        // never: a MaxNewTokens of 0 gave every note empty hashtags
        var options = NoteLLMFixture.Options();
        switch (option)
        {
            case "InferenceBatchSize": options.InferenceBatchSize = 0; break;
            case "MaxNewTokens": options.MaxNewTokens = 0; break;
            case "GeneratedHashtagCount": options.GeneratedHashtagCount = 0; break;
            case "RepetitionPenalty": options.RepetitionPenalty = double.NaN; break;
            case "PromptLimits": options.PromptLimits = new NotePromptLimits { MaxNoteTokens = 0 }; break;
            default: options.EmbeddingPromptLimits = new NotePromptLimits { MaxHashtags = -1 }; break;
        }
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => ML.Transforms.NoteLLM(options));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void EmptyDataGivesAClearError()
    {
        var empty = ML.Data.LoadFromEnumerable(new List<PairRow>());
        var e = Assert.Throws<ArgumentException>(() => ML.Transforms.NoteLLM(NoteLLMFixture.Options()).Fit(empty));
        Assert.Contains("has no rows", e.Message);
    }

    // A copy of the fixture's model loaded from its zip in a fresh context, as an outside app holds it.
    private (MLContext Ml, NoteLLMTransformer Model, List<string> Warnings) LoadedCopy(TempFolder dir)
    {
        string zip = dir.File("model.zip");
        ML.Model.Save(fixture.Model, null, zip);
        var ml = new MLContext(seed: 1);
        var warnings = new List<string>();
        ml.Log += (_, e) => { if (e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Warning) lock (warnings) warnings.Add(e.Message); };
        return (ml, (NoteLLMTransformer)ml.Model.Load(zip, out _), warnings);
    }

    private static List<NoteLLMOutput> Transformed(MLContext ml, ITransformer model, IEnumerable<NoteRow> notes) =>
        ml.Data.CreateEnumerable<NoteLLMOutput>(model.Transform(ml.Data.LoadFromEnumerable(notes)), reuseRowObject: false).ToList();

    // A fresh PredictionEngine per call, leaving the transformer to the caller.
    private static List<NoteLLMOutput> Predicted(MLContext ml, ITransformer model, IEnumerable<NoteRow> notes)
    {
        using var engine = ml.Model.CreatePredictionEngine<NoteRow, NoteLLMOutput>(model, new PredictionEngineOptions { OwnsTransformer = false });
        return notes.Select(n => { var o = engine.Predict(n); return new NoteLLMOutput { Id = n.Id, Embedding = o.Embedding, GeneratedCategory = o.GeneratedCategory, GeneratedHashtags = o.GeneratedHashtags }; }).ToList();
    }

    internal static NoteRow TenThousandHashtags => new()
    {
        Id = "huge",
        Title = "huge",
        Content = "a note with ten thousand hashtags",
        Hashtags = Enumerable.Range(0, 10_000).Select(i => $"tag{i}").ToArray(),
    };

    [Fact]
    public void ANoteWithTenThousandHashtagsEmbedsAndGeneratesAndLeavesTheModelAsItWas()
    {
        using var dir = new TempFolder();
        var (ml, model, _) = LoadedCopy(dir);
        using var _ = model;
        var normal = fixture.Notes.Take(3).Prepend(new NoteRow { Id = "vim", Title = "vim", Content = "Vi IMproved text editor" }).ToList();
        var viaTransform = Transformed(ml, model, normal);
        var viaEngine = Predicted(ml, model, normal);
        AssertSame(viaTransform, viaEngine, 1e-5);

        var huge = Transformed(ml, model, [TenThousandHashtags]).Single();
        Assert.Equal(1.0, Math.Sqrt(huge.Embedding.Sum(x => (double)x * x)), 4);
        Assert.NotNull(huge.GeneratedCategory);
        Assert.NotNull(huge.GeneratedHashtags);
        AssertSame([huge], Predicted(ml, model, [TenThousandHashtags]), 1e-5);

        // the same outputs as before it, through Transform and through a fresh PredictionEngine
        AssertSame(viaTransform, Transformed(ml, model, normal), 1e-5);
        AssertSame(viaTransform, Predicted(ml, model, normal), 1e-5);
    }

    [Fact]
    public void AnEmptyNoteGetsDefinedOutputsWithoutChangingTheOtherRowsOfItsBatch()
    {
        using var dir = new TempFolder();
        var (ml, model, warnings) = LoadedCopy(dir);
        using var _ = model;
        var good = fixture.Notes.Take(4).ToList();
        var expected = Transformed(ml, model, good);
        NoteRow[] withEmpty = [good[0], good[1], new() { Id = "empty", Title = null, Content = null }, good[2], new() { Id = "blank", Title = "  ", Content = "\t\n" }, good[3]];

        var actual = Transformed(ml, model, withEmpty);
        Assert.Equal(withEmpty.Select(n => n.Id), actual.Select(o => o.Id));
        AssertSame(expected, actual.Where(o => o.Id is not ("empty" or "blank")).ToList(), 1e-5);
        // the embedding of the prompt with empty fields, and nothing generated
        var emptyPrompt = new NotePredictor(model.Model).Embed([NoteLLM.MLNet.Prompting.NoteText.Of("", "")]).Single();
        foreach (var empty in actual.Where(o => o.Id is "empty" or "blank"))
        {
            Assert.Equal("", empty.GeneratedCategory);
            Assert.Empty(empty.GeneratedHashtags);
            Assert.True(empty.Embedding.Zip(emptyPrompt, (a, b) => Math.Abs(a - b)).Max() < 1e-5, $"{empty.Id}: not the empty prompt's embedding");
        }
        AssertSame(actual, Predicted(ml, model, withEmpty), 1e-5);

        // counted, and reported once through ML.NET's log
        Assert.Equal(4, model.EmptyNoteCount);
        Assert.Single(warnings, w => w.Contains("neither 'Title' nor 'Content'"));
    }

    [Fact]
    public void CorruptedZipGivesAClearError()
    {
        using var dir = new TempFolder();
        string zip = dir.File("model.zip");
        ML.Model.Save(fixture.Model, null, zip);
        string weights;
        using (var archive = ZipFile.OpenRead(zip))
            weights = archive.Entries.Select(e => e.FullName.Replace('\\', '/')).Single(n => n.EndsWith("/notellm/model.safetensors", StringComparison.Ordinal));
        string entry = $"'{weights[..^"/notellm/model.safetensors".Length]}' of the model zip";

        // One byte of the weights changed inside an intact zip: only the SHA-256 recorded at save time can tell.
        File.Copy(zip, dir.File("changed.zip"));
        using (var archive = ZipFile.Open(dir.File("changed.zip"), ZipArchiveMode.Update))
        using (var stream = archive.GetEntry(weights)!.Open())
        {
            stream.Position = stream.Length / 2;
            int b = stream.ReadByte();
            stream.Position--;
            stream.WriteByte((byte)(b ^ 0x5A));
        }
        Assert.Equal($"File 'notellm/model.safetensors' in the entry {entry} is corrupted (SHA-256 mismatch).", LoadFailure(dir.File("changed.zip")).Message);

        // Bytes flipped in the middle of the file, as a bad disk or transfer would, fall in the compressed weights
        // (nearly all of the zip); what the damaged deflate stream decodes to decides which of the reader's checks fires.
        var bytes = File.ReadAllBytes(zip);
        for (int i = bytes.Length / 2; i < bytes.Length / 2 + 64; i++) bytes[i] ^= 0x5A;
        File.WriteAllBytes(dir.File("corrupt.zip"), bytes);
        Assert.Matches($@"^File 'notellm/model\.safetensors' in the entry {Regex.Escape(entry)} (has \d+ bytes but \d+ were saved: the model file is truncated or corrupted\.|is corrupted \(SHA-256 mismatch\)\.|could not be extracted: the model file is corrupted \(.*\)\.)$",
            LoadFailure(dir.File("corrupt.zip")).Message);

        // Without its central directory the file is not a zip at all: ML.NET says so before NoteLLM's loader runs.
        File.WriteAllBytes(dir.File("truncated.zip"), bytes[..(bytes.Length / 3)]);
        var truncated = Assert.Throws<FormatException>(() => ML.Model.Load(dir.File("truncated.zip"), out _));
        Assert.Equal("Failed to open a zip archive", truncated.Message);
        Assert.Contains("End of Central Directory record could not be found", Assert.IsType<InvalidDataException>(truncated.InnerException).Message);
    }

    // ML.NET wraps the loader's exception in a TargetInvocationException inside an InvalidOperationException
    // ("Error during class instantiation"); the cause is the InvalidDataException of NoteLLM's model reader.
    private InvalidDataException LoadFailure(string zip)
    {
        var e = Assert.Throws<InvalidOperationException>(() => ML.Model.Load(zip, out _));
        return Assert.IsType<InvalidDataException>(e.GetBaseException());
    }
}

public class HuggingFaceCheckpointFitTests
{
    [Theory]
    [InlineData("bpe")]
    [InlineData("sentencepiece")]
    public void FitsFromACheckpointFolderInHuggingFaceLayout(string tokenizerKind)
    {
        using var dir = new TempFolder();
        int vocabulary = tokenizerKind == "bpe"
            ? TokenizerFiles.WriteByteLevelBpe(dir.Path)
            : TokenizerFiles.WriteSentencePiece(Path.Combine(dir.Path, "tokenizer.model"));
        using (var pretrained = TinyModels.Create(TinyModels.Config(tokenizerKind == "bpe" ? "qwen2" : "llama", vocab: vocabulary, hidden: 32)))
            NoteLLM.MLNet.Modeling.HuggingFaceCheckpoint.Save(pretrained, dir.Path, TorchSharp.torch.ScalarType.BFloat16, maxShardBytes: 30_000);

        var ml = new MLContext(seed: 1);
        var pairs = ml.Data.LoadFromEnumerable(NoteLLMFixture.CreatePairs());
        var options = NoteLLMFixture.Options();
        options.HuggingFaceCheckpoint = dir.Path;
        using var model = ml.Transforms.NoteLLM(options).Fit(pairs);

        Assert.Equal(vocabulary + 2, model.Model.Backbone.VocabularySize); // [EMB] and padding were added
        Assert.Equal(tokenizerKind, model.Model.Tokenizer.Kind);
        var embeddings = model.Transform(pairs).GetColumn<float[]>("Embedding").ToList();
        Assert.Equal(12, embeddings.Count);
        Assert.All(embeddings, e => Assert.Equal(1.0, Math.Sqrt(e.Sum(x => (double)x * x)), 4));
    }

    [Fact]
    public void CheckpointWithoutTokenizerFilesSaysWhatIsMissing()
    {
        using var dir = new TempFolder();
        using (var pretrained = TinyModels.Create(TinyModels.Config()))
            NoteLLM.MLNet.Modeling.HuggingFaceCheckpoint.Save(pretrained, dir.Path);
        var ml = new MLContext(seed: 1);
        var options = NoteLLMFixture.Options();
        options.HuggingFaceCheckpoint = dir.Path;
        var e = Assert.Throws<FileNotFoundException>(() => ml.Transforms.NoteLLM(options).Fit(ml.Data.LoadFromEnumerable(NoteLLMFixture.CreatePairs())));
        Assert.Contains("tokenizer.model", e.Message);
    }
}

public class GenerationNotesOptionTests
{
    [Fact]
    public void GenerationNotesTrainWithThePairsAndTheirCategoriesBecomeLegal()
    {
        var ml = new MLContext(seed: 1);
        var options = NoteLLMFixture.Options();
        options.Training = options.Training! with { MaxSteps = 2, GenerationNotesPerMicroBatch = 2 };
        options.GenerationNotes = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 3).Select(i =>
            new { Title = $"extra {i}", Content = "a note in no pair", Hashtags = new[] { "tag::extra" }, Category = "onlyinnotes" }));
        var log = new List<string>();
        ml.Log += (_, e) => { lock (log) log.Add(e.Message); };
        using var model = ml.Transforms.NoteLLM(options).Fit(ml.Data.LoadFromEnumerable(NoteLLMFixture.CreatePairs()));
        Assert.Contains("onlyinnotes", model.Model.Categories);
        Assert.Contains(log, m => m.Contains("generation-only notes in 3, kept 3"));
    }

    [Fact]
    public void GenerationNotesWithoutANoteColumnAreNamedBeforeTraining()
    {
        var ml = new MLContext(seed: 1);
        var options = NoteLLMFixture.Options();
        options.GenerationNotes = ml.Data.LoadFromEnumerable(new[] { new { Title = "t", Content = "c", Hashtags = new[] { "h" } } });
        var e = Assert.ThrowsAny<ArgumentException>(() => ml.Transforms.NoteLLM(options).Fit(ml.Data.LoadFromEnumerable(NoteLLMFixture.CreatePairs())));
        Assert.Contains("NoteLLMOptions.GenerationNotes", e.Message);
        Assert.Contains("Column 'Category' not found", e.Message);
    }
}

/// <summary>
/// A generation task nothing in training taught gives an empty column, not what the untrained backbone writes after a
/// prompt it never learned (noise); Fit says so through ML.NET's log, and a saved model remembers it.
/// </summary>
public class UnlearnedGenerationTests
{
    [Theory]
    [InlineData("no categories")]
    [InlineData("no hashtags")]
    [InlineData("alpha 0")]
    public void AnUnlearnedTaskLeavesItsColumnEmptyAndFitSaysSo(string training)
    {
        var ml = new MLContext(seed: 1);
        var warnings = new List<string>();
        ml.Log += (_, e) => { if (e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Warning) lock (warnings) warnings.Add(e.Message); };
        var pairs = NoteLLMFixture.CreatePairs();
        foreach (var pair in pairs)
        {
            if (training == "no categories") (pair.Category, pair.RelatedCategory) = (null, null);
            if (training == "no hashtags") (pair.Hashtags, pair.RelatedHashtags) = ([], []);
        }
        var options = NoteLLMFixture.Options();
        options.Training = options.Training! with { MaxSteps = 2, Alpha = training == "alpha 0" ? 0 : options.Training.Alpha };
        using var model = ml.Transforms.NoteLLM(options).Fit(ml.Data.LoadFromEnumerable(pairs));
        bool categoryLearned = training == "no hashtags", hashtagsLearned = training == "no categories";

        using var dir = new TempFolder();
        var notes = NoteLLMFixture.CreatePairs().Select(p => new NoteRow { Id = p.Id, Title = p.Title, Content = p.Content, Hashtags = p.Hashtags }).ToList();
        ml.Model.Save(model, ml.Data.LoadFromEnumerable(notes).Schema, dir.File("model.zip"));
        var loaded = ml.Model.Load(dir.File("model.zip"), out _);
        foreach (var outputs in new[] { Transformed(model), Transformed(loaded) })
        {
            Assert.Equal(categoryLearned, outputs.Any(o => o.GeneratedCategory != ""));
            Assert.Equal(hashtagsLearned, outputs.Any(o => o.GeneratedHashtags.Length > 0));
            Assert.All(outputs, o => Assert.Equal(1.0, Math.Sqrt(o.Embedding.Sum(x => (double)x * x)), 4));
        }
        Assert.Equal(!categoryLearned, warnings.Any(w => w.Contains("did not learn to generate 'GeneratedCategory'")));
        Assert.Equal(!hashtagsLearned, warnings.Any(w => w.Contains("did not learn to generate 'GeneratedHashtags'")));
        (loaded as IDisposable)?.Dispose();

        List<NoteLLMOutput> Transformed(ITransformer transformer) =>
            ml.Data.CreateEnumerable<NoteLLMOutput>(transformer.Transform(ml.Data.LoadFromEnumerable(notes)), reuseRowObject: false).ToList();
    }
}

public class InitialTauTests
{
    [Fact]
    public void FitStartsTheTemperatureAtTheInitialTauOption()
    {
        var ml = new MLContext(seed: 1);
        var options = NoteLLMFixture.Options();
        // one step at a negligible learning rate: tau stays where it started
        options.Training = options.Training! with { InitialTau = 1.25, LearningRate = 1e-12, MaxSteps = 1 };
        using var model = ml.Transforms.NoteLLM(options).Fit(ml.Data.LoadFromEnumerable(NoteLLMFixture.CreatePairs()));
        Assert.Equal(1.25, model.Model.Network.Tau.item<float>(), 4);
    }
}

public class NoteLLMEvaluationTests(NoteLLMFixture fixture) : IClassFixture<NoteLLMFixture>
{
    private sealed class EvaluatedNote
    {
        public string Id { get; set; } = "";
        [VectorType(NoteLLMFixture.EmbeddingDimension)]
        public float[] Embedding { get; set; } = [];
        public string Category { get; set; } = "";
        public string GeneratedCategory { get; set; } = "";
        public string[] Hashtags { get; set; } = [];
        public string[] GeneratedHashtags { get; set; } = [];
    }

    [Fact]
    public void EvaluateFromTheCatalogReportsTheMetricsOfTheTransformedColumns()
    {
        var ml = fixture.MLContext;
        var categoryOf = fixture.Pairs.SelectMany(p => new[] { (p.Id, p.Category), (p.RelatedId, p.RelatedCategory) }).ToDictionary(x => x.Item1, x => x.Item2);
        var notes = fixture.Notes.Select(n => new { n.Id, n.Title, n.Content, n.Hashtags, Category = categoryOf[n.Id] });
        // cached: the evaluator and the check below read the same rows, generated once
        var transformed = ml.Data.Cache(fixture.Model.Transform(ml.Data.LoadFromEnumerable(notes)));
        var pairs = ml.Data.LoadFromEnumerable(fixture.Pairs.Select(p => new { p.Id, p.RelatedId }));

        // cut-offs below the corpus of 12: the default ones (10 and up) would leave almost every recall at 1
        int[] cutoffs = [1, 2, 5];
        var metrics = ml.Transforms.EvaluateNoteLLM(transformed, pairs, fixture.Model, new NoteLLMEvaluatorOptions { RecallCutoffs = cutoffs, AveragedCutoffs = cutoffs });

        // The same metrics computed here from the output columns. The pairs share no note, so all 12 are queries
        // and the corpus is the 12 related notes; the ground truth's rank is one more than the related notes that
        // score higher (embeddings are unit length, so the dot product is the cosine).
        var rows = ml.Data.CreateEnumerable<EvaluatedNote>(transformed, reuseRowObject: false).ToDictionary(r => r.Id);
        var corpus = fixture.Pairs.Select(p => rows[p.RelatedId].Embedding).ToList();
        static double Dot(float[] a, float[] b) => a.Zip(b, (x, y) => (double)x * y).Sum();
        var ranks = fixture.Pairs.Select(p =>
        {
            var query = rows[p.Id].Embedding;
            double truth = Dot(query, rows[p.RelatedId].Embedding);
            return 1 + corpus.Count(c => Dot(query, c) > truth);
        }).ToList();
        Assert.Equal(12, metrics.Recall.QueryCount);
        Assert.Equal(12, metrics.Recall.CorpusSize);
        var recall = cutoffs.Select(k => ranks.Count(r => r <= k) / 12.0).ToArray();
        Assert.Equal(recall, metrics.Recall.Recall.ToArray());
        Assert.Equal(recall.Average(), metrics.Recall.Average, 12);

        // illegal = not one of the categories the model was trained on
        var all = rows.Values.ToList();
        Assert.Equal(24, metrics.Category!.NoteCount);
        Assert.Equal(all.Count(r => r.GeneratedCategory.Trim() == r.Category) / 24.0, metrics.Category.Accuracy, 12);
        Assert.Equal(all.Count(r => !fixture.Model.Categories.Contains(r.GeneratedCategory.Trim())) / 24.0, metrics.Category.IllegalRate, 12);

        var hashtags = NoteLLMEvaluator.EvaluateHashtags(all.Select(r => (IReadOnlyList<string>)r.Hashtags).ToList(), all.Select(r => (IReadOnlyList<string>)r.GeneratedHashtags).ToList());
        Assert.Equal(24, metrics.Hashtags!.NoteCount);
        Assert.Equal(hashtags.Bleu4, metrics.Hashtags.Bleu4, 12);
        Assert.Equal(hashtags.Rouge1F1, metrics.Hashtags.Rouge1F1, 12);
        Assert.Equal(hashtags.Rouge2F1, metrics.Hashtags.Rouge2F1, 12);
        Assert.Equal(hashtags.RougeLF1, metrics.Hashtags.RougeLF1, 12);
    }

    private sealed class HandMadeNote
    {
        public string Id { get; set; } = "";
        [VectorType(2)]
        public float[] Embedding { get; set; } = [];
        public string Category { get; set; } = "";
        public string GeneratedCategory { get; set; } = "";
    }

    [Fact]
    public void EvaluateFromTheCatalogTakesTheLegalCategoriesFromTheModel()
    {
        // The fitted model knows games, science, editors and networking; these notes' ground truths are only games
        // and science, so "editors" is legal by the model and would be illegal by the notes' own categories.
        var ml = fixture.MLContext;
        var notes = ml.Data.LoadFromEnumerable(new HandMadeNote[]
        {
            new() { Id = "a", Embedding = [1, 0], Category = "games", GeneratedCategory = "games" },
            new() { Id = "b", Embedding = [0.6f, 0.8f], Category = "games", GeneratedCategory = "editors" },
            new() { Id = "c", Embedding = [1, 0], Category = "science", GeneratedCategory = "cooking" },
            new() { Id = "d", Embedding = [0.8f, 0.6f], Category = "science", GeneratedCategory = "science" },
        });
        var pairs = ml.Data.LoadFromEnumerable(new[] { new { Id = "a", RelatedId = "b" }, new { Id = "c", RelatedId = "d" } });
        NoteLLMEvaluatorOptions Options() => new() { RecallCutoffs = [1, 2], AveragedCutoffs = [1, 2] };

        var metrics = ml.Transforms.EvaluateNoteLLM(notes, pairs, fixture.Model, Options());

        // Queries a and c, corpus b and d. a scores b 0.6, d 0.8: its truth b ranks 2nd; c scores d 0.8 > b 0.6: 1st.
        Assert.Equal([0.5, 1.0], metrics.Recall.Recall.ToArray());
        Assert.Equal(0.75, metrics.Recall.Average, 12);
        // a and d right; only c's "cooking" is outside the model's categories
        Assert.Equal(4, metrics.Category!.NoteCount);
        Assert.Equal(0.5, metrics.Category.Accuracy, 12);
        Assert.Equal(0.25, metrics.Category.IllegalRate, 12);
        Assert.Null(metrics.Hashtags);

        // legal categories given in the options win over the model's: b's editors, c's cooking and d's science
        var options = Options();
        options.LegalCategories = ["games"];
        Assert.Equal(0.75, ml.Transforms.EvaluateNoteLLM(notes, pairs, fixture.Model, options).Category!.IllegalRate, 12);
    }
}

public class TransformCancellationTests(NoteLLMFixture fixture) : IClassFixture<NoteLLMFixture>
{
    [Fact]
    public void CancelExecutionStopsATransformWithinOneBatch()
    {
        using var dir = new TempFolder();
        var notes = Enumerable.Repeat(fixture.Notes, 10).SelectMany(n => n).ToList(); // 480 notes, 60 batches of 8
        fixture.MLContext.Model.Save(fixture.Model, fixture.MLContext.Data.LoadFromEnumerable(notes).Schema, dir.File("model.zip"));
        var ml = new MLContext(seed: 1);
        var model = ml.Model.Load(dir.File("model.zip"), out _);
        var output = model.Transform(ml.Data.LoadFromEnumerable(notes));
        using var cursor = output.GetRowCursor(output.Schema.Where(c => c.Name == "Embedding"));
        var embedding = cursor.GetGetter<VBuffer<float>>(output.Schema["Embedding"]);
        VBuffer<float> value = default;
        int rows = 0;
        Assert.Throws<OperationCanceledException>(() =>
        {
            while (cursor.MoveNext())
            {
                embedding(ref value);
                if (++rows == 3) ml.CancelExecution();
            }
        });
        Assert.Equal(8, rows); // the rest of the computed batch (InferenceBatchSize 8) is read, the next is never computed
        (model as IDisposable)?.Dispose();
    }
}

public class FitCancellationTests
{
    private static NoteLLMOptions Options(string? checkpoints, Action<TrainingProgress>? progress = null)
    {
        var options = NoteLLMFixture.Options();
        options.Training = options.Training! with { CheckpointDirectory = checkpoints, CheckpointEverySteps = 100, LogEverySteps = 1 };
        if (progress is not null) options.Progress = new SynchronousProgress(progress);
        return options;
    }

    [Fact]
    public void CancelExecutionStopsFitWithinAStepAndItsCheckpointResumesBitExactly()
    {
        var pairs = NoteLLMFixture.CreatePairs();
        var ml = new MLContext(seed: 3);
        using var uninterrupted = ml.Transforms.NoteLLM(Options(null)).Fit(ml.Data.LoadFromEnumerable(pairs));

        using var dir = new TempFolder();
        var cancelled = new MLContext(seed: 3);
        var steps = new List<int>();
        var estimator = cancelled.Transforms.NoteLLM(Options(dir.Path, p => { steps.Add(p.Step); if (p.Step == 4) cancelled.CancelExecution(); }));
        Assert.Throws<OperationCanceledException>(() => estimator.Fit(cancelled.Data.LoadFromEnumerable(pairs)));
        Assert.Equal([1, 2, 3, 4], steps); // stopped before step 5

        var again = new MLContext(seed: 3);
        var log = new List<string>();
        again.Log += (_, e) => { lock (log) log.Add(e.Message); };
        using var resumed = again.Transforms.NoteLLM(Options(dir.Path)).Fit(again.Data.LoadFromEnumerable(pairs));
        Assert.Contains(log, m => m.Contains("at step 4"));
        TinyModels.AssertIdenticalWeights(uninterrupted.Model.Network, resumed.Model.Network, "the uninterrupted and the resumed fit");
    }
}
