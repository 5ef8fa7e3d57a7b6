namespace NoteLLM.MLNet.Retrieval;

/// <summary>How a <see cref="NoteIndex"/> finds the nearest notes.</summary>
public enum NoteSearchMode
{
    /// <summary>Exact top-k by dot product over every stored note (a streamed matrix product).</summary>
    Exact,

    /// <summary>Approximate top-k through an HNSW graph (USearch); faster on large corpora, recall below 1.</summary>
    Approximate,
}

/// <summary>Options of a <see cref="NoteIndex"/>.</summary>
public sealed class NoteIndexOptions
{
    /// <summary>Exact or approximate search. Default: <see cref="NoteSearchMode.Exact"/>.</summary>
    public NoteSearchMode Mode { get; set; } = NoteSearchMode.Exact;

    /// <summary>
    /// Corpus rows per storage block; exact search multiplies the queries by one block at a time, so the score
    /// matrix held at once is at most <see cref="QueryBatchSize"/> x <see cref="BlockSize"/> floats.
    /// Default: 65,536 (32 MiB of 128-dimensional embeddings per block). A block is one float array, so an index of
    /// very long embeddings takes fewer rows per block: at most <see cref="Array.MaxLength"/> floats.
    /// </summary>
    public int BlockSize { get; set; } = 65_536;

    /// <summary>Queries scored together in exact search (one matrix product per block). Default: 1,024.</summary>
    public int QueryBatchSize { get; set; } = 1_024;

    /// <summary>HNSW graph degree (USearch connectivity, M): more edges give higher recall, more memory and slower inserts. Default: 16.</summary>
    public int Connectivity { get; set; } = 16;

    /// <summary>HNSW candidate list size while inserting (efConstruction): higher builds a better graph, more slowly. Default: 128.</summary>
    public int ExpansionAdd { get; set; } = 128;

    /// <summary>
    /// HNSW candidate list size while searching (ef): higher gives higher recall at lower queries/s; a change takes
    /// effect at the next search, without rebuilding the graph. Default: 64 (USearch's own). How recall and speed trade
    /// off depends on the data (vectors with low intrinsic dimension, as real embeddings, need far smaller ef than
    /// isotropic random ones): docs/benchmarks.md (Retrieval) has the measured curves.
    /// </summary>
    public int ExpansionSearch { get; set; } = 64;

    /// <summary>Threads answering a batch of approximate queries; 0 uses every core. Default: 0.</summary>
    public int SearchThreads { get; set; }

    internal void Validate()
    {
        if (BlockSize < 1) throw new ArgumentOutOfRangeException(nameof(BlockSize), BlockSize, "must be at least 1");
        if (QueryBatchSize < 1) throw new ArgumentOutOfRangeException(nameof(QueryBatchSize), QueryBatchSize, "must be at least 1");
        if (Connectivity < 2) throw new ArgumentOutOfRangeException(nameof(Connectivity), Connectivity, "must be at least 2");
        if (ExpansionAdd < 1) throw new ArgumentOutOfRangeException(nameof(ExpansionAdd), ExpansionAdd, "must be at least 1");
        if (ExpansionSearch < 1) throw new ArgumentOutOfRangeException(nameof(ExpansionSearch), ExpansionSearch, "must be at least 1");
        if (SearchThreads < 0) throw new ArgumentOutOfRangeException(nameof(SearchThreads), SearchThreads, "must be 0 (all cores) or more");
    }
}

/// <summary>One search result: a note and its similarity (dot product of L2-normalised embeddings, i.e. cosine).</summary>
/// <param name="Id">The note id.</param>
/// <param name="Score">Cosine similarity to the query, higher is more related.</param>
public readonly record struct RelatedNote(string Id, float Score);
