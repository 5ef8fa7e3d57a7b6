using NoteLLM.MLNet.Retrieval;
using static NoteLLM.MLNet.Tests.Retrieval.IndexTestData;

namespace NoteLLM.MLNet.Tests.Retrieval;

/// <summary>
/// The <see cref="INoteIndex"/> contract, run against every implementation (the subclasses below): search, related
/// notes, removals, upserts, bad input, reopening what was stored.
/// </summary>
public abstract class NoteIndexContractTests : IDisposable
{
    private readonly List<INoteIndex> opened = new();

    /// <summary>A new, empty index of this implementation.</summary>
    protected abstract INoteIndex Create(int dimensions, NoteSearchMode mode);

    /// <summary>The same notes read back from where the implementation keeps them (a file, a database table).</summary>
    protected abstract INoteIndex Reopen(INoteIndex index);

    protected INoteIndex New(int dimensions, NoteSearchMode mode = NoteSearchMode.Exact) => Track(Create(dimensions, mode));

    protected INoteIndex Track(INoteIndex index)
    {
        opened.Add(index);
        return index;
    }

    public virtual void Dispose()
    {
        foreach (var index in opened) index.Dispose();
    }

    [Fact]
    public void ExactSearchMatchesBruteForce()
    {
        var vectors = RandomUnitVectors(500, 16, seed: 1);
        var queries = RandomUnitVectors(20, 16, seed: 2);
        var ids = Ids(500);
        var index = New(16);
        index.Add(ids, vectors);

        var results = index.Search(queries, 10);

        for (int q = 0; q < queries.Length; q++)
        {
            var expected = vectors.Select((v, i) => (Id: ids[i], Score: Dot(queries[q], v)))
                .OrderByDescending(x => x.Score).Take(10).ToArray();
            Assert.Equal(expected.Select(e => e.Id), results[q].Select(r => r.Id));
            for (int j = 0; j < 10; j++) Assert.Equal(expected[j].Score, results[q][j].Score, 1e-4f);
        }
    }

    [Fact]
    public void ApproximateSearchFindsTheExactNeighboursOnASmallCorpus()
    {
        var vectors = RandomUnitVectors(400, 16, seed: 7);
        var queries = RandomUnitVectors(30, 16, seed: 8);
        var exact = New(16);
        var approximate = New(16, NoteSearchMode.Approximate);
        exact.Add(Ids(400), vectors);
        approximate.Add(Ids(400), vectors);

        var found = approximate.Search(queries, 10);

        double recall = RecallAt(exact.Search(queries, 10), found);
        Assert.True(recall >= 0.95, $"recall@10 {recall}");
        for (int q = 0; q < queries.Length; q++)
            foreach (var hit in found[q]) Assert.Equal(Dot(queries[q], exact.GetEmbedding(hit.Id)), hit.Score, 1e-4f);
    }

    [Fact]
    public void EmbeddingsAreNormalisedSoScoresAreCosines()
    {
        var index = New(2);
        index.Add(new[] { "a", "b" }, new[] { new[] { 3f, 4f }, new[] { 0f, -2f } });

        var result = index.Search(new[] { 6f, 8f }, 2);

        Assert.Equal(new[] { "a", "b" }, result.Select(r => r.Id));
        Assert.Equal(1f, result[0].Score, 5);
        Assert.Equal(-0.8f, result[1].Score, 5);
        Assert.Equal(new[] { 0.6f, 0.8f }, index.GetEmbedding("a"));
    }

    [Fact]
    public void VeryLargeOrVerySmallValuesStillHaveADirection()
    {
        // the squares of 1e20 overflow a float and those of 1e-23 underflow to zero; the vectors are fine
        var index = New(2);
        index.Add(new[] { "large", "small" }, new[] { new[] { 3e20f, 4e20f }, new[] { 4e-23f, -3e-23f } });

        Assert.Equal(new[] { 0.6f, 0.8f }, index.GetEmbedding("large"), new ToleranceComparer(1e-6f));
        Assert.Equal(new[] { 0.8f, -0.6f }, index.GetEmbedding("small"), new ToleranceComparer(1e-6f));
        Assert.Equal("large", index.Search(new[] { 3e20f, 4e20f }, 1)[0].Id);
    }

    [Fact]
    public void RelatedNotesNeverReturnTheNoteItself()
    {
        var vectors = RandomUnitVectors(100, 8, seed: 3);
        var index = New(8);
        index.Add(Ids(100), vectors);

        var related = index.RelatedNotes(new[] { "note5", "note77" }, 5);

        Assert.All(related, r => Assert.Equal(5, r.Count));
        Assert.DoesNotContain(related[0], r => r.Id == "note5");
        Assert.DoesNotContain(related[1], r => r.Id == "note77");
        var expected = Enumerable.Range(0, 100).Where(i => i != 5)
            .OrderByDescending(i => Dot(vectors[5], vectors[i])).Take(5).Select(i => $"note{i}");
        Assert.Equal(expected, related[0].Select(r => r.Id));
    }

    [Fact]
    public void ExcludedIdsApplyToTheirOwnQueryOnly()
    {
        var vectors = RandomUnitVectors(50, 8, seed: 16);
        var index = New(8);
        index.Add(Ids(50), vectors);

        var results = index.Search(new[] { vectors[4], vectors[4], vectors[9] }, 3, new string?[] { "note4", null, "note4" });

        Assert.DoesNotContain(results[0], r => r.Id == "note4");
        Assert.Equal("note4", results[1][0].Id);
        Assert.Equal("note9", results[2][0].Id);
        Assert.All(results, r => Assert.Equal(3, r.Count));
    }

    [Fact]
    public void KLargerThanTheIndexReturnsEveryOtherNote()
    {
        var index = New(2);
        index.Add(new[] { "a", "b", "c" }, new[] { new[] { 1f, 0f }, new[] { 0f, 1f }, new[] { 1f, 1f } });

        Assert.Equal(new[] { "c", "b" }, index.RelatedNotes("a", 50).Select(r => r.Id));
        Assert.Equal(3, index.Search(new[] { 1f, 0f }, 50).Count);
        Assert.Empty(index.Search(new[] { 1f, 0f }, 0));
        Assert.Empty(New(2).Search(new[] { 1f, 0f }, 5));
    }

    [Theory]
    [InlineData(NoteSearchMode.Exact)]
    [InlineData(NoteSearchMode.Approximate)]
    public void KOfIntMaxValueAsksForEveryNote(NoteSearchMode mode)
    {
        var index = New(2, mode);
        index.Add(new[] { "a", "b", "c" }, new[] { new[] { 1f, 0f }, new[] { 0f, 1f }, new[] { 1f, 1f } });

        Assert.Equal(new[] { "c", "b" }, index.RelatedNotes("a", int.MaxValue).Select(r => r.Id));
        Assert.Equal(new[] { "a", "c", "b" }, index.Search(new[] { 1f, 0f }, int.MaxValue).Select(r => r.Id));
    }

    [Fact]
    public void RemoveDropsTheNoteAndKeepsTheOthersFindable()
    {
        var vectors = RandomUnitVectors(150, 8, seed: 4);
        var index = New(8);
        index.Add(Ids(150), vectors);

        Assert.True(index.Remove("note3"));
        Assert.False(index.Remove("note3"));
        Assert.False(index.Contains("note3"));
        Assert.Equal(149, index.Count);
        Assert.Equal(vectors[149], index.GetEmbedding("note149"), new ToleranceComparer(1e-6f));
        Assert.Equal("note149", index.Search(vectors[149], 1)[0].Id);
        Assert.DoesNotContain(index.Search(vectors[3], 149), r => r.Id == "note3");
        Assert.Throws<KeyNotFoundException>(() => index.GetEmbedding("note3"));
    }

    [Fact]
    public void UpsertReplacesStoredNotesAndAddsNewOnes()
    {
        var vectors = RandomUnitVectors(40, 8, seed: 17);
        var index = New(8);
        index.Add(Ids(30), vectors[..30]);

        // note5 takes note35's embedding; note30..34 are new.
        var ids = new[] { "note5", "note30", "note31", "note32", "note33", "note34" };
        index.Upsert(ids, new[] { vectors[35], vectors[30], vectors[31], vectors[32], vectors[33], vectors[34] });

        Assert.Equal(35, index.Count);
        Assert.Equal(vectors[35], index.GetEmbedding("note5"), new ToleranceComparer(1e-6f));
        Assert.Equal("note5", index.Search(vectors[35], 1)[0].Id);
        Assert.NotEqual("note5", index.Search(vectors[5], 1)[0].Id);
        Assert.Equal("note33", index.Search(vectors[33], 1)[0].Id);
        Assert.Contains("appears twice", Assert.Throws<ArgumentException>(() =>
            index.Upsert(new[] { "x", "x" }, new[] { vectors[0], vectors[1] })).Message);
        Assert.False(index.Contains("x"));
    }

    [Fact]
    public void BadInputIsRefusedAndNothingIsAdded()
    {
        var index = New(3);
        index.Add("a", new[] { 1f, 0f, 0f });

        var duplicate = Assert.Throws<ArgumentException>(() =>
            index.Add(new[] { "b", "a" }, new[] { new[] { 0f, 1f, 0f }, new[] { 0f, 0f, 1f } }));
        Assert.Contains("'a' (position 1) is already in the index", duplicate.Message);
        Assert.Contains("'b' (position 1) appears twice", Assert.Throws<ArgumentException>(() =>
            index.Add(new[] { "b", "b" }, new[] { new[] { 0f, 1f, 0f }, new[] { 0f, 0f, 1f } })).Message);
        Assert.Contains("has 2 values, expected 3", Assert.Throws<ArgumentException>(() => index.Add("c", new[] { 1f, 2f })).Message);
        Assert.Contains("all zeros", Assert.Throws<ArgumentException>(() => index.Add("c", new float[3])).Message);
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => index.Add("c", new[] { float.NaN, 0f, 1f })).Message);
        Assert.Contains("NaN or infinite", Assert.Throws<ArgumentException>(() => index.Add("c", new[] { float.PositiveInfinity, 0f, 1f })).Message);
        Assert.Contains("all zeros", Assert.Throws<ArgumentException>(() => index.Add("c", new[] { -0f, 0f, 0f })).Message);
        // stored as UTF-8, a lone surrogate would come back as U+FFFD: another id, or the same as another one
        Assert.Contains("position 1 has a lone UTF-16 surrogate at character 1", Assert.Throws<ArgumentException>(() =>
            index.Add(new[] { "b", "c\uD800" }, new[] { new[] { 0f, 1f, 0f }, new[] { 0f, 0f, 1f } })).Message);
        Assert.Contains("query 0 has 4 values, expected 3", Assert.Throws<ArgumentException>(() => index.Search(new[] { 1f, 0f, 0f, 0f }, 3)).Message);
        Assert.Throws<KeyNotFoundException>(() => index.RelatedNotes("missing", 3));
        Assert.Equal(1, index.Count);
        Assert.False(index.Contains("b"));
        Assert.False(index.Contains("c"));
    }

    [Fact]
    public void ReopenedIndexHoldsTheSameNotesAndAnswers()
    {
        var vectors = RandomUnitVectors(130, 8, seed: 5);
        var index = New(8);
        index.Add(Ids(130), vectors);
        index.Remove("note0");
        index.Upsert("note1", vectors[0]);
        var expected = index.RelatedNotes("note7", 10);

        var reopened = Track(Reopen(index));

        Assert.Equal(129, reopened.Count);
        Assert.False(reopened.Contains("note0"));
        Assert.Equal(index.GetEmbedding("note1"), reopened.GetEmbedding("note1"));
        AssertSameResults(expected, reopened.RelatedNotes("note7", 10));
    }

    private sealed class ToleranceComparer(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;
        public int GetHashCode(float obj) => 0;
    }
}

/// <summary>The contract on the in-process index, with small blocks and query batches so the block-by-block top-k merge is exercised.</summary>
public sealed class InProcessNoteIndexContractTests : NoteIndexContractTests
{
    private readonly TestSupport.TempFolder folder = new();

    protected override INoteIndex Create(int dimensions, NoteSearchMode mode) =>
        new NoteIndex(dimensions, new NoteIndexOptions { Mode = mode, BlockSize = 64, QueryBatchSize = 7 });

    protected override INoteIndex Reopen(INoteIndex index)
    {
        var inProcess = (NoteIndex)index;
        string path = folder.File($"{Guid.NewGuid():N}.idx");
        inProcess.Save(path);
        return NoteIndex.Load(path, inProcess.Options);
    }

    public override void Dispose()
    {
        base.Dispose();
        folder.Dispose();
    }
}
