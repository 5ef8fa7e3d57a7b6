using NoteLLM.MLNet.Bundle;
using NoteLLM.MLNet.Generation;
using NoteLLM.MLNet.Tests.TestSupport;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Tests.Generation;

public class AllowedOutputsTests
{
    // members as token sequences: "net" = [10], "net::web" = [10, 11, 12], "news" = [13, 14], "x11" = [15]
    private static readonly Dictionary<string, int[]> Members = new()
    {
        ["net"] = [10],
        ["net::web"] = [10, 11, 12],
        ["news"] = [13, 14],
        ["x11"] = [15],
    };
    private static AllowedOutputs Allowed(IEnumerable<string>? members = null) =>
        new(members ?? Members.Keys, m => Members[m]);

    [Fact]
    public void NextFollowsThePrefixTree()
    {
        var allowed = Allowed();
        Assert.Equal(4, allowed.Count);
        Assert.Equal(3, allowed.LongestLength);
        var (first, endAtStart) = allowed.Next([]);
        Assert.Equal([10, 13, 15], first.Order());
        Assert.False(endAtStart);
        var (afterNet, netIsWhole) = allowed.Next([10]);
        Assert.Equal([11], afterNet);
        Assert.True(netIsWhole); // "net" is a member and a prefix of "net::web"
        var (afterWeb, webIsWhole) = allowed.Next([10, 11, 12]);
        Assert.Empty(afterWeb);
        Assert.True(webIsWhole);
        Assert.False(allowed.Next([13]).CanEnd);
        Assert.Throws<ArgumentException>(() => allowed.Next([14]));
    }

    [Fact]
    public void OutputOfNamesOnlyWholeMembers()
    {
        var allowed = Allowed();
        Assert.Equal("net::web", allowed.OutputOf([10, 11, 12]));
        Assert.Equal("net", allowed.OutputOf([10]));
        Assert.Null(allowed.OutputOf([10, 11]));
        Assert.Null(allowed.OutputOf([13]));
        Assert.Null(allowed.OutputOf([]));
    }

    [Fact]
    public void BlankMembersAndDuplicatesAreIgnored()
    {
        var allowed = new AllowedOutputs(["x11", " ", "", "x11"], m => Members[m]);
        Assert.Equal(1, allowed.Count);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ConstrainedDecodingPicksTheBestAllowedTokenEachStep(bool useKvCache)
    {
        using var model = TinyModels.Create(TinyModels.Config());
        int[][] prompts = [[5, 17, 33, 42, 8], [9, 4], [60, 61, 62, 63, 64, 65, 66, 67]];
        const int eos = 2;
        var allowed = Allowed();
        var options = new GreedyDecodingOptions { MaxNewTokens = 1, UseKvCache = useKvCache }; // raised to LongestLength + 1
        var generated = GreedyDecoder.Generate(model, prompts, eos, padTokenId: 0, options, allowed: allowed);

        for (int r = 0; r < prompts.Length; r++)
        {
            Assert.NotNull(allowed.OutputOf(generated[r]));
            // replay: every step's token is the argmax of the model's logits over the tokens the tree allows there
            var sequence = prompts[r].ToList();
            for (int t = 0; t <= generated[r].Length; t++)
            {
                var (tokens, canEnd) = allowed.Next(generated[r][..t]);
                var candidates = canEnd ? tokens.Append(eos).ToArray() : tokens.ToArray();
                using var _ = no_grad();
                using var scope = NewDisposeScope();
                var logits = model.Logits(model.Forward(tensor(sequence.Select(x => (long)x).ToArray()).unsqueeze(0)).select(1, -1))[0];
                int best = candidates.MaxBy(c => logits[c].item<float>());
                Assert.Equal(t < generated[r].Length ? generated[r][t] : eos, best);
                if (t < generated[r].Length) sequence.Add(generated[r][t]);
            }
        }
    }

    [Fact]
    public void AnUnconstrainedTinyModelGeneratesOtherTokens()
    {
        // guards the test above against a model whose free choice already is a member
        using var model = TinyModels.Create(TinyModels.Config());
        var free = GreedyDecoder.Generate(model, [[5, 17, 33, 42, 8], [9, 4]], 2, 0, new GreedyDecodingOptions { MaxNewTokens = 3, RepetitionPenalty = 1.0 });
        Assert.Contains(free, g => Allowed().OutputOf(g) is null);
    }

    [Fact]
    public void PredictedCategoriesAreTheModelsCategoriesExactly()
    {
        using var model = NoteLLMModel.CreateFromScratch(
            TinyModels.Config(hidden: 64, layers: 2, heads: 4, kvHeads: 2, tied: true), embeddingDimension: 32, seed: 3);
        model.Categories = ["Travel", "food & drink", "DIY"];
        var notes = SyntheticNotes.Pairs(4).SelectMany(p => new[] { p.First, p.Second }).ToList();

        var constrained = new NotePredictor(model, new GreedyDecodingOptions { MaxNewTokens = 4 }, batchSize: 3).Predict(notes, NoteOutputs.Category);
        var free = new NotePredictor(model, new GreedyDecodingOptions { MaxNewTokens = 4 }, batchSize: 3, constrainCategories: false).Predict(notes, NoteOutputs.Category);

        Assert.All(constrained, p => Assert.Contains(p.Category, model.Categories));
        Assert.Contains(free, p => !model.Categories.Contains(p.Category)); // the untrained model's free text is not a category
    }
}
