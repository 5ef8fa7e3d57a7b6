namespace NoteLLM.MLNet.Prompting;

/// <summary>
/// The note compression prompt (paper section 3.2) as data:
/// <c>[BOS]&lt;Instruction&gt; &lt;Input Note&gt; The compression word is:"[EMB]". &lt;Output Guidance&gt; &lt;Output&gt;[EOS]</c>.
/// Placeholders: <c>{title}</c>, <c>{content}</c>, <c>{hashtags}</c>, <c>{j}</c>. Defaults are the paper's English
/// templates; <see cref="ForSentenceEncoder"/> is the variant for a pretrained sentence encoder. Every field can be
/// overridden (e.g. for another language) and travels with a saved model.
/// </summary>
public sealed record NotePromptTemplates
{
    /// <summary>
    /// The prompt for a pretrained sentence encoder (the default of that backbone): the paper's prompt without its
    /// instruction, json frame and compression sentence, <c>[CLS] title hashtags content[EMB] guidance</c>. The prompt
    /// read bidirectionally is then the plain note text the encoder was trained to embed, so before any training the
    /// note's embedding is the encoder's own; [EMB] and the output guidance, which tells the two generation tasks
    /// apart, follow it. An instruction is something a chat LLM follows; to a sentence encoder it is text that every
    /// note shares, and it pulls all notes' embeddings together (docs/results.md measures both prompts on all-MiniLM-L6-v2).
    /// </summary>
    public static NotePromptTemplates ForSentenceEncoder { get; } = new()
    {
        CategoryInstruction = "",
        HashtagInstruction = "",
        CategoryNote = "{title} {hashtags} {content}",
        HashtagNote = "{title} {content}",
        Compression = Tokenization.NoteTokenizer.EmbToken,
    };

    public string CategoryInstruction { get; init; } =
        "Extract the note information in json format, compress it into one word for recommendation, and generate the category of the note.";
    public string HashtagInstruction { get; init; } =
        "Extract the note information in json format, compress it into one word for recommendation, and generate {j} topics of the note.";
    /// <summary>Input note of the category variant: shows the hashtags.</summary>
    public string CategoryNote { get; init; } = "{'title': {title}, 'topic': {hashtags}, 'content': {content}}";
    /// <summary>Input note of the hashtag variant: the hashtags to generate are not shown.</summary>
    public string HashtagNote { get; init; } = "{'title': {title}, 'content': {content}}";
    public string Compression { get; init; } = "The compression word is:\"[EMB]\".";
    public string CategoryGuidance { get; init; } = "The category is:";
    public string HashtagGuidance { get; init; } = "The {j} topics are:";
    /// <summary>Joins hashtags in the input note and in generated output; also splits the generated text.</summary>
    public string HashtagSeparator { get; init; } = ", ";

    /// <summary>Throws when a template lacks what the method needs (the [EMB] token, the note fields).</summary>
    public NotePromptTemplates Validate()
    {
        void Require(bool ok, string what) { if (!ok) throw new ArgumentException($"Invalid prompt templates: {what}"); }
        Require(Compression.Contains(Tokenization.NoteTokenizer.EmbToken), $"Compression must contain the {Tokenization.NoteTokenizer.EmbToken} token.");
        Require(CategoryNote.Contains("{content}") && CategoryNote.Contains("{title}"), "CategoryNote must contain {title} and {content}.");
        Require(HashtagNote.Contains("{content}") && HashtagNote.Contains("{title}"), "HashtagNote must contain {title} and {content}.");
        Require(!HashtagNote.Contains("{hashtags}"), "HashtagNote must not show {hashtags}: they are what the variant generates.");
        Require(HashtagSeparator.Trim().Length > 0, "HashtagSeparator needs a visible character to split generated hashtags.");
        return this;
    }
}
