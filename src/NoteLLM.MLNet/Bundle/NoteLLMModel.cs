using NoteLLM.MLNet.Modeling;
using NoteLLM.MLNet.Prompting;
using NoteLLM.MLNet.Tokenization;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Bundle;

/// <summary>
/// A NoteLLM model ready to use: the network, its tokenizer (with [EMB]), the prompt builder and the legal
/// category set. <see cref="NoteLLMModelFiles"/> saves and loads it.
/// </summary>
public sealed class NoteLLMModel : IDisposable
{
    // before any of the model's matrix products: oneMKL chooses its kernels at its first call
    static NoteLLMModel() => Runtime.CpuMatrixProducts.UseAvx512KernelsOnAmd();

    public NoteLLMNetwork Network { get; }
    public NoteTokenizer Tokenizer { get; }
    /// <summary>The prompts the model is trained and generates with.</summary>
    public NotePromptBuilder Prompts { get; }
    /// <summary>
    /// Categories seen in training, which training sets; a generated category outside it is "illegal" (paper section
    /// 4.1), and constrained decoding chooses among them.
    /// </summary>
    public IReadOnlyList<string> Categories { get; internal set; }

    /// <summary>
    /// The generation tasks the model learned, which training sets from its notes (<see cref="Training.NoteLLMTrainer"/>).
    /// A task the model did not learn generates nothing, an empty category or no hashtags: what a backbone writes after a
    /// prompt it was never trained on is noise. Both for a model that was not trained here.
    /// </summary>
    public GenerationTasks LearnedTasks { get; internal set; } = GenerationTasks.Both;

    public NoteLLMModel(NoteLLMNetwork network, NoteTokenizer tokenizer, NotePromptBuilder prompts, IReadOnlyList<string>? categories = null)
    {
        if (network.Backbone.VocabularySize < tokenizer.VocabularySize)
            throw new ArgumentException($"The backbone has {network.Backbone.VocabularySize} token rows but the tokenizer needs {tokenizer.VocabularySize}; call ResizeVocabulary first.");
        Network = network; Tokenizer = tokenizer; Prompts = prompts; EmbeddingPrompts = prompts;
        Categories = categories ?? [];
    }

    /// <summary>
    /// The prompts the model is embedded with: <see cref="Prompts"/> unless <see cref="UseEmbeddingPromptLimits"/> set
    /// other limits. Generation always reads <see cref="Prompts"/>, the limits the model was trained with.
    /// </summary>
    public NotePromptBuilder EmbeddingPrompts { get; private set; }

    /// <summary>Whether notes are embedded with the training prompts' limits (no <see cref="UseEmbeddingPromptLimits"/> of other limits).</summary>
    public bool EmbedsWithTrainingPrompts => ReferenceEquals(EmbeddingPrompts, Prompts);

    /// <summary>
    /// Embeds with prompts of <paramref name="limits"/> from now on (same templates; generation keeps the training
    /// limits); the limits are saved with the model. Call it before the model is shared: embeddings computed meanwhile
    /// see either limits.
    /// </summary>
    public void UseEmbeddingPromptLimits(NotePromptLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        EmbeddingPrompts = limits == Prompts.Limits ? Prompts : new NotePromptBuilder(Tokenizer, Prompts.Templates, limits);
    }

    /// <summary>
    /// Throws when a prompt of the model (its generation prompts with <paramref name="maxNewTokens"/> generated after
    /// them, then its embedding prompts) could run past the backbone's learned positions (BERT's 512). Rotary
    /// backbones have no such end.
    /// </summary>
    /// <param name="maxNewTokens">Tokens generated at most after a prompt.</param>
    /// <param name="embeddingPrompts">The embedding prompts to check, when not yet the model's.</param>
    /// <param name="hashtagCounts">The j of the hashtag prompts used (default: 1 to 5, training's range).</param>
    /// <exception cref="ArgumentOutOfRangeException">Says how long a prompt can be, and which limit to lower.</exception>
    public void CheckPromptsFitPositions(int maxNewTokens, NotePromptBuilder? embeddingPrompts = null, int hashtagCounts = 5)
    {
        if (Backbone.MaxPositions is not int positions) return;
        foreach (var (prompts, generated, limits) in new[]
        {
            (Prompts, maxNewTokens, "NoteLLMOptions.PromptLimits"),
            (embeddingPrompts ?? EmbeddingPrompts, 0, "NoteLLMOptions.EmbeddingPromptLimits"),
        })
        {
            // a prompt is its template around the note, whose part is at most MaxNoteTokens: the template's length is
            // that of an empty note's prompt, so this bounds every prompt (by a few tokens too much at most)
            var empty = new NoteText("", "", [], null);
            int template = Enumerable.Range(1, hashtagCounts).Select(j => prompts.Build(empty, PromptTask.Hashtags(j), null).Ids.Length)
                .Append(prompts.Build(empty, PromptTask.Category, null).Ids.Length).Max();
            int longest = template + prompts.Limits.MaxNoteTokens + generated;
            if (longest > positions)
                throw new ArgumentOutOfRangeException(limits, $"A prompt can be {longest} tokens long ({prompts.Limits.MaxNoteTokens} of note, {template} of template" +
                    (generated > 0 ? $", {generated} generated" : "") + $") but the backbone learned {positions} positions: lower {limits}.MaxNoteTokens" +
                    (generated > 0 ? " or NoteLLMOptions.MaxNewTokens." : "."));
        }
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
    /// others), and the embedding is read with <paramref name="readout"/> (null: the encoder's own pooling). Prompts
    /// follow <paramref name="templates"/> (null: <see cref="NotePromptTemplates.ForSentenceEncoder"/>).
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
            return new NoteLLMModel(network, tokenizer, new NotePromptBuilder(tokenizer, templates ?? NotePromptTemplates.ForSentenceEncoder, limits));
        }
        catch { backbone.Dispose(); throw; }
    }

    public void Dispose() => Network.Dispose();
}
