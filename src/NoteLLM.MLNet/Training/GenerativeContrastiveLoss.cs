using NoteLLM.MLNet.Runtime;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Training;

/// <summary>
/// Generative-contrastive learning loss (paper section 3.3). The batch holds B related pairs as 2B embeddings laid
/// out <c>[A_1..A_B, B_1..B_B]</c>; every note is an anchor, its partner the positive, the other 2B-2 notes the
/// negatives, the note itself excluded:
/// <c>L_cl = -1/(2B) sum_i log( exp(sim(n_i, n_i+) s) / sum_{j != i} exp(sim(n_i, n_j) s) )</c>, s = exp(tau).
/// </summary>
public static class GenerativeContrastiveLoss
{
    /// <param name="embeddings">L2-normalised [2B, E] (so the dot product is the cosine similarity).</param>
    /// <param name="tau">the learnable log-scale (scalar).</param>
    public static Tensor Compute(Tensor embeddings, Tensor tau)
    {
        long n = embeddings.shape[0];
        if (n < 4 || n % 2 != 0) throw new ArgumentException($"GCL needs an even number of at least 4 embeddings (2 pairs or more); got {n}.", nameof(embeddings));
        using var scope = NewDisposeScope();
        long b = n / 2;
        var device = embeddings.device;
        var scores = embeddings.matmul(embeddings.t()) * tau.to(embeddings.dtype).exp();                 // [2B, 2B]
        scores = scores.masked_fill(eye(n, dtype: @bool, device: device), HeldScalars.NegativeInfinity); // j != i
        var partner = cat([arange(b, n, device: device), arange(0, b, device: device)]);                // i <-> i+B
        return nn.functional.cross_entropy(scores, partner).MoveToOuterDisposeScope();                   // mean over 2B anchors
    }
}
