using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace NoteLLM.MLNet.Retrieval;

/// <summary>
/// A store of note embeddings that answers related-note queries (paper section 4.1: notes are ranked by the dot
/// product of their L2-normalised embeddings). Two implementations share this contract: <see cref="NoteIndex"/>
/// (in-process, exact or HNSW, saved to a file) and <c>PgVectorNoteIndex</c> in the NoteLLM.MLNet.PgVector package
/// (a PostgreSQL table with a pgvector HNSW index, shared by every app server that connects to it).
/// </summary>
/// <remarks>
/// Every implementation L2-normalises embeddings when they are written, so scores are cosine similarities, and
/// checks a whole batch before writing any of it: a batch is stored completely or not at all. Searches may run
/// concurrently; whether writes may run concurrently with anything is the implementation's to say.
/// </remarks>
public interface INoteIndex : IDisposable
{
    /// <summary>Length of every embedding.</summary>
    int Dimensions { get; }

    /// <summary>Number of notes stored.</summary>
    int Count { get; }

    /// <summary>Whether a note with this id is stored.</summary>
    bool Contains(string id);

    /// <summary>The stored (normalised) embedding of a note.</summary>
    /// <exception cref="KeyNotFoundException">The id is not stored.</exception>
    float[] GetEmbedding(string id);

    /// <summary>
    /// Adds notes (ids[i] with embeddings[i]). On a duplicate id (within the batch or already stored), a wrong length
    /// or a zero/non-finite embedding, an <see cref="ArgumentException"/> names it and nothing is added.
    /// </summary>
    void Add(IReadOnlyList<string> ids, IReadOnlyList<float[]> embeddings);

    /// <summary>
    /// Adds notes, replacing the embedding of those already stored (a note that was edited). The batch is checked as
    /// a whole first, as in <see cref="Add"/>, except that an id already stored is allowed.
    /// </summary>
    void Upsert(IReadOnlyList<string> ids, IReadOnlyList<float[]> embeddings);

    /// <summary>Removes a note; returns false when the id is not stored.</summary>
    bool Remove(string id);

    /// <summary>
    /// The <paramref name="k"/> notes most similar to each query embedding, best first. When
    /// <paramref name="excludeIds"/> is given, excludeIds[i] (if not null) never appears in the results of query i.
    /// </summary>
    IReadOnlyList<RelatedNote>[] Search(IReadOnlyList<float[]> queries, int k, IReadOnlyList<string?>? excludeIds = null);
}

/// <summary>One-note forms of the <see cref="INoteIndex"/> calls.</summary>
public static class NoteIndexExtensions
{
    /// <summary>Adds one note. Throws if the id is already stored or the embedding is not finite and non-zero.</summary>
    public static void Add(this INoteIndex index, string id, ReadOnlySpan<float> embedding) =>
        index.Add(new[] { id }, new[] { embedding.ToArray() });

    /// <summary>Adds one note or replaces its embedding.</summary>
    public static void Upsert(this INoteIndex index, string id, ReadOnlySpan<float> embedding) =>
        index.Upsert(new[] { id }, new[] { embedding.ToArray() });

    /// <summary>The <paramref name="k"/> notes most similar to an embedding, best first.</summary>
    public static IReadOnlyList<RelatedNote> Search(this INoteIndex index, ReadOnlySpan<float> query, int k) =>
        index.Search(new[] { query.ToArray() }, k)[0];

    /// <summary>The <paramref name="k"/> notes most related to a stored note, best first, never the note itself.</summary>
    public static IReadOnlyList<RelatedNote> RelatedNotes(this INoteIndex index, string noteId, int k) =>
        index.RelatedNotes(new[] { noteId }, k)[0];

    /// <summary>For each stored note, its <paramref name="k"/> most related notes, best first, never the note itself.</summary>
    /// <exception cref="KeyNotFoundException">One of the ids is not stored.</exception>
    public static IReadOnlyList<RelatedNote>[] RelatedNotes(this INoteIndex index, IReadOnlyList<string> noteIds, int k)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(noteIds);
        var queries = new float[noteIds.Count][];
        for (int i = 0; i < noteIds.Count; i++)
            queries[i] = index.GetEmbedding(noteIds[i] ?? throw new ArgumentException($"note id at position {i} is null", nameof(noteIds)));
        return index.Search(queries, k, noteIds.ToArray());
    }
}

/// <summary>The input checks every <see cref="INoteIndex"/> makes, so all implementations refuse the same input with the same messages.</summary>
public static class NoteIndexChecks
{
    /// <summary>
    /// Checks a batch of notes as a whole and returns their L2-normalised embeddings: ids and embeddings of equal
    /// count, no null or repeated id, no id for which <paramref name="isStored"/> says true (pass null when stored ids
    /// are allowed, as for an upsert), every embedding of <paramref name="dimensions"/> finite values, not all zero.
    /// </summary>
    /// <exception cref="ArgumentException">Names the first offending note and its position.</exception>
    public static float[][] CheckBatch(IReadOnlyList<string> ids, IReadOnlyList<float[]> embeddings, int dimensions, Func<string, bool>? isStored)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(embeddings);
        if (ids.Count != embeddings.Count)
            throw new ArgumentException($"{ids.Count} ids but {embeddings.Count} embeddings", nameof(embeddings));
        var batch = new HashSet<string>(StringComparer.Ordinal);
        var normalised = new float[ids.Count][];
        for (int i = 0; i < ids.Count; i++)
        {
            string id = ids[i] ?? throw new ArgumentException($"id at position {i} is null", nameof(ids));
            // ids are stored as UTF-8, which cannot hold a lone surrogate: it would come back as U+FFFD
            try { StrictUtf8.GetByteCount(id); }
            catch (System.Text.EncoderFallbackException e)
            {
                throw new ArgumentException($"note id at position {i} has a lone UTF-16 surrogate at character {e.Index}: ids are stored as UTF-8, which cannot hold it", nameof(ids), e);
            }
            if (!batch.Add(id))
                throw new ArgumentException($"note id '{id}' (position {i}) appears twice in the batch", nameof(ids));
            if (isStored is not null && isStored(id))
                throw new ArgumentException($"note id '{id}' (position {i}) is already in the index", nameof(ids));
            normalised[i] = Normalise(embeddings[i], dimensions, $"embedding of note '{id}' (position {i})");
        }
        return normalised;
    }

    /// <summary>
    /// Checks the arguments of <see cref="INoteIndex.Search"/> and returns the L2-normalised queries: k of 0 or
    /// more, as many excluded ids as queries, every query as <see cref="Normalise"/> wants it.
    /// </summary>
    public static float[][] CheckQueries(IReadOnlyList<float[]> queries, int k, IReadOnlyList<string?>? excludeIds, int dimensions)
    {
        ArgumentNullException.ThrowIfNull(queries);
        if (k < 0) throw new ArgumentOutOfRangeException(nameof(k), k, "must be 0 or more");
        if (excludeIds is not null && excludeIds.Count != queries.Count)
            throw new ArgumentException($"{queries.Count} queries but {excludeIds.Count} excluded ids", nameof(excludeIds));
        var normalised = new float[queries.Count][];
        for (int q = 0; q < queries.Count; q++) normalised[q] = Normalise(queries[q], dimensions, $"query {q}");
        return normalised;
    }

    private static readonly System.Text.UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The embedding divided by its L2 norm; <paramref name="what"/> names it in the error.</summary>
    /// <exception cref="ArgumentException">Null, not <paramref name="dimensions"/> long, not finite, or all zeros.</exception>
    public static float[] Normalise(float[]? embedding, int dimensions, string what)
    {
        if (embedding is null) throw new ArgumentException($"{what} is null");
        if (embedding.Length != dimensions)
            throw new ArgumentException($"{what} has {embedding.Length} values, expected {dimensions}");
        var result = new float[dimensions];
        float norm = TensorPrimitives.Norm(embedding);
        if (float.IsFinite(norm) && norm >= 1e-18f) // squares below float's smallest normal (1.2e-38) lose bits
        {
            TensorPrimitives.Divide(embedding, norm, result);
            return result;
        }
        // The sum of squares overflowed or underflowed: values near 1e20 or 1e-23 are finite and have a direction.
        float largest = Math.Abs(TensorPrimitives.MaxMagnitude(embedding));
        if (!float.IsFinite(largest)) throw new ArgumentException($"{what} contains NaN or infinite values");
        if (largest == 0f) throw new ArgumentException($"{what} is all zeros and cannot be normalised");
        TensorPrimitives.Divide(embedding, largest, result);
        TensorPrimitives.Divide(result, TensorPrimitives.Norm(result), result);
        return result;
    }
}
