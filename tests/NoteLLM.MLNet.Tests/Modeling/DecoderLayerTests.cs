using NoteLLM.MLNet.Modeling;
using NoteLLM.MLNet.Tests.TestSupport;
using TorchSharp;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Tests.Modeling;

public class DecoderLayerTests
{
    private static void AssertClose(float[] expected, Tensor actual, float tolerance = 1e-5f)
    {
        var got = actual.to(float32).contiguous().data<float>().ToArray();
        Assert.Equal(expected.Length, got.Length);
        for (int i = 0; i < got.Length; i++)
            Assert.True(Math.Abs(expected[i] - got[i]) <= tolerance, $"element {i}: expected {expected[i]}, got {got[i]}");
    }

    private static void AssertClose(Tensor expected, Tensor actual, double tolerance) =>
        Assert.True(expected.allclose(actual, rtol: 0, atol: tolerance), $"max abs difference {(expected - actual).abs().max().item<float>()} > {tolerance}");

    [Fact]
    public void RmsNormMatchesHandComputedValues()
    {
        using var norm = new RmsNorm(4, 1e-6);
        using (no_grad()) norm.state_dict()["weight"].copy_(tensor(new float[] { 1, 1, 2, 0.5f }));
        // rms([1,2,3,4]) = sqrt(7.5); y = x / rms * w
        AssertClose([0.365148f, 0.730297f, 2.19089f, 0.730297f], norm.forward(tensor(new float[] { 1, 2, 3, 4 })));
    }

    [Fact]
    public void RotaryEmbeddingMatchesHandComputedValues()
    {
        var config = TinyModels.Config(hidden: 4, heads: 1, kvHeads: 1); // head dim 4: inverse frequencies 1 and 1/100
        var rope = new RotaryEmbedding(config);
        var (cos, sin) = rope.Tables(tensor(new long[] { 1 }).view(1, 1), float32);
        var x = tensor(new float[] { 1, 2, 3, 4 }).view(1, 1, 1, 4); // [B, heads, T, E]
        // rotate-half: [x1 cos1 - x3 sin1, x2 cos.01 - x4 sin.01, x3 cos1 + x1 sin1, x4 cos.01 + x2 sin.01]
        AssertClose([-1.984111f, 1.959901f, 2.462378f, 4.0198f], RotaryEmbedding.Apply(x, cos, sin));
        // position 0 is the identity
        var (cos0, sin0) = rope.Tables(tensor(new long[] { 0 }).view(1, 1), float32);
        AssertClose([1, 2, 3, 4], RotaryEmbedding.Apply(x, cos0, sin0));
    }

    [Fact]
    public void AttentionMatchesHandComputedCausalSoftmax()
    {
        // one head of dimension 2, identity projections: q = k = rope(x), v = x
        var config = TinyModels.Config(hidden: 2, heads: 1, kvHeads: 1);
        using var attention = new Attention(config);
        using (no_grad())
            foreach (var (_, p) in attention.named_parameters()) p.copy_(eye(2));
        var x = tensor(new float[] { 1, 0, 0.5f, 1 }).view(1, 2, 2);
        var (cos, sin) = new RotaryEmbedding(config).Tables(tensor(new long[] { 0, 1 }).view(1, 2), float32);
        // token 0 sees only itself: v0 = [1, 0]; token 1: softmax([q1.k0, q1.k1] / sqrt 2) over [v0, v1]
        AssertClose([1, 0, 0.608107f, 0.783786f], attention.Forward(x, cos, sin, mask: null, cache: null));
    }

    [Fact]
    public void GroupedQueryAttentionEqualsMultiHeadWithRepeatedKeyValueHeads()
    {
        var gqaConfig = TinyModels.Config(heads: 4, kvHeads: 2);
        using var gqa = TinyModels.Create(gqaConfig);
        using var mha = new LlamaForCausalLM(gqaConfig with { NumKeyValueHeads = 4 });
        int headDim = gqaConfig.ResolvedHeadDim;
        using (no_grad())
            foreach (var (name, p) in mha.state_dict())
            {
                var source = gqa.state_dict()[name];
                if (name.EndsWith("k_proj.weight") || name.EndsWith("v_proj.weight"))
                    // kv head j serves query heads 2j and 2j+1: repeat each head's block twice, in place
                    p.copy_(source.view(2, 1, headDim, -1).expand(2, 2, headDim, source.shape[1]).reshape(4 * headDim, -1));
                else p.copy_(source);
            }
        var ids = tensor(new long[] { 5, 9, 3, 7, 1, 4 }).view(1, 6);
        using var _ = no_grad();
        AssertClose(gqa.Forward(ids), mha.Forward(ids), 1e-5);
    }

    [Fact]
    public void FutureTokensDoNotChangeEarlierLogits()
    {
        using var model = TinyModels.Create(TinyModels.Config());
        using var _ = no_grad();
        var a = model.Logits(model.Forward(tensor(new long[] { 3, 8, 13, 21, 34 }).view(1, 5)));
        var b = model.Logits(model.Forward(tensor(new long[] { 3, 8, 13, 50, 60 }).view(1, 5)));
        AssertClose(a.narrow(1, 0, 3), b.narrow(1, 0, 3), 1e-6);
        Assert.False(a.narrow(1, 3, 1).allclose(b.narrow(1, 3, 1), atol: 1e-3), "the changed position's logits must change");
    }

    [Fact]
    public void ExplicitMaskEqualsFusedCausalPathAndLeftPaddingIsTransparent()
    {
        using var model = TinyModels.Create(TinyModels.Config());
        using var _ = no_grad();
        var ids = tensor(new long[] { 11, 12, 13, 14 }).view(1, 4);
        var fused = model.Forward(ids);
        AssertClose(fused, model.Forward(ids, ones(1, 4, dtype: int64)), 1e-5);

        // the same tokens after two padding tokens: identical hidden states at the real positions
        var padded = tensor(new long[] { 0, 0, 11, 12, 13, 14 }).view(1, 6);
        var mask = tensor(new long[] { 0, 0, 1, 1, 1, 1 }).view(1, 6);
        var hidden = model.Forward(padded, mask);
        Assert.False(hidden.isnan().any().item<bool>(), "padding rows must not produce NaN");
        AssertClose(fused, hidden.narrow(1, 2, 4), 1e-5);
    }

    [Fact]
    public void ResizeVocabularyAppendsMeanRows()
    {
        using var model = TinyModels.Create(TinyModels.Config(vocab: 97));
        var before = model.Model.EmbedTokens.weight!.detach().clone();
        model.ResizeVocabulary(99);
        var after = model.Model.EmbedTokens.weight!;
        Assert.Equal(new long[] { 99, 32 }, after.shape);
        Assert.Equal(99, model.Config.VocabSize);
        AssertClose(before, after.narrow(0, 0, 97), 0);
        AssertClose(before.mean([0]), after[98], 1e-6);
        Assert.Equal(new long[] { 99, 32 }, model.state_dict()["lm_head.weight"].shape);
        Assert.Equal(new long[] { 99, 32 }, model.state_dict()["model.embed_tokens.weight"].shape);
    }
}
