using NoteLLM.MLNet.Generation;
using NoteLLM.MLNet.Tests.TestSupport;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Tests.Generation;

public class GreedyDecoderTests
{
    private static readonly int[][] Prompts = [[5, 17, 33, 2 + 40, 8], [9, 4], [60, 61, 62, 63, 64, 65, 66, 67]];

    [Theory]
    [InlineData(1.0)]
    [InlineData(1.2)]
    public void CachedDecodingEqualsFullRecomputation(double penalty)
    {
        using var model = TinyModels.Create(TinyModels.Config());
        var cached = GreedyDecoder.Generate(model, Prompts, eosTokenId: 2, padTokenId: 0,
            new GreedyDecodingOptions { MaxNewTokens = 12, RepetitionPenalty = penalty, UseKvCache = true });
        var uncached = GreedyDecoder.Generate(model, Prompts, eosTokenId: 2, padTokenId: 0,
            new GreedyDecodingOptions { MaxNewTokens = 12, RepetitionPenalty = penalty, UseKvCache = false });
        Assert.Equal(cached, uncached);
        Assert.All(cached, g => Assert.NotEmpty(g));
    }

    [Fact]
    public void BatchedLeftPaddedDecodingEqualsOneAtATime()
    {
        using var model = TinyModels.Create(TinyModels.Config());
        var options = new GreedyDecodingOptions { MaxNewTokens = 10 };
        var batched = GreedyDecoder.Generate(model, Prompts, 2, 0, options);
        for (int i = 0; i < Prompts.Length; i++)
            Assert.Equal(GreedyDecoder.Generate(model, [Prompts[i]], 2, 0, options)[0], batched[i]);
    }

    [Fact]
    public void StopsAtEosAndRespectsMaxNewTokens()
    {
        using var model = TinyModels.Create(TinyModels.Config());
        // make token 2 (EOS) the argmax after the first generated token by biasing its output row
        var free = GreedyDecoder.Generate(model, [Prompts[0]], eosTokenId: 96, padTokenId: 0, new GreedyDecodingOptions { MaxNewTokens = 6 });
        Assert.Equal(6, free[0].Length);
        int first = free[0][0];
        var stopped = GreedyDecoder.Generate(model, [Prompts[0]], eosTokenId: first, padTokenId: 0, new GreedyDecodingOptions { MaxNewTokens = 6 });
        Assert.Empty(stopped[0]);
    }

    [Fact]
    public void RepetitionPenaltyChangesWhatIsRepeated()
    {
        using var model = TinyModels.Create(TinyModels.Config());
        var plain = GreedyDecoder.Generate(model, Prompts, 2, 0, new GreedyDecodingOptions { MaxNewTokens = 16, RepetitionPenalty = 1.0 });
        var penalised = GreedyDecoder.Generate(model, Prompts, 2, 0, new GreedyDecodingOptions { MaxNewTokens = 16, RepetitionPenalty = 5.0 });
        int Repeats(IReadOnlyList<int[]> outputs) => outputs.Select((g, i) => g.Count(t => Prompts[i].Contains(t)) + g.Length - g.Distinct().Count()).Sum();
        Assert.True(Repeats(penalised) < Repeats(plain), $"penalised repeats {Repeats(penalised)} should be fewer than {Repeats(plain)}");
    }
}
