using NoteLLM.MLNet.Generation;
using NoteLLM.MLNet.Modeling;
using NoteLLM.MLNet.Tests.TestSupport;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Tests.Modeling;

/// <summary>The prefix-LM attention of <see cref="BertPrefixLM"/>: bidirectional prompt, causal tail, KV-cached decoding.</summary>
public class BertPrefixLMTests
{
    // 12 tokens: a bidirectional prompt of 6 ([0, 6)), then a causal prompt tail (6..8), then output tokens (9..11)
    private static readonly long[] Sequence = [1, 14, 15, 16, 17, 18, 30, 31, 32, 40, 41, 42];
    private const int PromptEnd = 6, OutputStart = 9;

    private static float[,] Hidden(BertPrefixLM model, long[] ids)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var h = model.Forward(tensor(ids).unsqueeze(0), promptEnds: tensor(new long[] { PromptEnd }))[0]; // [T, D]
        var flat = h.data<float>().ToArray();
        var result = new float[h.shape[0], h.shape[1]];
        Buffer.BlockCopy(flat, 0, result, 0, flat.Length * sizeof(float));
        return result;
    }

    private static double MaxDifference(float[,] a, float[,] b, int row) =>
        Enumerable.Range(0, a.GetLength(1)).Max(d => Math.Abs(a[row, d] - b[row, d]));

    [Fact]
    public void ASequenceLongerThanTheLearnedPositionsSaysWhichLimitsToLower()
    {
        using var model = TinyModels.CreateBert(); // 128 positions
        using var _ = no_grad();
        Assert.Equal(128, model.MaxPositions);
        using (model.Forward(ones(1, 128, dtype: ScalarType.Int64))) { } // the last position is fine
        var error = Assert.Throws<InvalidOperationException>(() => model.Forward(ones(1, 129, dtype: ScalarType.Int64)));
        Assert.Contains("A sequence of 129 tokens is longer than the 128 positions this encoder learned: lower NotePromptLimits.MaxNoteTokens", error.Message);
    }

    [Fact]
    public void ChangingAnOutputTokenNeverChangesAPromptPosition()
    {
        using var model = TinyModels.CreateBert();
        var original = Hidden(model, Sequence);
        var changed = (long[])Sequence.Clone();
        changed[OutputStart + 1] = 77;
        var after = Hidden(model, changed);
        for (int t = 0; t <= OutputStart; t++) Assert.Equal(0.0, MaxDifference(original, after, t));
        Assert.True(MaxDifference(original, after, OutputStart + 1) > 1e-3); // the changed token itself does change
    }

    [Fact]
    public void ALaterPromptTokenChangesAnEarlierOneButTheCausalTailDoesNot()
    {
        using var model = TinyModels.CreateBert();
        var original = Hidden(model, Sequence);

        var laterPrompt = (long[])Sequence.Clone();
        laterPrompt[PromptEnd - 1] = 77; // the last bidirectional token
        var afterPrompt = Hidden(model, laterPrompt);
        for (int t = 0; t < PromptEnd - 1; t++) Assert.True(MaxDifference(original, afterPrompt, t) > 1e-4, $"position {t} did not see a later prompt token");

        var tail = (long[])Sequence.Clone();
        tail[PromptEnd + 1] = 77; // a causal token after the bidirectional prompt
        var afterTail = Hidden(model, tail);
        for (int t = 0; t <= PromptEnd; t++) Assert.Equal(0.0, MaxDifference(original, afterTail, t));
    }

    [Fact]
    public void PaddingIsInvisibleToTheBidirectionalPrompt()
    {
        using var model = TinyModels.CreateBert();
        using var _ = no_grad();
        var alone = model.Forward(tensor(Sequence).unsqueeze(0), promptEnds: tensor(new long[] { PromptEnd }));
        // the same row left-padded by 3 inside a batch: its prompt ends 3 columns later
        var padded = tensor(new long[] { 0, 0, 0 }.Concat(Sequence).ToArray()).unsqueeze(0);
        var mask = tensor(new long[] { 0, 0, 0 }.Concat(Enumerable.Repeat(1L, Sequence.Length)).ToArray()).unsqueeze(0);
        var shifted = model.Forward(padded, mask, promptEnds: tensor(new long[] { PromptEnd + 3 })).narrow(1, 3, Sequence.Length);
        Assert.True(alone.allclose(shifted, rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void APaddedBatchComputesOnlyRealTokensWithTheGradientsOfEachRowAlone()
    {
        using var model = TinyModels.CreateBert();
        long[][] rows = [Sequence, Sequence[..7], Sequence[..4]];
        int[] ends = [PromptEnd, 5, 4];
        // reference: each row alone (no padding), loss = sum of its hidden states times fixed weights
        var probe = randn(Sequence.Length, model.HiddenSize, generator: new Generator(7));
        model.zero_grad();
        var aloneHidden = new List<Tensor>();
        for (int r = 0; r < rows.Length; r++)
        {
            var h = model.Forward(tensor(rows[r]).unsqueeze(0), promptEnds: tensor(new long[] { ends[r] }))[0]; // [T_r, D]
            h.mul(probe.narrow(0, 0, rows[r].Length)).sum().backward();
            aloneHidden.Add(h.detach());
        }
        var aloneGrads = model.parameters().Select(p => p.grad?.clone()).ToList();

        model.zero_grad();
        var (ids, mask, length) = LanguageBackbone.RightPadded(rows.Select(r => r.Select(i => (int)i).ToList()).ToList(), pad: 0);
        var hidden = model.Forward(tensor(ids, [rows.Length, length]), tensor(mask, [rows.Length, length]), promptEnds: tensor(ends.Select(e => (long)e).ToArray())); // [B, L, D]
        var realMask = tensor(mask, [rows.Length, length]).unsqueeze(2).to(float32);
        hidden.mul(probe.unsqueeze(0)).mul(realMask).sum().backward();
        for (int r = 0; r < rows.Length; r++)
        {
            Assert.True(hidden[r].narrow(0, 0, rows[r].Length).allclose(aloneHidden[r], rtol: 1e-4, atol: 1e-5), $"row {r}");
            if (rows[r].Length < length) Assert.Equal(0.0, hidden[r].narrow(0, rows[r].Length, length - rows[r].Length).abs().max().item<float>()); // padding is never computed
        }
        var batchedGrads = model.parameters().Select(p => p.grad).ToList();
        for (int i = 0; i < aloneGrads.Count; i++)
            if (aloneGrads[i] is { } alone) Assert.True(batchedGrads[i]!.allclose(alone, rtol: 1e-3, atol: 1e-5), $"parameter {i}");
    }

    private static readonly int[][] Prompts = [[1, 5, 17, 33, 42, 8], [1, 9, 4], [1, 60, 61, 62, 63, 64, 65, 66, 67]];
    private static readonly int[] PromptLengths = [4, 2, 6];

    [Theory]
    [InlineData(1.0)]
    [InlineData(1.2)]
    public void CachedDecodingEqualsFullRecomputation(double penalty)
    {
        using var model = TinyModels.CreateBert();
        var cached = GreedyDecoder.Generate(model, Prompts, eosTokenId: 2, padTokenId: 0,
            new GreedyDecodingOptions { MaxNewTokens = 12, RepetitionPenalty = penalty, UseKvCache = true }, PromptLengths);
        var uncached = GreedyDecoder.Generate(model, Prompts, eosTokenId: 2, padTokenId: 0,
            new GreedyDecodingOptions { MaxNewTokens = 12, RepetitionPenalty = penalty, UseKvCache = false }, PromptLengths);
        Assert.Equal(cached, uncached);
        Assert.All(cached, g => Assert.NotEmpty(g));
    }

    [Fact]
    public void BatchedLeftPaddedDecodingEqualsOneAtATime()
    {
        using var model = TinyModels.CreateBert();
        var options = new GreedyDecodingOptions { MaxNewTokens = 10 };
        var batched = GreedyDecoder.Generate(model, Prompts, 2, 0, options, PromptLengths);
        for (int i = 0; i < Prompts.Length; i++)
            Assert.Equal(GreedyDecoder.Generate(model, [Prompts[i]], 2, 0, options, [PromptLengths[i]])[0], batched[i]);
    }

    [Fact]
    public void ResizedVocabularyAddsRowsAtTheMeanAndKeepsLogits()
    {
        using var model = TinyModels.CreateBert();
        using var _ = no_grad();
        var ids = tensor(Sequence).unsqueeze(0);
        var before = model.Logits(model.Forward(ids));
        model.ResizeVocabulary(99);
        var after = model.Logits(model.Forward(ids));
        Assert.Equal(99, model.VocabularySize);
        Assert.True(before.allclose(after.narrow(-1, 0, 97), rtol: 1e-5, atol: 1e-6));
        Assert.True(model.TokenEmbedding.weight![98].allclose(model.TokenEmbedding.weight.narrow(0, 0, 97).mean([0]), atol: 1e-6));
    }

    [Fact]
    public void ConfigRoundTripsThroughHuggingFaceJson()
    {
        using var model = TinyModels.CreateBert();
        var again = LanguageBackbone.FromHuggingFaceJson(model.ToHuggingFaceJson());
        Assert.IsType<BertPrefixLM>(again);
        Assert.Equal(model.Config, ((BertPrefixLM)again).Config);
    }

    [Fact]
    public void ThePredictionHeadChangesOnlyTheLogitsAndTravelsWithTheConfig()
    {
        using var model = TinyModels.CreateBert();
        var ids = tensor(Sequence).unsqueeze(0);
        using var _ = no_grad();
        var hiddenBefore = model.Forward(ids);
        var logitsBefore = model.Logits(hiddenBefore);
        Assert.DoesNotContain("notellm_prediction_head", model.ToHuggingFaceJson()); // older saved models have no head and read as such

        model.AddPredictionHead();
        Assert.True(model.Config.PredictionHead);
        Assert.Contains(model.named_parameters(), p => p.name == "transform.dense.weight");
        Assert.Equal(0.0, (model.Forward(ids) - hiddenBefore).abs().max().item<float>());     // the states an embedding is read from stay
        Assert.True((model.Logits(hiddenBefore) - logitsBefore).abs().max().item<float>() > 1e-2); // the logits read them through the head

        // a model rebuilt from the saved config has the same parameters, so the saved weights load into it
        using var again = (BertPrefixLM)LanguageBackbone.FromHuggingFaceJson(model.ToHuggingFaceJson());
        Assert.Equal(model.named_parameters().Select(p => (p.name, string.Join("x", p.parameter.shape))),
            again.named_parameters().Select(p => (p.name, string.Join("x", p.parameter.shape))));
    }
}
