using NoteLLM.MLNet.Retrieval;

namespace NoteLLM.MLNet.Tests.Retrieval;

public class NoteIndexTests
{
    private static float[][] RandomUnitVectors(int count, int dimensions, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ =>
        {
            var v = Enumerable.Range(0, dimensions).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
            float norm = MathF.Sqrt(v.Sum(x => x * x));
            return v.Select(x => x / norm).ToArray();
        }).ToArray();
    }

    private static string[] Ids(int count) => Enumerable.Range(0, count).Select(i => $"note{i}").ToArray();

    private static float Dot(float[] a, float[] b) => a.Zip(b, (x, y) => x * y).Sum();

    // Same ids in the same order; scores equal up to float rounding (the matrix product may pick another
    // kernel for differently aligned buffers, which changes the last bit).
    private static void AssertSameResults(IReadOnlyList<RelatedNote> expected, IReadOnlyList<RelatedNote> actual)
    {
        Assert.Equal(expected.Select(r => r.Id), actual.Select(r => r.Id));
        for (int i = 0; i < expected.Count; i++) Assert.Equal(expected[i].Score, actual[i].Score, 5);
    }

    // Small blocks and query batches so the block-by-block top-k merge and the batching are exercised.
    private static NoteIndexOptions SmallBlocks => new() { BlockSize = 64, QueryBatchSize = 7 };

    [Fact]
    public void ExactSearchMatchesBruteForceAcrossBlocks()
    {
        var vectors = RandomUnitVectors(500, 16, seed: 1);
        var queries = RandomUnitVectors(20, 16, seed: 2);
        var ids = Ids(500);
        using var index = new NoteIndex(16, SmallBlocks);
        index.Add(ids, vectors);

        var results = index.Search(queries, 10);

        for (int q = 0; q < queries.Length; q++)
        {
            var expected = vectors.Select((v, i) => (Id: ids[i], Score: Dot(queries[q], v)))
                .OrderByDescending(x => x.Score).Take(10).ToArray();
            Assert.Equal(expected.Select(e => e.Id), results[q].Select(r => r.Id));
            for (int j = 0; j < 10; j++) Assert.Equal(expected[j].Score, results[q][j].Score, 4);
        }
    }

    [Fact]
    public void EmbeddingsAreNormalisedSoScoresAreCosines()
    {
        using var index = new NoteIndex(2);
        index.Add(new[] { "a", "b" }, new[] { new[] { 3f, 4f }, new[] { 0f, -2f } });

        var result = index.Search(new[] { 6f, 8f }, 2);

        Assert.Equal(new[] { "a", "b" }, result.Select(r => r.Id));
        Assert.Equal(1f, result[0].Score, 5);
        Assert.Equal(-0.8f, result[1].Score, 5);
        Assert.Equal(new[] { 0.6f, 0.8f }, index.GetEmbedding("a"));
    }

    [Fact]
    public void RelatedNotesNeverReturnTheNoteItself()
    {
        var vectors = RandomUnitVectors(100, 8, seed: 3);
        using var index = new NoteIndex(8, SmallBlocks);
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
    public void KLargerThanTheIndexReturnsEveryOtherNote()
    {
        using var index = new NoteIndex(2);
        index.Add(new[] { "a", "b", "c" }, new[] { new[] { 1f, 0f }, new[] { 0f, 1f }, new[] { 1f, 1f } });

        Assert.Equal(new[] { "c", "b" }, index.RelatedNotes("a", 50).Select(r => r.Id));
        Assert.Equal(3, index.Search(new[] { 1f, 0f }, 50).Count);
        Assert.Empty(index.Search(new[] { 1f, 0f }, 0));
        using var empty = new NoteIndex(2);
        Assert.Empty(empty.Search(new[] { 1f, 0f }, 5));
    }

    [Fact]
    public void RemoveDropsTheNoteAndKeepsTheOthersFindable()
    {
        var vectors = RandomUnitVectors(150, 8, seed: 4);
        var ids = Ids(150);
        using var index = new NoteIndex(8, SmallBlocks);
        index.Add(ids, vectors);

        Assert.True(index.Remove("note3"));
        Assert.False(index.Remove("note3"));
        Assert.False(index.Contains("note3"));
        Assert.Equal(149, index.Count);
        // The last note was moved into the freed row: its embedding and identity survive.
        Assert.Equal(vectors[149], index.GetEmbedding("note149"));
        Assert.Equal("note149", index.Search(vectors[149], 1)[0].Id);
        Assert.DoesNotContain(index.Search(vectors[3], 149), r => r.Id == "note3");
    }

    [Fact]
    public void BadInputIsRefusedAndNothingIsAdded()
    {
        using var index = new NoteIndex(3);
        index.Add("a", new[] { 1f, 0f, 0f });

        var duplicate = Assert.Throws<ArgumentException>(() =>
            index.Add(new[] { "b", "a" }, new[] { new[] { 0f, 1f, 0f }, new[] { 0f, 0f, 1f } }));
        Assert.Contains("'a'", duplicate.Message);
        Assert.Contains("expected 3", Assert.Throws<ArgumentException>(() => index.Add("c", new[] { 1f, 2f })).Message);
        Assert.Contains("all zeros", Assert.Throws<ArgumentException>(() => index.Add("c", new float[3])).Message);
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => index.Add("c", new[] { float.NaN, 0f, 1f })).Message);
        Assert.Throws<KeyNotFoundException>(() => index.RelatedNotes("missing", 3));
        Assert.Equal(1, index.Count);
        Assert.False(index.Contains("b"));
    }

    [Fact]
    public void SaveAndLoadRoundTripsExactIndex()
    {
        var vectors = RandomUnitVectors(130, 8, seed: 5);
        using var index = new NoteIndex(8, SmallBlocks);
        index.Add(Ids(130), vectors);
        index.Remove("note0");
        string path = Path.Combine(Path.GetTempPath(), $"noteindex-test-{Guid.NewGuid():N}.idx");
        try
        {
            index.Save(path);
            using var loaded = NoteIndex.Load(path, SmallBlocks);

            Assert.Equal(index.Ids, loaded.Ids);
            Assert.Equal(index.GetEmbedding("note42"), loaded.GetEmbedding("note42"));
            AssertSameResults(index.RelatedNotes("note7", 10), loaded.RelatedNotes("note7", 10));
            Assert.Empty(Directory.GetFiles(Path.GetTempPath(), Path.GetFileName(path) + ".*.tmp"));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void TruncatedOrDamagedFilesAreRefused()
    {
        using var index = new NoteIndex(4);
        index.Add(Ids(20), RandomUnitVectors(20, 4, seed: 6));
        string path = Path.Combine(Path.GetTempPath(), $"noteindex-test-{Guid.NewGuid():N}.idx");
        try
        {
            index.Save(path);
            var bytes = File.ReadAllBytes(path);

            File.WriteAllBytes(path, bytes[..(bytes.Length - 100)]);
            Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => NoteIndex.Load(path)).Message);
            File.WriteAllBytes(path, bytes[..10]);
            Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => NoteIndex.Load(path)).Message);
            var damaged = (byte[])bytes.Clone();
            damaged[bytes.Length / 2] ^= 0x40;
            File.WriteAllBytes(path, damaged);
            Assert.Contains("checksum", Assert.Throws<InvalidDataException>(() => NoteIndex.Load(path)).Message);
            File.WriteAllBytes(path, new byte[200]);
            Assert.Throws<InvalidDataException>(() => NoteIndex.Load(path));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void ApproximateSearchFindsTheExactNeighboursOnASmallCorpus()
    {
        var vectors = RandomUnitVectors(400, 16, seed: 7);
        var queries = RandomUnitVectors(30, 16, seed: 8);
        using var exact = new NoteIndex(16);
        using var approximate = new NoteIndex(16, new NoteIndexOptions { Mode = NoteSearchMode.Approximate });
        exact.Add(Ids(400), vectors);
        approximate.Add(Ids(400), vectors);

        var truth = exact.Search(queries, 10);
        var found = approximate.Search(queries, 10);

        double recall = truth.Zip(found, (t, f) => t.Select(r => r.Id).Intersect(f.Select(r => r.Id)).Count()).Sum() / 300.0;
        Assert.True(recall >= 0.95, $"recall@10 {recall}");
        for (int q = 0; q < queries.Length; q++)
            foreach (var hit in found[q]) Assert.Equal(Dot(queries[q], exact.GetEmbedding(hit.Id)), hit.Score, 4);
    }

    [Fact]
    public void ChangingExpansionSearchTakesEffectWithoutRebuildingTheGraph()
    {
        // 32-dimensional random vectors with a sparse graph (M = 4): a one-candidate search misses many neighbours.
        var vectors = RandomUnitVectors(3000, 32, seed: 11);
        var queries = RandomUnitVectors(50, 32, seed: 12);
        using var exact = new NoteIndex(32);
        var options = new NoteIndexOptions { Mode = NoteSearchMode.Approximate, Connectivity = 4, ExpansionAdd = 32, ExpansionSearch = 1 };
        using var approximate = new NoteIndex(32, options);
        exact.Add(Ids(3000), vectors);
        approximate.Add(Ids(3000), vectors);
        var truth = exact.Search(queries, 10);
        double Recall() => truth.Zip(approximate.Search(queries, 10), (t, f) => t.Select(r => r.Id).Intersect(f.Select(r => r.Id)).Count()).Sum() / 500.0;

        double narrow = Recall();
        options.ExpansionSearch = 3000;
        double wide = Recall();
        options.ExpansionSearch = 1;

        Assert.True(wide >= 0.99, $"recall@10 at ef 3000: {wide}");
        Assert.True(narrow < 0.8, $"recall@10 at ef 1: {narrow}");
        Assert.Equal(narrow, Recall());
    }

    [Fact]
    public void EveryNoteIsReachableInTheGraph()
    {
        // Guards the one-at-a-time inserts: concurrent inserts into USearch left some vectors unreachable.
        for (int seed = 0; seed < 30; seed++)
        {
            var vectors = RandomUnitVectors(200, 8, seed);
            using var index = new NoteIndex(8, new NoteIndexOptions { Mode = NoteSearchMode.Approximate });
            index.Add(Ids(200), vectors);
            var found = index.Search(vectors, 1);
            Assert.All(Enumerable.Range(0, 200), i => Assert.Equal($"note{i}", found[i][0].Id));
        }
    }

    [Fact]
    public void ApproximateIndexSupportsRemoveAndLoadsItsStoredGraph()
    {
        var vectors = RandomUnitVectors(200, 8, seed: 9);
        var options = new NoteIndexOptions { Mode = NoteSearchMode.Approximate };
        using var index = new NoteIndex(8, options);
        index.Add(Ids(200), vectors);
        index.Remove("note10");
        index.Add("late", vectors[10]);
        string path = TempPath();
        try
        {
            Assert.Equal("late", index.Search(vectors[10], 1)[0].Id);
            Assert.Equal("note199", index.Search(vectors[199], 1)[0].Id);
            Assert.DoesNotContain(index.Search(vectors[10], 200), r => r.Id == "note10");

            index.Save(path);
            using var loaded = NoteIndex.Load(path, options);
            AssertSameResults(index.RelatedNotes("note5", 10), loaded.RelatedNotes("note5", 10));
            Assert.Equal("note199", loaded.Search(vectors[199], 1)[0].Id);
            Assert.Equal("late", loaded.Search(vectors[10], 1)[0].Id);
            Assert.DoesNotContain(loaded.Search(vectors[10], 200), r => r.Id == "note10");
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void LoadUsesTheStoredGraphInsteadOfRebuildingIt()
    {
        // A sparse graph searched with one candidate: its answers depend on the exact graph, and the graph of an
        // index with removals differs from one rebuilt from the remaining rows, so equal answers for every query
        // show that the stored graph was loaded.
        var vectors = RandomUnitVectors(3000, 32, seed: 13);
        var queries = RandomUnitVectors(200, 32, seed: 14);
        var options = new NoteIndexOptions { Mode = NoteSearchMode.Approximate, Connectivity = 4, ExpansionAdd = 16, ExpansionSearch = 1 };
        using var index = new NoteIndex(32, options);
        index.Add(Ids(3000), vectors);
        for (int i = 0; i < 3000; i += 7) index.Remove($"note{i}");
        string path = TempPath();
        try
        {
            index.Save(path);
            var expected = index.Search(queries, 5);
            using var loaded = NoteIndex.Load(path, options);
            var actual = loaded.Search(queries, 5);
            for (int q = 0; q < queries.Length; q++) AssertSameResults(expected[q], actual[q]);

            using var rebuilt = NoteIndex.Load(path, new NoteIndexOptions { Mode = NoteSearchMode.Approximate, Connectivity = 5, ExpansionAdd = 16, ExpansionSearch = 1 });
            var fromRebuilt = rebuilt.Search(queries, 5);
            Assert.Contains(Enumerable.Range(0, queries.Length), q => !expected[q].Select(r => r.Id).SequenceEqual(fromRebuilt[q].Select(r => r.Id)));

            using var exact = NoteIndex.Load(path); // exact mode skips the stored graph
            var nearest = exact.Search(queries, 1);
            for (int q = 0; q < queries.Length; q++)
                Assert.Equal(index.Ids.MaxBy(id => Dot(queries[q], index.GetEmbedding(id))), nearest[q][0].Id);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void FormatVersion1FilesWithoutAGraphStillLoad()
    {
        var vectors = RandomUnitVectors(50, 4, seed: 15);
        string path = TempPath();
        try
        {
            // Version 1 layout: magic, version, dimensions, count, ids, rows, CRC-64 of all of it.
            using (var bytes = new MemoryStream())
            {
                using (var writer = new BinaryWriter(bytes, System.Text.Encoding.UTF8, leaveOpen: true))
                {
                    writer.Write("NOTEIDX\0"u8);
                    writer.Write(1);
                    writer.Write(4);
                    writer.Write(50);
                    foreach (string id in Ids(50)) writer.Write(id);
                    foreach (var v in vectors) foreach (float x in v) writer.Write(x);
                }
                bytes.Write(System.IO.Hashing.Crc64.Hash(bytes.ToArray()));
                File.WriteAllBytes(path, bytes.ToArray());
            }
            using var exact = NoteIndex.Load(path);
            using var approximate = NoteIndex.Load(path, new NoteIndexOptions { Mode = NoteSearchMode.Approximate });
            AssertSameResults(exact.RelatedNotes("note3", 5), approximate.RelatedNotes("note3", 5));
            Assert.Equal(vectors[7], exact.GetEmbedding("note7"));
        }
        finally { File.Delete(path); }
    }

    private static string TempPath() => Path.Combine(Path.GetTempPath(), $"noteindex-test-{Guid.NewGuid():N}.idx");
}
