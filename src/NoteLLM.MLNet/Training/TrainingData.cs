using NoteLLM.MLNet.Prompting;

namespace NoteLLM.MLNet.Training;

/// <summary>A related-note pair for training: two notes, with ids when the data has them.</summary>
public sealed record NotePair(string? FirstId, NoteText First, string? SecondId, NoteText Second);

/// <summary>What the data cleaning and prompt building did with the input; printed in the training log.</summary>
public sealed class TrainingDataReport
{
    public int PairsIn { get; internal set; }
    public int PairsKept { get; internal set; }
    /// <summary>Pairs whose two notes are the same note (same id, or the same text when there are no ids); dropped.</summary>
    public int SelfPairs { get; internal set; }
    /// <summary>Repeated pairs (in either order); dropped.</summary>
    public int DuplicatePairs { get; internal set; }
    /// <summary>Pairs with a note without text (neither title nor content, or only characters the tokenizer drops); dropped.</summary>
    public int PairsWithEmptyNote { get; internal set; }
    /// <summary>Pairs naming a note that is not in the note table (set by the caller that joins pairs to notes); dropped.</summary>
    public int PairsWithUnknownNote { get; internal set; }
    /// <summary>Distinct kept notes without a category: they never take the category task.</summary>
    public int NotesWithoutCategory { get; internal set; }
    /// <summary>Distinct kept notes without hashtags: they never take the hashtag task.</summary>
    public int NotesWithoutHashtags { get; internal set; }
    /// <summary>Generation-only notes given (CSFT only, see <see cref="NoteLLMTrainer.Train"/>).</summary>
    public int GenerationNotesIn { get; internal set; }
    /// <summary>Generation-only notes kept: those with a title or content and a category or hashtags.</summary>
    public int GenerationNotesKept { get; internal set; }
    /// <summary>Prompts built in the first epoch (counted while training; 0 before it starts).</summary>
    public int PromptsBuilt { get; internal set; }
    /// <summary>Prompts whose title, content, hashtags or note tokens were cut to the limits (counted while training).</summary>
    public int TruncatedPrompts { get; internal set; }
    /// <summary>Prompts trained for the embedding only because the note lacked what its task generates.</summary>
    public int PromptsWithoutGenerationTarget { get; internal set; }

    public override string ToString() =>
        $"pairs in {PairsIn}, kept {PairsKept}; dropped: self {SelfPairs}, duplicate {DuplicatePairs}, empty note {PairsWithEmptyNote}, unknown note {PairsWithUnknownNote}; " +
        $"notes without category {NotesWithoutCategory}, without hashtags {NotesWithoutHashtags}" +
        (GenerationNotesIn == 0 ? "" : $"; generation-only notes in {GenerationNotesIn}, kept {GenerationNotesKept} (the others are empty or have nothing to generate)") +
        (PromptsBuilt == 0 ? "" : $"; prompts built {PromptsBuilt}: truncated {TruncatedPrompts}, without generation target {PromptsWithoutGenerationTarget}");
}

/// <summary>Cleans related-note pairs before training; every case is counted in a <see cref="TrainingDataReport"/>, nothing throws.</summary>
public static class TrainingData
{
    /// <summary>
    /// The pairs that can train; <paramref name="hasNoText"/> tells a note without text (default
    /// <see cref="NoteText.IsEmpty"/>; the trainer asks its model's <see cref="NotePromptBuilder.HasNoText"/>).
    /// </summary>
    public static (List<NotePair> Kept, TrainingDataReport Report) Clean(IEnumerable<NotePair> pairs, TrainingDataReport? report = null,
        Func<NoteText, bool>? hasNoText = null)
    {
        report ??= new TrainingDataReport();
        hasNoText ??= note => note.IsEmpty;
        var kept = new List<NotePair>();
        var seenPairs = new HashSet<(string, string)>();
        var noteKeys = new Dictionary<string, NoteText>();
        foreach (var pair in pairs)
        {
            report.PairsIn++;
            if (hasNoText(pair.First) || hasNoText(pair.Second)) { report.PairsWithEmptyNote++; continue; }
            string a = Key(pair.FirstId, pair.First), b = Key(pair.SecondId, pair.Second);
            if (a == b) { report.SelfPairs++; continue; }
            if (!seenPairs.Add(string.CompareOrdinal(a, b) < 0 ? (a, b) : (b, a))) { report.DuplicatePairs++; continue; }
            kept.Add(pair);
            noteKeys.TryAdd(a, pair.First);
            noteKeys.TryAdd(b, pair.Second);
        }
        report.PairsKept = kept.Count;
        report.NotesWithoutCategory = noteKeys.Values.Count(n => n.Category is null);
        report.NotesWithoutHashtags = noteKeys.Values.Count(n => n.Hashtags.Count == 0);
        return (kept, report);
    }

    /// <summary>The generation-only notes that can train CSFT: text (as in <see cref="Clean"/>), and a category or hashtags to generate.</summary>
    public static List<NoteText> CleanGenerationNotes(IEnumerable<NoteText> notes, TrainingDataReport report, Func<NoteText, bool>? hasNoText = null)
    {
        hasNoText ??= note => note.IsEmpty;
        var kept = new List<NoteText>();
        foreach (var note in notes)
        {
            report.GenerationNotesIn++;
            if (!hasNoText(note) && (note.Category is not null || note.Hashtags.Count > 0)) kept.Add(note);
        }
        report.GenerationNotesKept = kept.Count;
        return kept;
    }

    /// <summary>The identity of a note: its id, or its text when the data has no ids.</summary>
    internal static string Key(string? id, NoteText note) =>
        string.IsNullOrWhiteSpace(id) ? "text:" + note.Title + "\n" + note.Content : "id:" + id.Trim();
}
