using NoteLLM.MLNet.Generation;
using NoteLLM.MLNet.Modeling;
using NoteLLM.MLNet.Prompting;
using NoteLLM.MLNet.Training;

namespace NoteLLM.MLNet;

/// <summary>
/// Options of <c>mlContext.Transforms.NoteLLM(...)</c>: which columns hold the notes, which base model to start
/// from, how to train (<see cref="Training"/>), and what the fitted transformer produces.
/// </summary>
public sealed class NoteLLMOptions
{
    // --- input columns of a pair row (Fit) and of a note row (Transform) ---
    /// <summary>Note id (Text), optional: used to recognise duplicate and self pairs (default "Id").</summary>
    public string IdColumnName { get; set; } = "Id";
    public string TitleColumnName { get; set; } = "Title";
    public string ContentColumnName { get; set; } = "Content";
    /// <summary>Hashtags: a vector of Text, or Text delimited by <see cref="HashtagSeparators"/> (default "Hashtags").</summary>
    public string? HashtagsColumnName { get; set; } = "Hashtags";
    /// <summary>Category (Text), used in training only; null when the data has no categories (default "Category").</summary>
    public string? CategoryColumnName { get; set; } = "Category";
    /// <summary>Prefix of the related note's columns in a pair row (default "Related": RelatedTitle, RelatedContent, ...).</summary>
    public string RelatedColumnPrefix { get; set; } = "Related";
    /// <summary>Separators of a delimited hashtag string (default ',', ';', newline).</summary>
    public char[] HashtagSeparators { get; set; } = [',', ';', '\n'];

    // --- outputs ---
    public string EmbeddingColumnName { get; set; } = "Embedding";
    public string GeneratedHashtagsColumnName { get; set; } = "GeneratedHashtags";
    public string GeneratedCategoryColumnName { get; set; } = "GeneratedCategory";
    /// <summary>Which outputs the transformer computes (default all). Embedding-only inference needs no decoding and is much cheaper.</summary>
    public NoteOutputs Outputs { get; set; } = NoteOutputs.All;

    // --- base model ---
    /// <summary>
    /// A Hugging Face checkpoint folder (config.json, *.safetensors, tokenizer.model or vocab.json + merges.txt) to
    /// fine-tune; null (default) builds a decoder from scratch with <see cref="FromScratch"/> and the GPT-2 tokenizer.
    /// </summary>
    public string? HuggingFaceCheckpoint { get; set; }
    /// <summary>The decoder built when no checkpoint is given (default: d=256, 4 layers, 8 heads, ffn 688, tied embeddings).</summary>
    public DecoderConfig FromScratch { get; set; } = new()
    {
        HiddenSize = 256, IntermediateSize = 688, NumHiddenLayers = 4, NumAttentionHeads = 8, NumKeyValueHeads = 8,
        MaxPositionEmbeddings = 1024, TieWordEmbeddings = true,
    };
    /// <summary>Weight precision: "float32" (default on CPU) or "bfloat16".</summary>
    public string Precision { get; set; } = "float32";
    public NotePromptTemplates PromptTemplates { get; set; } = new();
    public NotePromptLimits PromptLimits { get; set; } = new();

    // --- training ---
    /// <summary>Training knobs; defaults are the paper's for a pretrained 7B model. For a from-scratch model use <see cref="NoteLLMTrainerOptions.ForSmallModelFromScratch"/>.</summary>
    public NoteLLMTrainerOptions Training { get; set; } = new();
    /// <summary>Receives training progress (step, losses, tau, lr, notes/s, ETA) besides ML.NET's log channel.</summary>
    public IProgress<TrainingProgress>? Progress { get; set; }

    // --- inference ---
    /// <summary>Notes per forward pass when transforming (default 16).</summary>
    public int InferenceBatchSize { get; set; } = 16;
    /// <summary>Most tokens generated for the category or hashtags (default 24).</summary>
    public int MaxNewTokens { get; set; } = 24;
    /// <summary>Repetition penalty of greedy decoding (default 1.2, as in the authors' code; 1 disables it).</summary>
    public double RepetitionPenalty { get; set; } = 1.2;
    /// <summary>j of the hashtag prompt at inference: how many hashtags to ask for (default 3).</summary>
    public int GeneratedHashtagCount { get; set; } = 3;
}
