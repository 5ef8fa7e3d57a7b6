using NoteLLM.MLNet.Prompting;
using NoteLLM.MLNet.Tokenization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Modeling;

/// <summary>
/// NoteLLM's network: the decoder LLM, the linear projection (no bias) from the hidden state at the token before
/// [EMB] to the note embedding, and the learnable temperature tau of the contrastive loss (spec sections 3-4).
/// State-dict names: <c>decoder.*</c> (HF names below it), <c>embedding_projection.weight</c>, <c>tau</c>.
/// </summary>
public sealed class NoteLLMNetwork : nn.Module
{
    private readonly LlamaForCausalLM decoder;
    private readonly DecoderLinear embedding_projection;
    private readonly Parameter tau;

    public NoteLLMNetwork(LlamaForCausalLM decoder, int embeddingDimension, double initialTau = 3.0) : base(nameof(NoteLLMNetwork))
    {
        this.decoder = decoder;
        embedding_projection = new DecoderLinear(decoder.Config.HiddenSize, embeddingDimension, hasBias: false);
        using (no_grad()) embedding_projection.Weight.normal_(0, 1.0 / Math.Sqrt(decoder.Config.HiddenSize));
        tau = new Parameter(tensor((float)initialTau));
        RegisterComponents();
        embedding_projection.to(decoder.Dtype);
    }

    public LlamaForCausalLM Decoder => decoder;
    public DecoderLinear EmbeddingProjection => embedding_projection;
    /// <summary>The temperature parameter; the similarity scale is exp(tau) (init 3.0, s ~ 20; no clamp).</summary>
    public Parameter Tau => tau;
    public int EmbeddingDimension => (int)embedding_projection.Weight.shape[0];

    /// <summary>L2-normalised note embeddings from hidden states [N, T, D] read at <paramref name="positions"/> [N] -> [N, E] (float32).</summary>
    public Tensor EmbeddingsAt(Tensor hidden, Tensor positions)
    {
        using var scope = NewDisposeScope();
        var rows = arange(hidden.shape[0], dtype: int64, device: hidden.device);
        return Embeddings(hidden[rows, positions]).MoveToOuterDisposeScope();       // [N, D] -> [N, E]
    }

    /// <summary>L2-normalised note embeddings from the hidden states [N, D] of the token before [EMB] -> [N, E] (float32).</summary>
    public Tensor Embeddings(Tensor states)
    {
        using var scope = NewDisposeScope();
        var projected = embedding_projection.forward(states).to(float32);           // [N, E]
        return nn.functional.normalize(projected, p: 2, dim: -1).MoveToOuterDisposeScope();
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
    /// <summary>Categories seen in training; a generated category outside it is "illegal" (spec section 7).</summary>
    public IReadOnlyList<string> Categories { get; set; }

    public NoteLLMModel(NoteLLMNetwork network, NoteTokenizer tokenizer, NotePromptBuilder prompts, IReadOnlyList<string>? categories = null)
    {
        if (network.Decoder.Config.VocabSize < tokenizer.VocabularySize)
            throw new ArgumentException($"The decoder has {network.Decoder.Config.VocabSize} token rows but the tokenizer needs {tokenizer.VocabularySize}; call ResizeVocabulary first.");
        Network = network; Tokenizer = tokenizer; Prompts = prompts;
        Categories = categories ?? [];
    }

    public LlamaForCausalLM Decoder => Network.Decoder;
    public int EmbeddingDimension => Network.EmbeddingDimension;

    /// <summary>
    /// A model whose decoder is built from scratch (random weights) for <paramref name="config"/>, with the bundled
    /// GPT-2 tokenizer unless another is given; the vocabulary is sized to the tokenizer. <paramref name="initialTau"/>
    /// starts the learnable temperature (pass <see cref="Training.NoteLLMTrainerOptions.InitialTau"/>).
    /// </summary>
    public static NoteLLMModel CreateFromScratch(DecoderConfig config, int embeddingDimension, NoteTokenizer? tokenizer = null,
        NotePromptTemplates? templates = null, NotePromptLimits? limits = null, int seed = 0, double initialTau = 3.0)
    {
        tokenizer ??= NoteTokenizer.CreateGpt2();
        manual_seed(seed);
        var decoder = new LlamaForCausalLM(config with { VocabSize = tokenizer.VocabularySize, EosTokenId = tokenizer.EosTokenId, BosTokenId = tokenizer.BosTokenId, PadTokenId = tokenizer.PadTokenId });
        decoder.InitializeWeights();
        return new NoteLLMModel(new NoteLLMNetwork(decoder, embeddingDimension, initialTau), tokenizer, new NotePromptBuilder(tokenizer, templates, limits));
    }

    /// <summary>
    /// A model on a pretrained Hugging Face checkpoint folder (config.json, safetensors, tokenizer files): the tokenizer
    /// gains [EMB] (and a padding token if needed) and the embedding matrix grows to match, new rows at the mean.
    /// <paramref name="initialTau"/> starts the learnable temperature (pass <see cref="Training.NoteLLMTrainerOptions.InitialTau"/>).
    /// </summary>
    public static NoteLLMModel FromHuggingFace(string folder, int embeddingDimension, ScalarType dtype = ScalarType.Float32,
        NotePromptTemplates? templates = null, NotePromptLimits? limits = null, int seed = 0, double initialTau = 3.0)
    {
        var tokenizer = NoteTokenizer.FromHuggingFaceFolder(folder);
        var decoder = HuggingFaceCheckpoint.Load(folder, dtype);
        decoder.ResizeVocabulary(Math.Max(tokenizer.VocabularySize, decoder.Config.VocabSize));
        manual_seed(seed);
        return new NoteLLMModel(new NoteLLMNetwork(decoder, embeddingDimension, initialTau), tokenizer, new NotePromptBuilder(tokenizer, templates, limits));
    }

    public void Dispose() => Network.Dispose();
}
