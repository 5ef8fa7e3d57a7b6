using Microsoft.ML;

namespace NoteLLM.MLNet.Data;

/// <summary>What to do with a pair that names a note missing from the notes.</summary>
public enum UnknownNoteHandling
{
    /// <summary>Leave the pair out and count it in <see cref="RelatedPairJoinResult.PairsWithUnknownNote"/>.</summary>
    Skip,
    /// <summary>Throw an <see cref="InvalidDataException"/> naming the pair.</summary>
    Throw,
}

/// <summary>The rows a join produced and what it left out.</summary>
public sealed class RelatedPairJoinResult
{
    /// <summary>The joined rows (<see cref="RelatedPairRow"/> columns), in pair order: what <c>Fit</c> takes.</summary>
    public required IDataView Rows { get; init; }
    /// <summary>Number of pairs read.</summary>
    public required int PairsRead { get; init; }
    /// <summary>Number of rows produced.</summary>
    public required int PairsJoined { get; init; }
    /// <summary>Number of pairs left out because a note id was not among the notes.</summary>
    public required int PairsWithUnknownNote { get; init; }
    /// <summary>Up to 10 of the unknown note ids, for the error message a caller may want to show.</summary>
    public required IReadOnlyList<string> UnknownNoteIdExamples { get; init; }
}

/// <summary>
/// Joins related-note pairs with the notes' fields into the rows <c>Fit</c> takes
/// (<c>Id, Title, Content, Hashtags, Category, RelatedId, RelatedTitle, …</c>).
/// </summary>
public static class RelatedPairJoin
{
    /// <summary>
    /// Joins <paramref name="pairs"/> (columns <c>NoteId</c>, <c>RelatedNoteId</c>) with <paramref name="notes"/>
    /// (columns <c>Id</c>, <c>Title</c>, <c>Content</c>, <c>Hashtags</c>, <c>Category</c>; others are ignored).
    /// </summary>
    /// <exception cref="ArgumentException">A required column is missing; the message names it.</exception>
    public static RelatedPairJoinResult Join(MLContext mlContext, IDataView notes, IDataView pairs,
        UnknownNoteHandling unknownNotes = UnknownNoteHandling.Skip)
    {
        notes = OnlyColumns(mlContext, notes, nameof(notes), "Id", "Title", "Content", "Hashtags", "Category");
        pairs = OnlyColumns(mlContext, pairs, nameof(pairs), "NoteId", "RelatedNoteId");
        return Join(mlContext,
            mlContext.Data.CreateEnumerable<NoteRecord>(notes, reuseRowObject: false, ignoreMissingColumns: true),
            mlContext.Data.CreateEnumerable<RelatedNotePair>(pairs, reuseRowObject: false, ignoreMissingColumns: true),
            unknownNotes);
    }

    // The view with just the columns the join reads: another column of a name NoteRecord or RelatedNotePair also has
    // (an Exposure a text loader reads as Single, a Score of Double) is not bound, so its type does not matter.
    private static IDataView OnlyColumns(MLContext mlContext, IDataView view, string name, params string[] columns)
    {
        var missing = columns.Where(c => view.Schema.GetColumnOrNull(c) is null).ToList();
        if (missing.Count > 0)
            throw new ArgumentException(
                $"The {name} lack column(s) {string.Join(", ", missing)} (they have: {string.Join(", ", view.Schema.Select(c => c.Name))}).", name);
        return mlContext.Transforms.SelectColumns(columns).Fit(view).Transform(view);
    }

    /// <summary>Joins <paramref name="pairs"/> with <paramref name="notes"/>.</summary>
    /// <exception cref="InvalidDataException">Two notes share an id, or (with <see cref="UnknownNoteHandling.Throw"/>) a pair names an unknown note.</exception>
    public static RelatedPairJoinResult Join(MLContext mlContext, IEnumerable<NoteRecord> notes, IEnumerable<RelatedNotePair> pairs,
        UnknownNoteHandling unknownNotes = UnknownNoteHandling.Skip)
    {
        var byId = new Dictionary<string, NoteRecord>(StringComparer.Ordinal);
        foreach (var note in notes)
            if (!byId.TryAdd(note.Id, note))
                throw new InvalidDataException($"Note id '{note.Id}' appears more than once among the notes.");

        var rows = new List<RelatedPairRow>();
        var unknownExamples = new List<string>();
        int read = 0, unknown = 0;
        foreach (var pair in pairs)
        {
            read++;
            bool hasNote = byId.TryGetValue(pair.NoteId, out var note);
            bool hasRelated = byId.TryGetValue(pair.RelatedNoteId, out var related);
            if (!hasNote || !hasRelated)
            {
                var missing = !hasNote ? pair.NoteId : pair.RelatedNoteId;
                if (unknownNotes == UnknownNoteHandling.Throw)
                    throw new InvalidDataException($"Pair {read} ({pair.NoteId} -> {pair.RelatedNoteId}) names note '{missing}', which is not among the notes.");
                unknown++;
                if (unknownExamples.Count < 10) unknownExamples.Add(missing);
                continue;
            }
            rows.Add(new RelatedPairRow
            {
                Id = note!.Id,
                Title = note.Title,
                Content = note.Content,
                Hashtags = note.Hashtags,
                Category = note.Category,
                RelatedId = related!.Id,
                RelatedTitle = related.Title,
                RelatedContent = related.Content,
                RelatedHashtags = related.Hashtags,
                RelatedCategory = related.Category,
            });
        }
        return new RelatedPairJoinResult
        {
            Rows = mlContext.Data.LoadFromEnumerable(rows),
            PairsRead = read,
            PairsJoined = rows.Count,
            PairsWithUnknownNote = unknown,
            UnknownNoteIdExamples = unknownExamples,
        };
    }
}
