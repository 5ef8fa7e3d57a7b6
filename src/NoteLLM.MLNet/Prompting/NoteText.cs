namespace NoteLLM.MLNet.Prompting;

/// <summary>
/// One note as the model sees it: title, content, hashtags ("topics" in the paper) and category. Hashtags may be
/// empty and the category null when unknown; such a note simply skips the generation task that needs them.
/// </summary>
public sealed record NoteText(string Title, string Content, IReadOnlyList<string> Hashtags, string? Category)
{
    public static NoteText Of(string? title, string? content, IEnumerable<string?>? hashtags = null, string? category = null) =>
        new(title?.Trim() ?? "", content?.Trim() ?? "",
            hashtags?.Where(h => !string.IsNullOrWhiteSpace(h)).Select(h => h!.Trim()).ToArray() ?? [],
            string.IsNullOrWhiteSpace(category) ? null : category.Trim());

    /// <summary>True when there is no text at all to embed.</summary>
    public bool IsEmpty => Title.Length == 0 && Content.Length == 0;
}
