using TorchSharp;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Evaluation;

/// <summary>
/// Item-to-item recall with the NoteLLM authors' protocol (paper section 4.1, their <c>eval_recall</c>).
/// </summary>
/// <remarks>
/// <list type="number">
/// <item>Walk the test pairs in order; keep a pair only if neither note appeared in an earlier kept pair (and the two
/// notes differ). The first note is the query, the second its single ground truth.</item>
/// <item>Corpus = every test note minus every query note (so a ground truth is always in the corpus).</item>
/// <item>Rank the corpus by the dot product of L2-normalised embeddings; Recall@k = share of queries whose ground
/// truth ranks within the top min(k, corpus size).</item>
/// </list>
/// Ties: a corpus note with exactly the ground truth's score ranks ahead of it when it comes earlier in the
/// corpus (test-note order), i.e. a stable sort by descending score.
/// </remarks>
public static class I2IRecall
{
    /// <summary>The paper's cut-offs (k = 10 is extra; the paper's average uses the other four).</summary>
    public static readonly IReadOnlyList<int> DefaultCutoffs = new[] { 10, 100, 1_000, 10_000, 100_000 };

    /// <summary>The query/ground-truth pairs the protocol keeps, in order.</summary>
    public static IReadOnlyList<(string Query, string GroundTruth)> SelectQueries(IEnumerable<(string Id, string RelatedId)> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var kept = new List<(string, string)>();
        foreach (var (id, related) in pairs)
        {
            // A note paired with itself has no other note to find, and would stand as both query and ground truth.
            if (string.Equals(id, related, StringComparison.Ordinal) || seen.Contains(id) || seen.Contains(related)) continue;
            seen.Add(id);
            seen.Add(related);
            kept.Add((id, related));
        }
        return kept;
    }

    /// <summary>
    /// The 1-based rank of each kept query's ground truth in the corpus (see the remarks for the protocol and ties).
    /// </summary>
    /// <param name="ids">The test notes' ids, unique.</param>
    /// <param name="embeddings">The test notes' embeddings, same order and length; normalised here.</param>
    /// <param name="queries">Kept pairs from <see cref="SelectQueries"/>; both notes must be among <paramref name="ids"/>.</param>
    /// <param name="corpusSize">The number of corpus notes.</param>
    public static int[] GroundTruthRanks(IReadOnlyList<string> ids, IReadOnlyList<float[]> embeddings,
        IReadOnlyList<(string Query, string GroundTruth)> queries, out int corpusSize)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(embeddings);
        ArgumentNullException.ThrowIfNull(queries);
        if (ids.Count != embeddings.Count) throw new ArgumentException($"{ids.Count} ids but {embeddings.Count} embeddings");
        var rowOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < ids.Count; i++)
            if (!rowOf.TryAdd(ids[i], i)) throw new ArgumentException($"test note id '{ids[i]}' appears twice (rows {rowOf[ids[i]]} and {i})");

        var queryNotes = new HashSet<string>(queries.Select(q => q.Query), StringComparer.Ordinal);
        var corpusRows = Enumerable.Range(0, ids.Count).Where(i => !queryNotes.Contains(ids[i])).ToArray();
        var corpusIndexOfRow = new Dictionary<int, int>();
        for (int c = 0; c < corpusRows.Length; c++) corpusIndexOfRow[corpusRows[c]] = c;
        corpusSize = corpusRows.Length;
        if (queries.Count == 0) return Array.Empty<int>();

        int dimensions = embeddings[0]?.Length ?? 0;
        var queryRows = new int[queries.Count];
        var truthCorpusIndex = new long[queries.Count];
        for (int q = 0; q < queries.Count; q++)
        {
            queryRows[q] = RowOf(rowOf, queries[q].Query, q, "query");
            int truthRow = RowOf(rowOf, queries[q].GroundTruth, q, "ground truth");
            truthCorpusIndex[q] = corpusIndexOfRow.TryGetValue(truthRow, out int corpusIndex)
                ? corpusIndex
                : throw new ArgumentException($"kept test pair {q}: the ground truth note '{queries[q].GroundTruth}' is also a query, so it is not in the corpus (SelectQueries keeps no such pair)", nameof(queries));
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var corpus = nn.functional.normalize(Stack(embeddings, corpusRows, dimensions), dim: 1);
        var queryMatrix = nn.functional.normalize(Stack(embeddings, queryRows, dimensions), dim: 1);
        var ranks = new int[queries.Count];
        const int queryBatch = 256;
        for (int start = 0; start < queries.Count; start += queryBatch)
        {
            using var batchScope = NewDisposeScope();
            int n = Math.Min(queryBatch, queries.Count - start);
            var scores = queryMatrix.narrow(0, start, n).matmul(corpus.t()); // n x corpus
            var truthIndex = tensor(truthCorpusIndex.AsSpan(start, n).ToArray()).unsqueeze(1);
            // The ground truth's score is read from the same product it is compared within, so it equals itself.
            var truthScore = scores.gather(1, truthIndex);
            var position = arange(corpusSize, dtype: ScalarType.Int64).unsqueeze(0);
            var ahead = scores.gt(truthScore).logical_or(scores.eq(truthScore).logical_and(position.lt(truthIndex)));
            var counts = ahead.sum(1).data<long>().ToArray();
            for (int q = 0; q < n; q++) ranks[start + q] = (int)counts[q] + 1;
        }
        return ranks;
    }

    /// <summary>Share of ranks within min(k, corpus size), for each cut-off.</summary>
    public static double[] RecallAt(IReadOnlyList<int> ranks, int corpusSize, IReadOnlyList<int> cutoffs)
    {
        ArgumentNullException.ThrowIfNull(ranks);
        ArgumentNullException.ThrowIfNull(cutoffs);
        return cutoffs.Select(k => ranks.Count == 0 ? 0.0 : ranks.Count(r => r <= Math.Min(k, corpusSize)) / (double)ranks.Count).ToArray();
    }

    private static int RowOf(Dictionary<string, int> rowOf, string id, int pair, string role) =>
        rowOf.TryGetValue(id, out int row)
            ? row
            : throw new ArgumentException($"kept test pair {pair}: the {role} note '{id}' is not among the test notes (no embedding)");

    private static Tensor Stack(IReadOnlyList<float[]> embeddings, int[] rows, int dimensions)
    {
        var flat = new float[(long)rows.Length * dimensions];
        for (int i = 0; i < rows.Length; i++)
        {
            var e = embeddings[rows[i]];
            if (e is null || e.Length != dimensions)
                throw new ArgumentException($"embedding of test note at row {rows[i]} has {e?.Length ?? 0} values, expected {dimensions}");
            if (!float.IsFinite(System.Numerics.Tensors.TensorPrimitives.Sum(e)))
                throw new ArgumentException($"embedding of test note at row {rows[i]} contains NaN or infinite values");
            e.CopyTo(flat, (long)i * dimensions);
        }
        return tensor(flat, new long[] { rows.Length, dimensions });
    }
}
