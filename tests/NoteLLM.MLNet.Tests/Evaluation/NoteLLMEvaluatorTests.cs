using Microsoft.ML;
using Microsoft.ML.Data;
using NoteLLM.MLNet.Evaluation;

namespace NoteLLM.MLNet.Tests.Evaluation;

public class NoteLLMEvaluatorTests
{
    private sealed class Note
    {
        public string Id { get; set; } = "";
        [VectorType(2)] public float[] Embedding { get; set; } = Array.Empty<float>();
        public string Category { get; set; } = "";
        public string GeneratedCategory { get; set; } = "";
        public string[] Hashtags { get; set; } = Array.Empty<string>();
        public string[] GeneratedHashtags { get; set; } = Array.Empty<string>();
        public bool HighExposure { get; set; }
    }

    private sealed class Pair
    {
        public string Id { get; set; } = "";
        public string RelatedId { get; set; } = "";
    }

    // Test pairs in order: (b,c), (a,f), (e,i) are dropped because a note of theirs was in an earlier kept pair.
    private static readonly (string, string)[] Pairs = { ("a", "b"), ("b", "c"), ("d", "e"), ("a", "f"), ("g", "h"), ("e", "i") };

    // Queries a, d, g; corpus = b, c, e, f, h, i (test-note order). b and h have identical embeddings (a tie).
    //   a = (1,0):  scores b .6, c 1, e .8, f 0, h .6, i -1 -> truth b: c, e ahead; h ties but comes later -> rank 3
    //   d = (0,1):  scores b .8, c 0, e .6, f 1, h .8, i 0  -> truth e: f, b, h ahead -> rank 4
    //   g = (0,1):  same scores -> truth h: f ahead, b ties and comes earlier -> rank 3
    private static Note[] Notes() => new[]
    {
        new Note { Id = "a", Embedding = new[] { 1f, 0f }, HighExposure = true },
        new Note { Id = "b", Embedding = new[] { 0.6f, 0.8f } },
        new Note { Id = "c", Embedding = new[] { 1f, 0f } },
        new Note { Id = "d", Embedding = new[] { 0f, 2f } }, // not normalised: the evaluator normalises
        new Note { Id = "e", Embedding = new[] { 0.8f, 0.6f } },
        new Note { Id = "f", Embedding = new[] { 0f, 1f } },
        new Note { Id = "g", Embedding = new[] { 0f, 1f }, HighExposure = true },
        new Note { Id = "h", Embedding = new[] { 0.6f, 0.8f } },
        new Note { Id = "i", Embedding = new[] { -1f, 0f } },
    };

    [Fact]
    public void DeduplicationKeepsPairsWhoseNotesWereNotSeenBefore()
    {
        Assert.Equal(new[] { ("a", "b"), ("d", "e"), ("g", "h") }, I2IRecall.SelectQueries(Pairs));
    }

    [Fact]
    public void ANotePairedWithItselfIsNoQuery()
    {
        // (a, a) would make a both the query, which leaves the corpus, and its own ground truth.
        var pairs = new[] { ("a", "a"), ("a", "b"), ("d", "d") };
        Assert.Equal(new[] { ("a", "b") }, I2IRecall.SelectQueries(pairs));

        var context = new MLContext(seed: 1);
        var metrics = NoteLLMEvaluator.Evaluate(context.Data.LoadFromEnumerable(Notes()), pairs);
        Assert.Equal(1, metrics.Recall.QueryCount);
    }

    [Fact]
    public void AGroundTruthThatIsAlsoAQueryIsNamed()
    {
        var notes = Notes();
        var error = Assert.Throws<ArgumentException>(() => I2IRecall.GroundTruthRanks(notes.Select(n => n.Id).ToArray(),
            notes.Select(n => n.Embedding).ToArray(), new[] { ("a", "b"), ("b", "c") }, out _));
        Assert.Contains("pair 0: the ground truth note 'b' is also a query", error.Message);
    }

    [Fact]
    public void MeanRandomPairCosineCountsAZeroVectorAsNoSimilarityAndRefusesWhatItCannotScore()
    {
        // a note without a known word gets TF-IDF's zero vector: the pairs with it score 0, not NaN
        var embeddings = new[] { new[] { 1f, 0f }, new[] { 1f, 0f }, new[] { 0f, 0f } };
        double mean = NoteLLMEvaluator.MeanRandomPairCosine(embeddings, pairs: 600);
        Assert.True(mean > 0.2 && mean < 0.5, $"mean {mean}: a third of the pairs score 1, the rest 0");

        Assert.Throws<ArgumentOutOfRangeException>(() => NoteLLMEvaluator.MeanRandomPairCosine(embeddings, pairs: 0));
        Assert.Contains("embedding 1 has 3 values",
            Assert.Throws<ArgumentException>(() => NoteLLMEvaluator.MeanRandomPairCosine(new[] { new[] { 1f, 0f }, new[] { 1f, 0f, 0f } })).Message);
        Assert.Contains("embedding 0 holds NaN",
            Assert.Throws<ArgumentException>(() => NoteLLMEvaluator.MeanRandomPairCosine(new[] { new[] { float.NaN, 0f }, new[] { 1f, 0f } })).Message);
    }

    [Fact]
    public void RanksFollowTheProtocolWithStableTies()
    {
        var notes = Notes();
        var ranks = I2IRecall.GroundTruthRanks(notes.Select(n => n.Id).ToArray(), notes.Select(n => n.Embedding).ToArray(),
            I2IRecall.SelectQueries(Pairs), out int corpusSize);

        Assert.Equal(6, corpusSize);
        Assert.Equal(new[] { 3, 4, 3 }, ranks);
        // k larger than the corpus is capped to it, so every ground truth is found.
        Assert.Equal(new[] { 0.0, 2 / 3.0, 1.0, 1.0 }, I2IRecall.RecallAt(ranks, corpusSize, new[] { 1, 3, 6, 100_000 }));
    }

    [Fact]
    public void EvaluateComputesEveryMetricFromTheDataView()
    {
        var notes = Notes();
        // Categories: 4 notes with a ground truth (c has none); a correct; d wrong but legal; g illegal; h empty (illegal).
        notes[0].Category = "dev"; notes[0].GeneratedCategory = "dev";
        notes[3].Category = "games"; notes[3].GeneratedCategory = " dev ";
        notes[6].Category = "dev"; notes[6].GeneratedCategory = "cooking";
        notes[7].Category = "games"; notes[7].GeneratedCategory = "";
        // Hashtags: a perfect, b no output; every other note has no reference hashtags and is not scored.
        notes[0].Hashtags = new[] { "#Linux", "#Kernel" }; notes[0].GeneratedHashtags = new[] { "linux", "kernel" };
        notes[1].Hashtags = new[] { "#Games" };
        var context = new MLContext(seed: 1);
        var data = context.Data.LoadFromEnumerable(notes);
        var pairs = context.Data.LoadFromEnumerable(Pairs.Select(p => new Pair { Id = p.Item1, RelatedId = p.Item2 }));

        var metrics = NoteLLMEvaluator.Evaluate(data, pairs, new NoteLLMEvaluatorOptions
        {
            HighExposureColumnName = "HighExposure",
            RecallCutoffs = new[] { 1, 3, 10 },
            AveragedCutoffs = new[] { 3, 10 },
        });

        Assert.Equal(6, metrics.TestPairCount);
        Assert.Equal(3, metrics.Recall.QueryCount);
        Assert.Equal(new[] { 0.0, 2 / 3.0, 1.0 }, metrics.Recall.Recall);
        Assert.Equal((2 / 3.0 + 1.0) / 2, metrics.Recall.Average, 12);
        Assert.Equal(2 / 3.0, metrics.Recall.RecallAt(3), 12);
        Assert.Equal(1, metrics.LowExposureRecall!.QueryCount); // d, rank 4
        Assert.Equal(new[] { 0.0, 0.0, 1.0 }, metrics.LowExposureRecall.Recall);
        Assert.Equal(new[] { 0.0, 1.0, 1.0 }, metrics.HighExposureRecall!.Recall); // a and g, rank 3
        Assert.Equal(4, metrics.Category!.NoteCount);
        Assert.Equal(0.25, metrics.Category.Accuracy, 12);
        Assert.Equal(0.5, metrics.Category.IllegalRate, 12);
        Assert.Equal(2, metrics.Hashtags!.NoteCount);
        Assert.Equal(0.5, metrics.Hashtags.Rouge1F1, 12);
        Assert.Equal(0.5, metrics.Hashtags.RougeLF1, 12);
        Assert.Equal(0.5, metrics.Hashtags.Rouge2F1, 12);
        // a: 2 tokens match exactly, but there is no 3- or 4-gram, so both get the smoothed 0.1/1: (1*1*0.1*0.1)^(1/4); b: 0.
        Assert.Equal((Math.Pow(0.1 * 0.1, 0.25) + 0) / 2, metrics.Hashtags.Bleu4, 12);
        string table = metrics.ToTable();
        Assert.Contains("| all (3) | 0.00 | 66.67 | 100.00 | 83.33 |", table);
        Assert.Contains("| low exposure (1) |", table);
        Assert.Contains("accuracy 25.00, illegal 50.00", table);
    }

    [Fact]
    public void CategoryIllegalRateUsesTheGivenLegalSet()
    {
        var metrics = NoteLLMEvaluator.EvaluateCategories(new[] { "x", "y", null }, new[] { "x", "z", "x" }, new[] { "y" });
        Assert.Equal(2, metrics.NoteCount);
        Assert.Equal(0.5, metrics.Accuracy, 12);
        Assert.Equal(1.0, metrics.IllegalRate, 12);
        Assert.Equal(0, NoteLLMEvaluator.EvaluateCategories(new string?[] { "" }, new string?[] { "x" }).NoteCount);
    }

    [Fact]
    public void MetricsWithoutOptionalColumnsAreNull()
    {
        var context = new MLContext(seed: 1);
        var data = context.Data.LoadFromEnumerable(Notes().Select(n => new IdAndEmbedding { Id = n.Id, Embedding = n.Embedding }));
        var metrics = NoteLLMEvaluator.Evaluate(data, Pairs);
        Assert.Null(metrics.Category);
        Assert.Null(metrics.Hashtags);
        Assert.Null(metrics.LowExposureRecall);
        // Default cut-offs, all above the corpus of 6: every recall is 1.
        Assert.All(metrics.Recall.Recall, r => Assert.Equal(1.0, r));
        Assert.Equal(1.0, metrics.Recall.Average);
    }

    private sealed class IdAndEmbedding
    {
        public string Id { get; set; } = "";
        [VectorType(2)] public float[] Embedding { get; set; } = Array.Empty<float>();
    }

    [Fact]
    public void BadInputGetsASpecificError()
    {
        var context = new MLContext(seed: 1);
        var data = context.Data.LoadFromEnumerable(Notes());
        var missing = Assert.Throws<ArgumentException>(() => NoteLLMEvaluator.Evaluate(data, new[] { ("a", "zz") }));
        Assert.Contains("'zz'", missing.Message);
        var noColumn = Assert.Throws<ArgumentException>(() =>
            NoteLLMEvaluator.Evaluate(data, Pairs, new NoteLLMEvaluatorOptions { EmbeddingColumnName = "Vector" }));
        Assert.Contains("'Vector'", noColumn.Message);
        var wrongType = Assert.Throws<ArgumentException>(() =>
            NoteLLMEvaluator.Evaluate(data, Pairs, new NoteLLMEvaluatorOptions { EmbeddingColumnName = "Category" }));
        Assert.Contains("expected a vector of Single", wrongType.Message);
        var empty = NoteLLMEvaluator.Evaluate(data, Array.Empty<(string, string)>());
        Assert.Equal(0, empty.Recall.QueryCount);
        Assert.All(empty.Recall.Recall, r => Assert.Equal(0.0, r));
    }
}
