namespace NoteLLM.MLNet.Evaluation;

/// <summary>
/// Sentence-level BLEU-4 and ROUGE-1/2/L F1 between one generated token sequence and one reference
/// (paper section 4.1: hashtag quality, averaged over notes by <see cref="NoteLLMEvaluator"/>).
/// </summary>
public static class TextOverlap
{
    /// <summary>Numerator added to an n-gram precision with no match: Chen and Cherry's smoothing method 1.</summary>
    public const double BleuSmoothingEpsilon = 0.1;

    /// <summary>
    /// Sentence BLEU-4 (Papineni et al. 2002): geometric mean of the clipped 1- to 4-gram precisions with uniform
    /// weights, times the brevity penalty exp(1 - r/c) when the hypothesis (length c) is shorter than the reference
    /// (length r).
    /// </summary>
    /// <remarks>
    /// Smoothing: Chen and Cherry (2014) method 1, as NLTK's <c>SmoothingFunction().method1</c>: an n-gram order with
    /// no match gets precision 0.1 / (number of hypothesis n-grams, at least 1) instead of 0. Without smoothing a
    /// note's BLEU-4 is 0 whenever no 4-gram matches, which is the rule rather than the exception for five
    /// hashtags, so unsmoothed sentence BLEU would hide every difference between models; method 1 is the
    /// smallest change that keeps the score defined and is the one NLTK documents and most papers cite.
    /// As in NLTK, a hypothesis with no matching unigram (including an empty one) scores 0.
    /// </remarks>
    public static double SentenceBleu4(IReadOnlyList<string> reference, IReadOnlyList<string> hypothesis)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(hypothesis);
        if (hypothesis.Count == 0) return 0;
        double logSum = 0;
        for (int n = 1; n <= 4; n++)
        {
            var (matches, total) = ClippedMatches(reference, hypothesis, n);
            if (n == 1 && matches == 0) return 0;
            int denominator = Math.Max(1, total);
            double precision = matches == 0 ? BleuSmoothingEpsilon / denominator : (double)matches / denominator;
            logSum += 0.25 * Math.Log(precision);
        }
        double c = hypothesis.Count, r = reference.Count;
        double brevityPenalty = c > r ? 1 : Math.Exp(1 - r / c);
        return brevityPenalty * Math.Exp(logSum);
    }

    /// <summary>
    /// ROUGE-N F1 (Lin 2004, as Google's rouge-score computes it): clipped n-gram overlap over the hypothesis
    /// n-grams (precision) and over the reference n-grams (recall), combined as 2PR/(P+R); 0 when either side has no n-grams.
    /// </summary>
    public static double RougeN(IReadOnlyList<string> reference, IReadOnlyList<string> hypothesis, int n)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(hypothesis);
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), n, "must be at least 1");
        var (matches, hypothesisCount) = ClippedMatches(reference, hypothesis, n);
        int referenceCount = Math.Max(0, reference.Count - n + 1);
        return F1(matches, hypothesisCount, referenceCount);
    }

    /// <summary>
    /// ROUGE-L F1: longest common subsequence length over the hypothesis length (precision) and over the reference
    /// length (recall), combined as 2PR/(P+R); 0 when either side is empty.
    /// </summary>
    public static double RougeL(IReadOnlyList<string> reference, IReadOnlyList<string> hypothesis)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(hypothesis);
        // Dynamic programme over one row at a time: lcs[j] = LCS of reference[..i] and hypothesis[..j].
        var lcs = new int[hypothesis.Count + 1];
        for (int i = 1; i <= reference.Count; i++)
        {
            int diagonal = 0;
            for (int j = 1; j <= hypothesis.Count; j++)
            {
                int above = lcs[j];
                lcs[j] = string.Equals(reference[i - 1], hypothesis[j - 1], StringComparison.Ordinal)
                    ? diagonal + 1
                    : Math.Max(lcs[j], lcs[j - 1]);
                diagonal = above;
            }
        }
        return F1(lcs[hypothesis.Count], hypothesis.Count, reference.Count);
    }

    private static double F1(int overlap, int hypothesisCount, int referenceCount)
    {
        if (overlap == 0 || hypothesisCount == 0 || referenceCount == 0) return 0;
        double precision = (double)overlap / hypothesisCount, recall = (double)overlap / referenceCount;
        return 2 * precision * recall / (precision + recall);
    }

    // Hypothesis n-grams that also occur in the reference, each counted at most as often as the reference has it.
    private static (int Matches, int HypothesisNgrams) ClippedMatches(IReadOnlyList<string> reference, IReadOnlyList<string> hypothesis, int n)
    {
        var referenceCounts = Ngrams(reference, n);
        int matches = 0, total = 0;
        foreach (var (gram, count) in Ngrams(hypothesis, n))
        {
            total += count;
            if (referenceCounts.TryGetValue(gram, out int available)) matches += Math.Min(count, available);
        }
        return (matches, total);
    }

    private static Dictionary<string, int> Ngrams(IReadOnlyList<string> tokens, int n)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i + n <= tokens.Count; i++)
        {
            // Length-prefixed tokens make the key unambiguous whatever characters the tokens hold.
            string gram = string.Concat(Enumerable.Range(i, n).Select(j => $"{tokens[j].Length}:{tokens[j]}"));
            counts[gram] = counts.GetValueOrDefault(gram) + 1;
        }
        return counts;
    }
}
