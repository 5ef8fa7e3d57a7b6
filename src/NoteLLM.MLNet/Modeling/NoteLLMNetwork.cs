using NoteLLM.MLNet.Prompting;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Modeling;

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

    /// <param name="backbone">the language model whose hidden states are read</param>
    /// <param name="embeddingDimension">size of the note embedding after the projection</param>
    /// <param name="initialTau">starting value of the learnable log-scale of the contrastive similarities</param>
    /// <param name="readout">which hidden states make the note embedding</param>
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
