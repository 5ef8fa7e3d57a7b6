namespace NoteLLM.MLNet.Data;

/// <summary>
/// One note: the row type of a notes <see cref="Microsoft.ML.IDataView"/> (columns <c>Id</c>, <c>Title</c>,
/// <c>Content</c>, <c>Hashtags</c>, <c>Category</c>, <c>Exposure</c>, <c>Split</c>) and one line of a notes JSONL file.
/// </summary>
public sealed class NoteRecord
{
    /// <summary>Unique note id (required, non-empty).</summary>
    public string Id { get; set; } = "";

    /// <summary>The note's title.</summary>
    public string Title { get; set; } = "";

    /// <summary>The note's body text.</summary>
    public string Content { get; set; } = "";

    /// <summary>The note's hashtags (topics); empty when it has none.</summary>
    public string[] Hashtags { get; set; } = [];

    /// <summary>The note's category; empty when unknown.</summary>
    public string Category { get; set; } = "";

    /// <summary>
    /// How much exposure the note gets (for the paper's low/high exposure split, Table 3); 0 when the file gives none.
    /// </summary>
    public int Exposure { get; set; }

    /// <summary>Which part of a dataset the note belongs to (<c>train</c> or <c>test</c>); empty when the file gives none.</summary>
    public string Split { get; set; } = "";
}

/// <summary>
/// A related-note pair <c>NoteId -> RelatedNoteId</c> with its score: the row type of a pairs
/// <see cref="Microsoft.ML.IDataView"/>, of a pairs CSV file and of the co-occurrence miner's output.
/// </summary>
public sealed class RelatedNotePair
{
    /// <summary>The note a user viewed (A in paper section 3.3).</summary>
    public string NoteId { get; set; } = "";

    /// <summary>The related note (B in paper section 3.3).</summary>
    public string RelatedNoteId { get; set; } = "";

    /// <summary>The pair's score s(A->B) (1 when a file gives none).</summary>
    public float Score { get; set; } = 1f;
}

/// <summary>
/// A training row for <c>Fit</c>: a note's columns plus its related note's columns prefixed with <c>Related</c>.
/// </summary>
public sealed class RelatedPairRow
{
    public string Id { get; set; } = "";
    public string Title { get; set; } = "";
    public string Content { get; set; } = "";
    public string[] Hashtags { get; set; } = [];
    public string Category { get; set; } = "";
    public string RelatedId { get; set; } = "";
    public string RelatedTitle { get; set; } = "";
    public string RelatedContent { get; set; } = "";
    public string[] RelatedHashtags { get; set; } = [];
    public string RelatedCategory { get; set; } = "";
}
