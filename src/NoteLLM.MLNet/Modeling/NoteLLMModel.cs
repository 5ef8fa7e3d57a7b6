using NoteLLM.MLNet.Prompting;
using NoteLLM.MLNet.Tokenization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Modeling;

/// <summary>Where a note's embedding is read from the last layer's hidden states of its prompt.</summary>
public enum EmbeddingReadout
{
    /// <summary>The token immediately before [EMB], the token that predicts it (the paper, section 3.2).</summary>
    TokenBeforeEmb,
    /// <summary>The [EMB] token itself.</summary>
    EmbToken,
    /// <summary>The mean over the prompt up to the token before [EMB] (the pooling all-MiniLM-L6-v2 was trained with).</summary>
    MeanPooling,
    /// <summary>The prompt's first token, [CLS] for BERT (the pooling snowflake-arctic-embed was trained with); bidirectional backbones only.</summary>
    FirstToken,
}

/// <summary>
/// NoteLLM's network: the language backbone, the linear projection (no bias) from the read-out hidden state to the
/// note embedding, and the learnable temperature tau of the contrastive loss (paper section 3.3, equation 2).
/// State-dict names: <c>decoder.*</c> (HF names below it), <c>embedding_projection.weight</c>, <c>tau</c>.
/// </summary>
public sealed class NoteLLMNetwork : nn.Module
{
    private readonly LanguageBackbone decoder;
    private readonly DecoderLinear embedding_projection;
    private readonly Parameter tau;

    /// <param name="pretrainedBackbone">the backbone's read-out already means something: start the projection orthonormal</param>
    public NoteLLMNetwork(LanguageBackbone backbone, int embeddingDimension, double initialTau = 3.0,
        EmbeddingReadout readout = EmbeddingReadout.TokenBeforeEmb, bool pretrainedBackbone = false) : base(nameof(NoteLLMNetwork))
    {
        if (readout == EmbeddingReadout.FirstToken && !backbone.BidirectionalPrompt)
            throw new ArgumentException("EmbeddingReadout.FirstToken needs a backbone that reads the prompt bidirectionally: in a causal decoder the first token sees nothing of the note.", nameof(readout));
        decoder = backbone;
        Readout = readout;
        embedding_projection = new DecoderLinear(backbone.HiddenSize, embeddingDimension, hasBias: false);
        // On a pretrained backbone, orthonormal rows: at E = D the projection is a rotation, so the read-out keeps its
        // cosine geometry (the fine-tune starts from the encoder's own similarities); at E < D, a random subspace.
        using (no_grad())
            if (pretrainedBackbone) nn.init.orthogonal_(embedding_projection.Weight);
            else embedding_projection.Weight.normal_(0, 1.0 / Math.Sqrt(backbone.HiddenSize));
        tau = new Parameter(tensor((float)initialTau));
        RegisterComponents();
        embedding_projection.to(backbone.Dtype);
    }

    public LanguageBackbone Backbone => decoder;
    public EmbeddingReadout Readout { get; }
    public DecoderLinear EmbeddingProjection => embedding_projection;
    /// <summary>The temperature parameter; the similarity scale is exp(tau) (init 3.0, s ~ 20; no clamp).</summary>
    public Parameter Tau => tau;
    public int EmbeddingDimension => (int)embedding_projection.Weight.shape[0];

    /// <summary>How many prompt tokens, from the first, the read-out needs for a prompt whose token before [EMB] is at <paramref name="embeddingPosition"/>.</summary>
    public int ReadoutLength(int embeddingPosition) => embeddingPosition + (Readout == EmbeddingReadout.EmbToken ? 2 : 1);

    /// <summary>
    /// L2-normalised note embeddings [N, E] (float32) from hidden states [N, L, D] of <paramref name="prompts"/>, prompt n
    /// starting at column <paramref name="offsets"/>[n] (default 0: right padding).
    /// </summary>
    public Tensor EmbeddingsOf(Tensor hidden, IReadOnlyList<NotePrompt> prompts, IReadOnlyList<long>? offsets = null)
    {
        using var scope = NewDisposeScope();
        long Offset(int n) => offsets?[n] ?? 0;
        Tensor Columns(Func<NotePrompt, int> column) =>
            tensor(prompts.Select((p, n) => Offset(n) + column(p)).ToArray(), device: hidden.device); // [N]
        var rows = arange(hidden.shape[0], dtype: int64, device: hidden.device);
        var states = Readout switch                                                  // [N, D]
        {
            EmbeddingReadout.TokenBeforeEmb => hidden[rows, Columns(p => p.EmbeddingPosition)],
            EmbeddingReadout.EmbToken => hidden[rows, Columns(p => p.EmbeddingPosition + 1)],
            EmbeddingReadout.FirstToken => hidden[rows, Columns(_ => 0)],
            _ => MeanOver(hidden, Columns(p => p.NoteStart), Columns(p => p.NoteEnd - 1)), // the note's tokens, as the encoder pools a sentence
        };
        return Embeddings(states).MoveToOuterDisposeScope();
    }

    /// <summary>L2-normalised note embeddings from read-out hidden states [N, D] -> [N, E] (float32).</summary>
    public Tensor Embeddings(Tensor states)
    {
        using var scope = NewDisposeScope();
        var projected = embedding_projection.forward(states).to(float32);           // [N, E]
        return nn.functional.normalize(projected, p: 2, dim: -1).MoveToOuterDisposeScope();
    }

    // mean of hidden[n, start_n .. last_n] (inclusive) -> [N, D]
    private static Tensor MeanOver(Tensor hidden, Tensor starts, Tensor lasts)
    {
        var columns = arange(hidden.shape[1], dtype: int64, device: hidden.device).unsqueeze(0);              // [1, L]
        var inside = columns.ge(starts.unsqueeze(1)).logical_and(columns.le(lasts.unsqueeze(1))).to(hidden.dtype); // [N, L]
        return (hidden * inside.unsqueeze(-1)).sum(1) / inside.sum(1, keepdim: true);
    }
}

/// <summary>
/// A NoteLLM model ready to use: the network, its tokenizer (with [EMB]), the prompt builder and the legal
/// category set. <see cref="NoteLLMModelFiles"/> saves and loads it.
/// </summary>
public sealed class NoteLLMModel : IDisposable
{
    public NoteLLMNetwork Network { get; }
    public NoteTokenizer Tokenizer { get; }
    public NotePromptBuilder Prompts { get; }
    /// <summary>
    /// Categories seen in training, which training sets; a generated category outside it is "illegal" (paper section
    /// 4.1), and constrained decoding chooses among them.
    /// </summary>
    public IReadOnlyList<string> Categories { get; internal set; }

    public NoteLLMModel(NoteLLMNetwork network, NoteTokenizer tokenizer, NotePromptBuilder prompts, IReadOnlyList<string>? categories = null)
    {
        if (network.Backbone.VocabularySize < tokenizer.VocabularySize)
            throw new ArgumentException($"The backbone has {network.Backbone.VocabularySize} token rows but the tokenizer needs {tokenizer.VocabularySize}; call ResizeVocabulary first.");
        Network = network; Tokenizer = tokenizer; Prompts = prompts;
        Categories = categories ?? [];
    }

    public LanguageBackbone Backbone => Network.Backbone;
    public int EmbeddingDimension => Network.EmbeddingDimension;

    /// <summary>
    /// A model whose decoder is built from scratch (random weights) for <paramref name="config"/>, with the bundled
    /// GPT-2 tokenizer unless another is given; the vocabulary is sized to the tokenizer. <paramref name="initialTau"/>
    /// starts the learnable temperature (pass <see cref="Training.NoteLLMTrainerOptions.InitialTau"/>).
    /// </summary>
    public static NoteLLMModel CreateFromScratch(DecoderConfig config, int embeddingDimension, NoteTokenizer? tokenizer = null,
        NotePromptTemplates? templates = null, NotePromptLimits? limits = null, int seed = 0, double initialTau = 3.0,
        EmbeddingReadout readout = EmbeddingReadout.TokenBeforeEmb)
    {
        tokenizer ??= NoteTokenizer.CreateGpt2();
        manual_seed(seed);
        var decoder = new LlamaForCausalLM(config with { VocabSize = tokenizer.VocabularySize, EosTokenId = tokenizer.EosTokenId, BosTokenId = tokenizer.BosTokenId, PadTokenId = tokenizer.PadTokenId });
        decoder.InitializeWeights();
        return new NoteLLMModel(new NoteLLMNetwork(decoder, embeddingDimension, initialTau, readout), tokenizer, new NotePromptBuilder(tokenizer, templates, limits));
    }

    /// <summary>
    /// A model on a pretrained Hugging Face checkpoint folder (config.json, safetensors, tokenizer files): the tokenizer
    /// gains [EMB] (and a padding token if needed) and the embedding matrix grows to match, new rows at the mean.
    /// <paramref name="initialTau"/> starts the learnable temperature (pass <see cref="Training.NoteLLMTrainerOptions.InitialTau"/>).
    /// </summary>
    public static NoteLLMModel FromHuggingFace(string folder, int embeddingDimension, ScalarType dtype = ScalarType.Float32,
        NotePromptTemplates? templates = null, NotePromptLimits? limits = null, int seed = 0, double initialTau = 3.0,
        EmbeddingReadout readout = EmbeddingReadout.TokenBeforeEmb)
    {
        var tokenizer = NoteTokenizer.FromHuggingFaceFolder(folder);
        var decoder = HuggingFaceCheckpoint.Load(folder, dtype);
        decoder.ResizeVocabulary(Math.Max(tokenizer.VocabularySize, decoder.Config.VocabSize));
        manual_seed(seed);
        return new NoteLLMModel(new NoteLLMNetwork(decoder, embeddingDimension, initialTau, readout, pretrainedBackbone: true), tokenizer, new NotePromptBuilder(tokenizer, templates, limits));
    }

    /// <summary>
    /// A model on a pretrained BERT sentence encoder read as a prefix LM (<see cref="BertPrefixLM"/>): its WordPiece
    /// tokenizer gains [EMB] as a new token (row 30,522 for the shipped encoders, initialised at the mean of the
    /// others), and the embedding is read with <paramref name="readout"/> (null: the encoder's own pooling).
    /// </summary>
    public static NoteLLMModel FromPretrainedEncoder(PretrainedEncoder encoder, int embeddingDimension, NotePromptTemplates? templates = null,
        NotePromptLimits? limits = null, int seed = 0, double initialTau = 3.0, EmbeddingReadout? readout = null)
    {
        var (backbone, tokenizer) = encoder.Load();
        try
        {
            backbone.ResizeVocabulary(tokenizer.VocabularySize);
            manual_seed(seed);
            backbone.AddPredictionHead(); // the shipped sentence encoders have no masked-LM head
            var network = new NoteLLMNetwork(backbone, embeddingDimension, initialTau, readout ?? encoder.Pooling, pretrainedBackbone: true);
            return new NoteLLMModel(network, tokenizer, new NotePromptBuilder(tokenizer, templates, limits));
        }
        catch { backbone.Dispose(); throw; }
    }

    public void Dispose() => Network.Dispose();
}
