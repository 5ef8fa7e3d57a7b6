using NoteLLM.MLNet.Evaluation;

namespace NoteLLM.MLNet.Tests.Evaluation;

public class TextOverlapTests
{
    private static string[] Words(string text) => text.Split(' ');

    // NLTK's bleu_score documentation example (hypothesis1 / reference1); its docstring prints 0.4118... for
    // sentence_bleu([reference1], hypothesis1) with and without chencherry.method1 (every n-gram order matches).
    // Full-precision values below from NLTK 3.8 (Debian python3-nltk):
    //   sentence_bleu([r1], h1, smoothing_function=SmoothingFunction().method1) == 0.41180376356915777
    //   sentence_bleu([r1], h2, smoothing_function=SmoothingFunction().method1) == 0.03446151880350207
    private const string Reference1 = "It is a guide to action that ensures that the military will forever heed Party commands";
    private const string Hypothesis1 = "It is a guide to action which ensures that the military always obeys the commands of the party";
    private const string Hypothesis2 = "It is to insure the troops forever hearing the activity guidebook that party direct";

    [Fact]
    public void Bleu4MatchesNltkWithChenCherryMethod1()
    {
        Assert.Equal(0.41180376356915777, TextOverlap.SentenceBleu4(Words(Reference1), Words(Hypothesis1)), 12);
        // No 3- or 4-gram matches: this value depends on the smoothing.
        Assert.Equal(0.03446151880350207, TextOverlap.SentenceBleu4(Words(Reference1), Words(Hypothesis2)), 12);
    }

    [Fact]
    public void Bleu4HandComputedShortHypothesis()
    {
        // p1 = 2/2, p2 = 1/1, p3 = p4 = 0.1/1 (smoothed, no trigram at all), BP = exp(1 - 3/2):
        // exp(1 - 1.5) * (1 * 1 * 0.1 * 0.1)^(1/4) = 0.19180183554164504 (NLTK 3.8 agrees).
        double expected = Math.Exp(-0.5) * Math.Pow(0.01, 0.25);
        Assert.Equal(expected, TextOverlap.SentenceBleu4(new[] { "linux", "kernel", "drivers" }, new[] { "linux", "kernel" }), 12);
        Assert.Equal(0.19180183554164504, expected, 12);
    }

    [Fact]
    public void Bleu4EdgeCases()
    {
        var reference = new[] { "a", "b", "c", "d", "e" };
        Assert.Equal(1.0, TextOverlap.SentenceBleu4(reference, reference), 12);
        Assert.Equal(0.0, TextOverlap.SentenceBleu4(reference, Array.Empty<string>()));
        Assert.Equal(0.0, TextOverlap.SentenceBleu4(reference, new[] { "x", "y" }));
        // Clipping: "a a a a" matches reference "a" once per unigram order; no bigram matches.
        double clipped = TextOverlap.SentenceBleu4(new[] { "a" }, new[] { "a", "a", "a", "a" });
        Assert.Equal(Math.Pow(0.25 * (0.1 / 3) * (0.1 / 2) * (0.1 / 1), 0.25), clipped, 12);
    }

    // torchmetrics' ROUGEScore docstring (which wraps the rouge-score algorithm):
    // preds "My name is John", target "Is your name John" -> rouge1 0.75, rouge2 0, rougeL 0.5 (F-measure).
    [Fact]
    public void RougeMatchesTorchmetricsDocumentation()
    {
        var prediction = HashtagTokenizer.Tokenize(new[] { "My name is John" });
        var target = HashtagTokenizer.Tokenize(new[] { "Is your name John" });
        Assert.Equal(0.75, TextOverlap.RougeN(target, prediction, 1), 12);
        Assert.Equal(0.0, TextOverlap.RougeN(target, prediction, 2), 12);
        Assert.Equal(0.5, TextOverlap.RougeL(target, prediction), 12);
    }

    // rouge-score's sample: scorer.score('The quick brown fox jumps over the lazy dog', 'The quick brown dog jumps on the log.')
    // -> rouge1 F 0.7058823529411765 (6 of 9 and 8 unigrams), rouge2 F 0.26666666666666666 (2 of 8 and 7 bigrams),
    //    rougeL F 0.5882352941176471 (LCS "the quick brown jumps the" = 5).
    [Fact]
    public void RougeMatchesRougeScoreSample()
    {
        var target = HashtagTokenizer.Tokenize(new[] { "The quick brown fox jumps over the lazy dog" });
        var prediction = HashtagTokenizer.Tokenize(new[] { "The quick brown dog jumps on the log." });
        Assert.Equal(12.0 / 17, TextOverlap.RougeN(target, prediction, 1), 12);
        Assert.Equal(0.7058823529411765, TextOverlap.RougeN(target, prediction, 1), 12);
        Assert.Equal(0.26666666666666666, TextOverlap.RougeN(target, prediction, 2), 12);
        Assert.Equal(0.5882352941176471, TextOverlap.RougeL(target, prediction), 12);
    }

    [Fact]
    public void RougeIsZeroForEmptySides()
    {
        var tokens = new[] { "a", "b" };
        Assert.Equal(0.0, TextOverlap.RougeN(tokens, Array.Empty<string>(), 1));
        Assert.Equal(0.0, TextOverlap.RougeN(Array.Empty<string>(), tokens, 1));
        Assert.Equal(0.0, TextOverlap.RougeL(tokens, Array.Empty<string>()));
        Assert.Equal(0.0, TextOverlap.RougeN(new[] { "a" }, new[] { "a" }, 2)); // no bigrams on either side
        Assert.Equal(1.0, TextOverlap.RougeL(tokens, tokens));
    }

    [Fact]
    public void TokenizerLowerCasesAndSplitsOnNonAlphanumerics()
    {
        Assert.Equal(new[] { "machine", "learning", "c", "数据", "分析", "python3" },
            HashtagTokenizer.Tokenize(new[] { "#Machine-Learning", "C++", "数据 分析", " ", "", "#Python3" }));
        Assert.Empty(HashtagTokenizer.Tokenize(Array.Empty<string>()));
    }
}
