using NoteLLM.MLNet.Modeling;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Training;

/// <summary>
/// CSFT generation loss (paper section 3.4): token-level cross-entropy on the output tokens and EOS only,
/// <c>L_gen = -1/T sum_t log p(o_t | o_&lt;t, prompt)</c>, T = supervised tokens in the batch. The vocabulary
/// projection runs only at the T positions that predict an output token, not over the whole prompt.
/// </summary>
public static class GenerationLoss
{
    /// <param name="decoder">the backbone whose output projection gives the logits</param>
    /// <param name="hidden">decoder output [N, L, D]</param>
    /// <param name="rows">[T] batch row of each supervised token</param>
    /// <param name="positions">[T] position whose hidden state predicts the token (its index - 1)</param>
    /// <param name="labels">[T] the token ids</param>
    /// <returns>The mean loss, or a zero scalar when the batch has no supervised token.</returns>
    public static Tensor Compute(LanguageBackbone decoder, Tensor hidden, Tensor rows, Tensor positions, Tensor labels)
    {
        if (labels.shape[0] == 0) return zeros([], dtype: float32, device: hidden.device);
        using var scope = NewDisposeScope();
        var atPositions = hidden[rows, positions];                 // [T, D]
        var logits = decoder.Logits(atPositions).to(float32);     // [T, V]
        return nn.functional.cross_entropy(logits, labels).MoveToOuterDisposeScope();
    }
}
