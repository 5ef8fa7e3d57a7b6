using NoteLLM.MLNet.Tokenization;

namespace NoteLLM.MLNet.Prompting;

/// <summary>Which generation task a prompt carries (paper section 3.2): the category, or j hashtags.</summary>
public readonly record struct PromptTask(int HashtagCount)
{
    public static PromptTask Category => new(0);
    public static PromptTask Hashtags(int j) => j > 0 ? new(j) : throw new ArgumentOutOfRangeException(nameof(j), "j must be positive.");
    public bool IsCategory => HashtagCount == 0;
    public override string ToString() => IsCategory ? "category" : $"{HashtagCount} hashtags";
}

/// <summary>The two generation tasks of CSFT (paper section 3.3), as a set.</summary>
[Flags]
public enum GenerationTasks { None = 0, Category = 1, Hashtags = 2, Both = Category | Hashtags }

/// <summary>
/// A tokenized note compression prompt. <see cref="EmbeddingPosition"/> is the index of the token immediately
/// before [EMB], whose last-layer hidden state becomes the note embedding (paper section 3.2).
/// <see cref="OutputStart"/> is where the output tokens begin (== Ids.Length when the prompt has no output).
/// The input note's own tokens (the filled note template) are <see cref="NoteStart"/> up to, not including, <see cref="NoteEnd"/>;
/// a note that has none (empty, or only characters the tokenizer drops) spans the whole prompt before [EMB] instead, so the
/// span is never empty and never reaches past <see cref="EmbeddingPosition"/>.
/// </summary>
public sealed record NotePrompt(int[] Ids, int EmbeddingPosition, int OutputStart, PromptTask Task, bool Truncated, int NoteStart, int NoteEnd)
{
    /// <summary>Tokens after the prompt: the output and EOS (empty for inference prompts).</summary>
    public int OutputLength => Ids.Length - OutputStart;
}

/// <summary>Limits applied while building prompts. Defaults suit English notes; the paper's values are for Chinese.</summary>
public sealed record NotePromptLimits
{
    /// <summary>Title characters kept (default 64; the authors' code: 20 Chinese characters; 0 leaves titles out).</summary>
    public int MaxTitleCharacters { get; init; } = 64;
    /// <summary>Content characters kept (default 320; the authors' code: 80 Chinese characters; 0 leaves contents out).</summary>
    public int MaxContentCharacters { get; init; } = 320;
    /// <summary>
    /// Tokens of the input-note part at most (default 140, as in the authors' code). A longer note keeps its title; its
    /// hashtags, dropped from the last, take at most half of the room beside the title unless the content needs less;
    /// the content is shortened to the rest; a title longer than the whole budget is shortened last.
    /// </summary>
    public int MaxNoteTokens { get; init; } = 140;
    /// <summary>Hashtags a prompt shows or trains on, the note's first ones (default 10: the authors' code keeps at most 10 per note).</summary>
    public int MaxHashtags { get; init; } = 10;

    /// <summary>Throws when a limit is out of range: characters and hashtags 0 or more, note tokens 1 or more.</summary>
    /// <param name="name">How the caller names these limits in the error (an option, a file's field).</param>
    /// <exception cref="ArgumentOutOfRangeException">Names the limit and its value.</exception>
    public NotePromptLimits Validate(string name = nameof(NotePromptLimits)) =>
        Problem(name) is { } problem ? throw new ArgumentOutOfRangeException(name, problem) : this;

    /// <summary>What is wrong with these limits, or null; <paramref name="name"/> names them.</summary>
    internal string? Problem(string name) =>
        MaxTitleCharacters < 0 ? $"{name}.{nameof(MaxTitleCharacters)} is {MaxTitleCharacters}; expected 0 (no title) or more."
        : MaxContentCharacters < 0 ? $"{name}.{nameof(MaxContentCharacters)} is {MaxContentCharacters}; expected 0 (no content) or more."
        : MaxNoteTokens < 1 ? $"{name}.{nameof(MaxNoteTokens)} is {MaxNoteTokens}; expected 1 or more."
        : MaxHashtags < 0 ? $"{name}.{nameof(MaxHashtags)} is {MaxHashtags}; expected 0 (no hashtags) or more."
        : null;
}

/// <summary>
/// Builds note compression prompts. The prompt text (instruction, note, compression, guidance) is assembled as
/// one string and tokenized once; a training prompt appends the tokenized output and EOS, so an inference prompt
/// is exactly the prefix of the training prompt (the authors' code tokenizes the two one token apart: not copied).
/// </summary>
public sealed class NotePromptBuilder
{
    private readonly NoteTokenizer tokenizer;

    public NotePromptTemplates Templates { get; }
    public NotePromptLimits Limits { get; }

    public NotePromptBuilder(NoteTokenizer tokenizer, NotePromptTemplates? templates = null, NotePromptLimits? limits = null)
    {
        this.tokenizer = tokenizer;
        Templates = (templates ?? new NotePromptTemplates()).Validate();
        Limits = (limits ?? new NotePromptLimits()).Validate();
    }

    /// <summary>
    /// The prompt text up to and including the output guidance, and whether the note was truncated. Whatever the sizes
    /// of the note's fields, its part of the prompt stays within <see cref="NotePromptLimits.MaxNoteTokens"/>, so [EMB]
    /// and the guidance are always there.
    /// </summary>
    public (string Text, bool Truncated) PromptText(NoteText note, PromptTask task)
    {
        var (instruction, notePart, tail, truncated) = PromptParts(note, task);
        return ($"{instruction} {notePart} {tail}", truncated);
    }

    // The prompt text in three parts: instruction, input note, compression + guidance.
    private (string Instruction, string Note, string Tail, bool Truncated) PromptParts(NoteText note, PromptTask task)
    {
        var t = Templates;
        string title = Cut(WithoutEmb(note.Title), Limits.MaxTitleCharacters, out bool titleCut);
        string content = Cut(WithoutEmb(note.Content), Limits.MaxContentCharacters, out bool contentCut);
        var hashtags = Hashtags(note);
        string template = task.IsCategory ? t.CategoryNote : t.HashtagNote;
        int shown = template.Contains("{hashtags}") ? hashtags.Count : 0;
        bool hashtagsCut = shown > 0 && shown < note.Hashtags.Count;
        string Fill(string ti, int tags, string c) => template.Replace("{title}", ti).Replace("{hashtags}", string.Join(t.HashtagSeparator, hashtags.Take(tags))).Replace("{content}", c);
        int Tokens(string ti, int tags, string c) => tokenizer.Encode(Fill(ti, tags, c)).Count;

        int max = Limits.MaxNoteTokens;
        bool tokenCut = Tokens(title, shown, content) > max;
        if (tokenCut)
        {
            // hashtags take what the content leaves of the room beside the title, but never more than half of it: a note
            // with many hashtags (a Debian package has up to 30 debtags) would otherwise spend its whole budget on them
            // and show no content at all
            int frame = Tokens(title, 0, "");
            int room = max - frame;
            int hashtagRoom = Math.Max(room / 2, room - tokenizer.Encode(content).Count);
            // the hashtags that fit, counted up so a huge one is tokenized once
            int fit = 0;
            while (fit < shown && Tokens(title, fit + 1, "") - frame <= hashtagRoom) fit++;
            shown = fit;
            int contentBudget = max - Tokens(title, shown, "");
            content = contentBudget > 0 ? content[..tokenizer.CharactersWithin(content, contentBudget)] : "";
            if (Tokens(title, shown, "") > max) title = title[..tokenizer.CharactersWithin(title, max - Tokens("", shown, ""))];
        }

        string j = task.HashtagCount.ToString();
        string instruction = (task.IsCategory ? t.CategoryInstruction : t.HashtagInstruction).Replace("{j}", j);
        string guidance = (task.IsCategory ? t.CategoryGuidance : t.HashtagGuidance).Replace("{j}", j);
        return (instruction, Fill(title, shown, content), $"{t.Compression} {guidance}", titleCut || contentCut || hashtagsCut || tokenCut);
    }

    /// <summary>
    /// True when the note gives the model no text to read: <see cref="NoteText.IsEmpty"/>, or a title and content made
    /// only of characters the tokenizer drops (BERT's WordPiece drops control and zero-width characters).
    /// </summary>
    public bool HasNoText(NoteText note) =>
        note.IsEmpty || note.Title.All(MayBeDropped) && note.Content.All(MayBeDropped) && tokenizer.Encode($"{note.Title} {note.Content}").Count == 0;

    // letters, digits, punctuation and symbols always give a token: only text without any is tokenized to find out
    private static bool MayBeDropped(char c) => !char.IsLetterOrDigit(c) && !char.IsPunctuation(c) && !char.IsSymbol(c);

    /// <summary>The hashtags a prompt of <paramref name="note"/> shows or trains on: its first <see cref="NotePromptLimits.MaxHashtags"/>.</summary>
    public IReadOnlyList<string> Hashtags(NoteText note) =>
        note.Hashtags.Select(WithoutEmb).Where(h => h.Length > 0).Take(Limits.MaxHashtags).ToArray();

    /// <summary>
    /// A training prompt: prompt tokens, then <paramref name="output"/> and EOS; or, when output is null (the note
    /// lacks what the task generates), the prompt alone, which still yields the embedding.
    /// </summary>
    public NotePrompt Build(NoteText note, PromptTask task, string? output)
    {
        var (instruction, notePart, tail, truncated) = PromptParts(note, task);
        var ids = new List<int>();
        if (tokenizer.BosTokenId is int bos) ids.Add(bos);
        // where the note's own tokens lie, for mean pooling over the note as a sentence encoder pools its sentence: the
        // tokenizers split at the spaces between the parts, so token counts of the prefixes are the boundaries
        int noteStart = ids.Count + tokenizer.Encode(instruction).Count;
        int noteEnd = ids.Count + tokenizer.Encode($"{instruction} {notePart}").Count;
        ids.AddRange(tokenizer.Encode($"{instruction} {notePart} {tail}"));
        // The embedding is read at the template's [EMB], the prompt's last. Text a tokenizer still reads as [EMB] after
        // WithoutEmb (BERT's tokenizer lower-cases the text before it looks for special tokens: "[emb]" is one) is
        // dropped from the note.
        int embIndex = ids.LastIndexOf(tokenizer.EmbTokenId);
        if (embIndex <= 0) throw new InvalidOperationException($"The prompt has no {NoteTokenizer.EmbToken} token after its first token; check the templates.");
        for (int i = embIndex - 1; i >= 0; i--)
        {
            if (ids[i] != tokenizer.EmbTokenId) continue;
            ids.RemoveAt(i);
            embIndex--;
            if (i < noteEnd) noteEnd--;
            if (i < noteStart) noteStart--;
        }
        int outputStart = ids.Count;
        if (output is not null)
        {
            ids.AddRange(tokenizer.EncodeContinuation(output));
            ids.Add(tokenizer.EosTokenId);
        }
        noteEnd = Math.Min(noteEnd, embIndex);
        // a note without tokens (empty, or only characters the tokenizer drops) is pooled over the prompt before [EMB]:
        // its span must hold a token the embedding pass computes, which [EMB] itself is not
        if (noteEnd <= noteStart) (noteStart, noteEnd) = (0, embIndex);
        return new NotePrompt(ids.ToArray(), embIndex - 1, outputStart, task, truncated, noteStart, noteEnd);
    }

    /// <summary>The output a note's prompt is trained to produce for <paramref name="task"/>, or null when the note lacks it.</summary>
    public string? TargetOutput(NoteText note, PromptTask task)
    {
        if (task.IsCategory) return note.Category;
        var hashtags = Hashtags(note);
        return hashtags.Count >= task.HashtagCount ? string.Join(Templates.HashtagSeparator, hashtags.Take(task.HashtagCount)) : null;
    }

    /// <summary>Splits generated hashtag text on the separator (trimmed, empty pieces dropped, duplicates removed).</summary>
    public string[] ParseHashtags(string generated) =>
        generated.Split(Templates.HashtagSeparator.Trim(), StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Distinct(StringComparer.Ordinal).ToArray();

    // The note's own text never carries [EMB]: the embedding is read at the template's one. One pass is not enough:
    // "[E[EMB]MB]" would leave "[EMB]".
    private static string WithoutEmb(string s)
    {
        while (s.Contains(NoteTokenizer.EmbToken, StringComparison.Ordinal)) s = s.Replace(NoteTokenizer.EmbToken, "", StringComparison.Ordinal);
        return s;
    }

    private static string Cut(string s, int max, out bool cut)
    {
        cut = s.Length > max;
        if (!cut) return s;
        int end = max;
        if (end > 0 && char.IsHighSurrogate(s[end - 1])) end--; // never split a surrogate pair
        return s[..end];
    }
}
