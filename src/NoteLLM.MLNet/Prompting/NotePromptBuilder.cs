using NoteLLM.MLNet.Tokenization;

namespace NoteLLM.MLNet.Prompting;

/// <summary>Which generation task a prompt carries (spec section 2): the category, or j hashtags.</summary>
public readonly record struct PromptTask(int HashtagCount)
{
    public static PromptTask Category => new(0);
    public static PromptTask Hashtags(int j) => j > 0 ? new(j) : throw new ArgumentOutOfRangeException(nameof(j), "j must be positive.");
    public bool IsCategory => HashtagCount == 0;
    public override string ToString() => IsCategory ? "category" : $"{HashtagCount} hashtags";
}

/// <summary>
/// A tokenized note compression prompt. <see cref="EmbeddingPosition"/> is the index of the token immediately
/// before [EMB], whose last-layer hidden state becomes the note embedding (spec section 3).
/// <see cref="OutputStart"/> is where the output tokens begin (== Ids.Length when the prompt has no output).
/// </summary>
public sealed record NotePrompt(int[] Ids, int EmbeddingPosition, int OutputStart, PromptTask Task, bool Truncated)
{
    /// <summary>Tokens after the prompt: the output and EOS (empty for inference prompts).</summary>
    public int OutputLength => Ids.Length - OutputStart;
}

/// <summary>Limits applied while building prompts. Defaults suit English notes; the paper's values are for Chinese.</summary>
public sealed record NotePromptLimits
{
    /// <summary>Title characters kept (default 64; the authors' code: 20 Chinese characters).</summary>
    public int MaxTitleCharacters { get; init; } = 64;
    /// <summary>Content characters kept (default 320; the authors' code: 80 Chinese characters).</summary>
    public int MaxContentCharacters { get; init; } = 320;
    /// <summary>Tokens of the input-note part at most, content shortened first (default 140, as in the authors' code).</summary>
    public int MaxNoteTokens { get; init; } = 140;
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
        Limits = limits ?? new NotePromptLimits();
    }

    /// <summary>The prompt text up to and including the output guidance, and whether the note was truncated.</summary>
    public (string Text, bool Truncated) PromptText(NoteText note, PromptTask task)
    {
        var t = Templates;
        string hashtags = string.Join(t.HashtagSeparator, note.Hashtags);
        string title = Cut(note.Title, Limits.MaxTitleCharacters, out bool titleCut);
        string content = Cut(note.Content, Limits.MaxContentCharacters, out bool contentCut);
        string template = task.IsCategory ? t.CategoryNote : t.HashtagNote;
        string Fill(string c) => template.Replace("{title}", title).Replace("{hashtags}", hashtags).Replace("{content}", c);

        string notePart = Fill(content);
        bool tokenCut = false;
        if (tokenizer.Encode(notePart).Count > Limits.MaxNoteTokens)
        {
            // shorten the content to the tokens left after everything else of the note part
            int budget = Math.Max(0, Limits.MaxNoteTokens - tokenizer.Encode(Fill("")).Count);
            content = content[..tokenizer.CharactersWithin(content, budget)];
            notePart = Fill(content);
            tokenCut = true;
        }

        string j = task.HashtagCount.ToString();
        string instruction = (task.IsCategory ? t.CategoryInstruction : t.HashtagInstruction).Replace("{j}", j);
        string guidance = (task.IsCategory ? t.CategoryGuidance : t.HashtagGuidance).Replace("{j}", j);
        return ($"{instruction} {notePart} {t.Compression} {guidance}", titleCut || contentCut || tokenCut);
    }

    /// <summary>
    /// A training prompt: prompt tokens, then <paramref name="output"/> and EOS; or, when output is null (the note
    /// lacks what the task generates), the prompt alone, which still yields the embedding.
    /// </summary>
    public NotePrompt Build(NoteText note, PromptTask task, string? output)
    {
        var (text, truncated) = PromptText(note, task);
        var ids = new List<int>();
        if (tokenizer.BosTokenId is int bos) ids.Add(bos);
        ids.AddRange(tokenizer.Encode(text));
        int embIndex = ids.IndexOf(tokenizer.EmbTokenId);
        if (embIndex <= 0) throw new InvalidOperationException($"The prompt has no {NoteTokenizer.EmbToken} token after its first token; check the templates.");
        int outputStart = ids.Count;
        if (output is not null)
        {
            ids.AddRange(tokenizer.EncodeContinuation(output));
            ids.Add(tokenizer.EosTokenId);
        }
        return new NotePrompt(ids.ToArray(), embIndex - 1, outputStart, task, truncated);
    }

    /// <summary>The output a note's prompt is trained to produce for <paramref name="task"/>, or null when the note lacks it.</summary>
    public string? TargetOutput(NoteText note, PromptTask task) => task.IsCategory
        ? note.Category
        : note.Hashtags.Count >= task.HashtagCount ? string.Join(Templates.HashtagSeparator, note.Hashtags.Take(task.HashtagCount)) : null;

    /// <summary>Splits generated hashtag text on the separator (trimmed, empty pieces dropped, duplicates removed).</summary>
    public string[] ParseHashtags(string generated) =>
        generated.Split(Templates.HashtagSeparator.Trim(), StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Distinct(StringComparer.Ordinal).ToArray();

    private static string Cut(string s, int max, out bool cut)
    {
        cut = s.Length > max;
        if (!cut) return s;
        int end = max;
        if (char.IsHighSurrogate(s[end - 1])) end--; // never split a surrogate pair
        return s[..end];
    }
}
