using NoteLLM.MLNet.Modeling;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Training;

/// <summary>
/// CSFT generation loss (paper section 3.4, equation 3): cross-entropy on the output tokens and EOS only,
/// <c>L_gen = -1/T sum_t log p(o_t | o_&lt;t, prompt)</c>. With <see cref="GenerationLossAverage.PerToken"/> T counts the
/// supervised tokens of the whole batch (the authors' code); with <see cref="GenerationLossAverage.PerNote"/> T is each
/// note's own output length and the notes' losses are then averaged. The vocabulary projection runs only at the
/// positions that predict an output token, not over the whole prompt.
/// </summary>
public static class GenerationLoss
{
    /// <param name="decoder">the backbone whose output projection gives the logits</param>
    /// <param name="hidden">decoder output [N, L, D]</param>
    /// <param name="rows">[T] batch row of each supervised token</param>
    /// <param name="positions">[T] position whose hidden state predicts the token (its index - 1)</param>
    /// <param name="labels">[T] the token ids</param>
    /// <param name="average">what the token losses are averaged over</param>
    /// <returns>The mean loss, or a zero scalar when the batch has no supervised token.</returns>
    public static Tensor Compute(LanguageBackbone decoder, Tensor hidden, Tensor rows, Tensor positions, Tensor labels,
        GenerationLossAverage average)
    {
        if (labels.shape[0] == 0) return zeros([], dtype: float32, device: hidden.device);
        using var scope = NewDisposeScope();
        var atPositions = hidden[rows, positions];                 // [T, D]
        var logits = decoder.Logits(atPositions).to(float32);     // [T, V]
        if (average == GenerationLossAverage.PerToken) return nn.functional.cross_entropy(logits, labels).MoveToOuterDisposeScope();

        var tokenLosses = nn.functional.cross_entropy(logits, labels, reduction: nn.Reduction.None); // [T]
        var outputLengths = bincount(rows);                                                         // [N'] output tokens per row
        var weights = outputLengths.index_select(0, rows).to(float32).reciprocal();                 // [T] 1 / |the token's output|
        var notes = outputLengths.count_nonzero().to(float32);                                      // rows with an output
        return ((tokenLosses * weights).sum() / notes).MoveToOuterDisposeScope();
    }
}
