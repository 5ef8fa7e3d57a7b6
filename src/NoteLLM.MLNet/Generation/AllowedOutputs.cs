namespace NoteLLM.MLNet.Generation;

/// <summary>
/// A closed set of outputs that constrained decoding may produce, such as the categories seen in training, as a
/// prefix tree of their token sequences (the decoding constraint of Hugging Face's <c>prefix_allowed_tokens_fn</c>
/// and of GENRE, De Cao et al. 2021). At each step the decoder keeps only the tokens that extend the row's output
/// towards one of the set, and allows EOS once the output is complete, so every decoded output is a member.
/// </summary>
public sealed class AllowedOutputs
{
    private sealed class Node
    {
        public readonly Dictionary<int, Node> Children = [];
        public string? Output; // set where a member's token sequence ends
    }

    private readonly Node root = new();

    /// <param name="outputs">the members (duplicates and blank strings are ignored)</param>
    /// <param name="encode">the tokens a member is generated as: exactly what training puts after the prompt, before EOS</param>
    public AllowedOutputs(IEnumerable<string> outputs, Func<string, IReadOnlyList<int>> encode)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        ArgumentNullException.ThrowIfNull(encode);
        foreach (var output in outputs.Where(o => !string.IsNullOrWhiteSpace(o)).Distinct(StringComparer.Ordinal))
        {
            var tokens = encode(output);
            if (tokens.Count == 0) continue; // nothing to generate; an empty output is never a member
            var node = root;
            foreach (int token in tokens)
            {
                if (!node.Children.TryGetValue(token, out var child)) node.Children[token] = child = new Node();
                node = child;
            }
            node.Output ??= output; // two members with the same tokens: the first wins
            Count++;
            LongestLength = Math.Max(LongestLength, tokens.Count);
        }
    }

    /// <summary>Members with a token sequence.</summary>
    public int Count { get; }

    /// <summary>Tokens of the longest member (EOS not counted).</summary>
    public int LongestLength { get; }

    /// <summary>The tokens that may follow <paramref name="prefix"/>, and whether the prefix is a whole member (EOS allowed).</summary>
    /// <exception cref="ArgumentException">the prefix leads to no member.</exception>
    public (IReadOnlyCollection<int> Tokens, bool CanEnd) Next(IReadOnlyList<int> prefix)
    {
        var node = Find(prefix) ?? throw new ArgumentException("The tokens generated so far lead to no allowed output.", nameof(prefix));
        return (node.Children.Keys, node.Output is not null);
    }

    /// <summary>The member whose tokens are exactly <paramref name="tokens"/>, or null.</summary>
    public string? OutputOf(IReadOnlyList<int> tokens) => Find(tokens)?.Output;

    private Node? Find(IReadOnlyList<int> tokens)
    {
        var node = root;
        foreach (int token in tokens)
            if (!node.Children.TryGetValue(token, out node)) return null;
        return node;
    }
}
