using NoteLLM.MLNet.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Retrieval;

/// <summary>
/// The related-note index of NoteLLM (paper section 4.1: notes are ranked by the dot product of their L2-normalised
/// embeddings). Stores one embedding per note id, answers exact top-k through a matrix product streamed over
/// corpus blocks, or approximate top-k through a USearch HNSW graph (<see cref="NoteIndexOptions.Mode"/>).
/// </summary>
/// <remarks>
/// Embeddings are L2-normalised when added, so scores are cosine similarities. Exact search keeps the
/// embeddings in managed blocks of <see cref="NoteIndexOptions.BlockSize"/> rows; approximate search keeps them
/// too (for <see cref="GetEmbedding"/>, related notes of a stored note and <see cref="Save"/>) plus the graph.
/// Equal scores come back in an unspecified order. Not safe for concurrent writes; concurrent searches are fine.
/// </remarks>
public sealed partial class NoteIndex : INoteIndex
{
    private readonly List<float[]> blocks = new();
    private readonly List<string> ids = new();
    private readonly Dictionary<string, int> rowOf = new(StringComparer.Ordinal);
    private readonly int blockSize; // fixed at construction: rows are addressed by it even if Options is changed later
    private HnswGraph? graph; // HNSW keys are row numbers; kept equal to _rowOf's rows through Remove's Rename.

    /// <summary>Creates an empty index for embeddings of <paramref name="dimensions"/> floats.</summary>
    public NoteIndex(int dimensions, NoteIndexOptions? options = null)
    {
        if (dimensions < 1) throw new ArgumentOutOfRangeException(nameof(dimensions), dimensions, "must be at least 1");
        Options = options ?? new NoteIndexOptions();
        Options.Validate();
        Dimensions = dimensions;
        blockSize = Math.Min(Options.BlockSize, Array.MaxLength / dimensions); // a block is one float array
        if (Options.Mode == NoteSearchMode.Approximate) graph = NewGraph();
    }

    /// <summary>The options this index was created with.</summary>
    public NoteIndexOptions Options { get; }

    /// <inheritdoc/>
    public int Dimensions { get; }

    /// <inheritdoc/>
    public int Count => ids.Count;

    /// <summary>The stored note ids, in storage order (which changes when notes are removed).</summary>
    public IReadOnlyList<string> Ids => ids;

    /// <inheritdoc/>
    public bool Contains(string id) => rowOf.ContainsKey(id ?? throw new ArgumentNullException(nameof(id)));

    /// <inheritdoc/>
    public float[] GetEmbedding(string id) => Row(RowOf(id, nameof(id))).ToArray();

    /// <inheritdoc/>
    public void Add(IReadOnlyList<string> ids, IReadOnlyList<float[]> embeddings) =>
        Append(ids, NoteIndexChecks.CheckBatch(ids, embeddings, Dimensions, isStored: rowOf.ContainsKey));

    /// <inheritdoc/>
    public void Upsert(IReadOnlyList<string> ids, IReadOnlyList<float[]> embeddings)
    {
        var normalised = NoteIndexChecks.CheckBatch(ids, embeddings, Dimensions, isStored: null);
        foreach (string id in ids) Remove(id);
        Append(ids, normalised);
    }

    private void Append(IReadOnlyList<string> ids, float[][] normalised)
    {
        int first = Count;
        for (int i = 0; i < normalised.Length; i++)
        {
            int row = first + i;
            EnsureRow(row);
            normalised[i].CopyTo(Row(row));
            this.ids.Add(ids[i]);
            rowOf.Add(ids[i], row);
        }
        if (graph is not null) AddToGraph(first, normalised.Length);
    }

    // Inserts rows [first, first + count) into the HNSW graph, one at a time: concurrent inserts into USearch 2.26.6
    // left some vectors unreachable (NoteIndexTests.EveryNoteIsReachableInTheGraph guards this), so they are not used.
    private void AddToGraph(int first, int count)
    {
        var graph = this.graph!;
        if (graph.Capacity < graph.Count + count) graph.Reserve(graph.Count + count);
        for (int row = first; row < first + count; row++) graph.Add((ulong)row, Row(row));
    }

    private int SearchThreadCount => Options.SearchThreads == 0 ? HnswGraph.MaxThreads : Math.Min(Options.SearchThreads, HnswGraph.MaxThreads);

    /// <inheritdoc/>
    public bool Remove(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (!rowOf.TryGetValue(id, out int row)) return false;
        int last = Count - 1;
        graph?.Remove((ulong)row);
        if (row != last)
        {
            // Move the last row into the hole so storage stays dense.
            Row(last).CopyTo(Row(row));
            string moved = ids[last];
            ids[row] = moved;
            rowOf[moved] = row;
            graph?.Rename((ulong)last, (ulong)row);
        }
        ids.RemoveAt(last);
        rowOf.Remove(id);
        return true;
    }

    /// <inheritdoc/>
    public IReadOnlyList<RelatedNote>[] Search(IReadOnlyList<float[]> queries, int k, IReadOnlyList<string?>? excludeIds = null)
    {
        var normalised = NoteIndexChecks.CheckQueries(queries, k, excludeIds, Dimensions);
        Options.Validate(); // the options may have been changed since the index was made (ExpansionSearch, say)

        // Ask for one more when a note is excluded, then drop it (it is usually the query's own note). A k above the
        // index's size (int.MaxValue for "all of them") asks for every note.
        int wanted = (int)Math.Min(Count, (long)k + (excludeIds is null ? 0 : 1));
        var results = new IReadOnlyList<RelatedNote>[queries.Count];
        if (wanted == 0)
        {
            Array.Fill(results, Array.Empty<RelatedNote>());
            return results;
        }
        var (rows, scores) = Options.Mode == NoteSearchMode.Exact || graph is null
            ? ExactTopK(normalised, wanted)
            : ApproximateTopK(normalised, wanted);
        for (int q = 0; q < queries.Count; q++)
        {
            string? excluded = excludeIds?[q];
            var list = new List<RelatedNote>(rows[q].Length);
            for (int j = 0; j < rows[q].Length && list.Count < k; j++)
            {
                string id = ids[rows[q][j]];
                if (excluded is null || !string.Equals(id, excluded, StringComparison.Ordinal))
                    list.Add(new RelatedNote(id, scores[q][j]));
            }
            results[q] = list;
        }
        return results;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        graph?.Dispose();
        graph = null;
    }

    // Exact top-k: per query batch, one matrix product per corpus block, then a running top-k merge.
    private (int[][] Rows, float[][] Scores) ExactTopK(float[][] queries, int k)
    {
        var rows = new int[queries.Length][];
        var scores = new float[queries.Length][];
        for (int start = 0; start < queries.Length; start += Options.QueryBatchSize)
        {
            int n = Math.Min(Options.QueryBatchSize, queries.Length - start);
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var flat = new float[n * Dimensions];
            for (int q = 0; q < n; q++) queries[start + q].CopyTo(flat, q * Dimensions);
            var queryMatrix = tensor(flat, new long[] { n, Dimensions });
            Tensor? bestScores = null, bestRows = null;
            for (int b = 0; b * blockSize < Count; b++)
            {
                // Each block's score matrix is freed before the next block is scored; only the running top-k survives.
                using var blockScope = NewDisposeScope();
                int blockRows = Math.Min(blockSize, Count - b * blockSize);
                var block = frombuffer(blocks[b], ScalarType.Float32, (long)blockRows * Dimensions).view(blockRows, Dimensions);
                var (topScores, topRows) = queryMatrix.matmul(block.t()).topk(Math.Min(k, blockRows), dim: 1);
                using var firstRow = ((long)b * blockSize).ToScalar(); // held: see HeldScalars
                topRows = topRows.add_(firstRow, HeldScalars.One);
                if (bestScores is not null)
                {
                    var allScores = cat(new[] { bestScores, topScores }, 1);
                    var allRows = cat(new[] { bestRows!, topRows }, 1);
                    var (merged, picked) = allScores.topk(Math.Min(k, (int)allScores.shape[1]), dim: 1);
                    (topScores, topRows) = (merged, allRows.gather(1, picked));
                }
                bestScores = topScores.MoveToOuterDisposeScope();
                bestRows = topRows.MoveToOuterDisposeScope();
            }
            int kept = (int)bestScores!.shape[1];
            var scoreData = bestScores.contiguous().data<float>().ToArray();
            var rowData = bestRows!.contiguous().data<long>().ToArray();
            for (int q = 0; q < n; q++)
            {
                scores[start + q] = scoreData.AsSpan(q * kept, kept).ToArray();
                rows[start + q] = Array.ConvertAll(rowData.AsSpan(q * kept, kept).ToArray(), r => (int)r);
            }
        }
        return (rows, scores);
    }

    private (int[][] Rows, float[][] Scores) ApproximateTopK(float[][] queries, int k)
    {
        var graph = this.graph!;
        if (graph.ExpansionSearch != Options.ExpansionSearch) graph.ExpansionSearch = Options.ExpansionSearch;
        var rows = new int[queries.Length][];
        var scores = new float[queries.Length][];
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = SearchThreadCount };
        Parallel.For(0, queries.Length, parallel, () => (Keys: new ulong[k], Distances: new float[k]), (q, _, buffers) =>
        {
            int found = graph.Search(queries[q], buffers.Keys, buffers.Distances);
            rows[q] = new int[found];
            scores[q] = new float[found];
            for (int i = 0; i < found; i++)
            {
                rows[q][i] = (int)buffers.Keys[i];
                scores[q][i] = 1f - buffers.Distances[i]; // USearch's inner-product distance is 1 - dot.
            }
            return buffers;
        }, _ => { });
        return (rows, scores);
    }

    private HnswGraph NewGraph() => new(Dimensions, Options.Connectivity, Options.ExpansionAdd, Options.ExpansionSearch);

    private Span<float> Row(int row) =>
        blocks[row / blockSize].AsSpan(row % blockSize * Dimensions, Dimensions);

    private int RowOf(string id, string parameter) =>
        rowOf.TryGetValue(id ?? throw new ArgumentNullException(parameter), out int row)
            ? row
            : throw new KeyNotFoundException($"note id '{id}' is not in the index");

    // Blocks grow by doubling up to BlockSize rows, so a small index does not hold a whole block.
    private void EnsureRow(int row)
    {
        int block = row / blockSize, needed = (row % blockSize + 1) * Dimensions;
        if (block == blocks.Count) blocks.Add(new float[Math.Min(blockSize, 1024) * Dimensions]);
        var data = blocks[block];
        if (data.Length < needed)
        {
            Array.Resize(ref data, Math.Min(blockSize * Dimensions, Math.Max(needed, data.Length * 2)));
            blocks[block] = data;
        }
    }
}
