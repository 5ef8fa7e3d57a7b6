using System.Globalization;

namespace NoteLLM.MLNet.Evaluation;

/// <summary>
/// Turns a note's hashtags into the token sequence BLEU and ROUGE compare (paper section 4.1).
/// </summary>
/// <remarks>
/// The hashtags are joined in order with a space, lower-cased (invariant culture) and split into maximal runs of
/// letters and digits; everything else ('#', '-', '_', '.', spaces, emoji) separates tokens and is dropped.
/// This is rouge-score's default tokenizer (lower-case, non-alphanumerics become spaces) widened from ASCII
/// to every Unicode letter and digit, so "#Machine-Learning" and "machine learning" score as equal.
/// </remarks>
public static class HashtagTokenizer
{
    /// <summary>The tokens of a list of hashtags.</summary>
    public static IReadOnlyList<string> Tokenize(IEnumerable<string> hashtags)
    {
        ArgumentNullException.ThrowIfNull(hashtags);
        var tokens = new List<string>();
        foreach (string hashtag in hashtags)
        {
            if (string.IsNullOrEmpty(hashtag)) continue;
            string lower = hashtag.ToLower(CultureInfo.InvariantCulture);
            int start = -1;
            for (int i = 0; i <= lower.Length; i++)
            {
                bool inToken = i < lower.Length && char.IsLetterOrDigit(lower[i]);
                if (inToken && start < 0) start = i;
                else if (!inToken && start >= 0)
                {
                    tokens.Add(lower[start..i]);
                    start = -1;
                }
            }
        }
        return tokens;
    }
}
