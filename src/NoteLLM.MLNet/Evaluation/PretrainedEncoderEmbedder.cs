using NoteLLM.MLNet.Modeling;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Evaluation;

/// <summary>
/// The zero-shot sentence-encoder baseline (the paper's SentenceBERT row without fine-tuning): a pretrained encoder
/// as its authors run it, <c>[CLS] text [SEP]</c> read bidirectionally and pooled the way it was trained (mean for
/// all-MiniLM-L6-v2, [CLS] for snowflake-arctic-embed), L2-normalised. No prompt, no projection, no training. The
/// same network NoteLLM fine-tunes (<see cref="BertPrefixLM"/>), so it needs no ONNX Runtime.
/// </summary>
public sealed class PretrainedEncoderEmbedder : IDisposable
{
    private readonly BertPrefixLM backbone;
    private readonly Tokenization.NoteTokenizer tokenizer;
    private readonly EmbeddingReadout pooling;

    /// <param name="encoder">the pretrained encoder (its package must be referenced)</param>
    /// <param name="maxTokens">word pieces read per text, [CLS] and [SEP] included (default 256, the window sentence-transformers uses for all-MiniLM-L6-v2)</param>
    /// <param name="batchSize">texts per forward pass, in order of length (default 32)</param>
    public PretrainedEncoderEmbedder(PretrainedEncoder encoder, int maxTokens = 256, int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        if (maxTokens < 3) throw new ArgumentOutOfRangeException(nameof(maxTokens), maxTokens, "must leave room for [CLS], a word piece and [SEP]");
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "must be at least 1");
        (backbone, tokenizer) = encoder.Load();
        backbone.eval();
        pooling = encoder.Pooling;
        MaxTokens = maxTokens;
        BatchSize = batchSize;
    }

    public int MaxTokens { get; }
    public int BatchSize { get; }
    /// <summary>Embedding length (the encoder's hidden size).</summary>
    public int Dimensions => backbone.HiddenSize;

    /// <summary>The L2-normalised embedding of each text, in order.</summary>
    public float[][] Embed(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var ids = texts.Select(t => (IReadOnlyList<int>)[tokenizer.BosTokenId!.Value, .. tokenizer.Encode(t ?? "").Take(MaxTokens - 2), tokenizer.EosTokenId]).ToArray();
        var result = new float[texts.Count][];
        // batches of similar length waste little compute on padding
        foreach (var batch in Enumerable.Range(0, texts.Count).OrderBy(i => ids[i].Count).Chunk(BatchSize))
        {
            var (flat, mask, length) = LanguageBackbone.RightPadded(batch.Select(i => ids[i]).ToList(), tokenizer.PadTokenId);
            using var _ = no_grad();
            using var scope = NewDisposeScope();
            var maskTensor = tensor(mask, [batch.Length, length]);
            var hidden = backbone.Forward(tensor(flat, [batch.Length, length]), maskTensor);                  // [N, L, D], all bidirectional
            var pooled = pooling == EmbeddingReadout.FirstToken
                ? hidden.select(1, 0)                                                                      // [N, D]
                : (hidden * maskTensor.unsqueeze(-1)).sum(1) / maskTensor.sum(1, keepdim: true);          // [N, D] mean over real tokens
            var normalized = nn.functional.normalize(pooled, p: 2, dim: -1).contiguous().data<float>().ToArray();
            int d = backbone.HiddenSize;
            for (int r = 0; r < batch.Length; r++) result[batch[r]] = normalized.AsSpan(r * d, d).ToArray();
        }
        return result;
    }

    public void Dispose() => backbone.Dispose();
}
