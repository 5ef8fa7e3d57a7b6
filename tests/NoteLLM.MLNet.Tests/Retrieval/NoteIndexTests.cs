using NoteLLM.MLNet.Retrieval;
using static NoteLLM.MLNet.Tests.Retrieval.IndexTestData;

namespace NoteLLM.MLNet.Tests.Retrieval;

/// <summary>What only the in-process index has: its file format and its USearch graph (the shared contract: NoteIndexContractTests).</summary>
public class NoteIndexTests
{
    // Small blocks and query batches so the block-by-block top-k merge and the batching are exercised.
    private static NoteIndexOptions SmallBlocks => new() { BlockSize = 64, QueryBatchSize = 7 };

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
    public void AHeaderClaimingMoreThanTheFileHoldsIsRefusedBeforeAnythingIsAllocated()
    {
        // a well-formed file with a valid checksum whose header claims one note of a million dimensions (4 GB of
        // blocks would be allocated before reading found the file short)
        var body = new MemoryStream();
        using (var writer = new BinaryWriter(body, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write("NOTEIDX\0"u8);
            writer.Write(2);
            writer.Write(1_000_000);
            writer.Write(1);
            writer.Write("a");
            writer.Write(false);
        }
        string path = Path.Combine(Path.GetTempPath(), $"noteindex-test-{Guid.NewGuid():N}.idx");
        try
        {
            File.WriteAllBytes(path, [.. body.ToArray(), .. System.IO.Hashing.Crc64.Hash(body.ToArray())]);
            Assert.Contains("claims 1 notes of", Assert.Throws<InvalidDataException>(() => NoteIndex.Load(path)).Message);
        }
        finally { File.Delete(path); }
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
        double Recall() => RecallAt(truth, approximate.Search(queries, 10));

        double narrow = Recall();
        options.ExpansionSearch = 3000;
        double wide = Recall();
        options.ExpansionSearch = 1;

        Assert.True(wide >= 0.99, $"recall@10 at ef 3000: {wide}");
        Assert.True(narrow < 0.8, $"recall@10 at ef 1: {narrow}");
        Assert.Equal(narrow, Recall());
    }

    [Fact]
    public void SearchesFromMoreThreadsThanCoresGetWhatOneThreadGets()
    {
        // USearch has one scratch space per core and does not wait for a free one; a web server searches from as many
        // threads as it has requests. A search expansion of the corpus size makes the answers exact, whichever of the
        // two expansions the threads keep switching between is in force.
        var vectors = RandomUnitVectors(1000, 16, seed: 21);
        var queries = RandomUnitVectors(64, 16, seed: 22);
        var options = new NoteIndexOptions { Mode = NoteSearchMode.Approximate, ExpansionSearch = 1000 };
        using var index = new NoteIndex(16, options);
        index.Add(Ids(1000), vectors);
        using var exact = new NoteIndex(16);
        exact.Add(Ids(1000), vectors);
        var expected = exact.Search(queries, 10);

        int threadCount = 8 * Environment.ProcessorCount;
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        using var start = new Barrier(threadCount);
        var threads = Enumerable.Range(0, threadCount).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            for (int round = 0; round < 10; round++)
            {
                // a change of the expansion waits for the searches under way
                if (t % 4 == 0) options.ExpansionSearch = 1000 + round % 2;
                IReadOnlyList<RelatedNote>[] results;
                try { results = index.Search(queries, 10); }
                catch (Exception e)
                {
                    failures.Add($"thread {t}, round {round}: {e.GetBaseException().Message}");
                    continue;
                }
                for (int q = 0; q < queries.Length; q++)
                    if (!results[q].Select(r => r.Id).SequenceEqual(expected[q].Select(r => r.Id)))
                        failures.Add($"thread {t}, round {round}, query {q}: [{string.Join(", ", results[q].Select(r => r.Id))}]");
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        Assert.Empty(failures);
    }

    [Fact]
    public void ChangedOptionsAreCheckedAtTheNextSearch()
    {
        var options = new NoteIndexOptions();
        using var index = new NoteIndex(2, options);
        index.Add(new[] { "a" }, new[] { new[] { 1f, 0f } });
        options.QueryBatchSize = 0; // was an out-of-range error from deep inside the search that named no option
        Assert.Contains("QueryBatchSize", Assert.Throws<ArgumentOutOfRangeException>(() => index.Search(new[] { 1f, 0f }, 1)).Message);
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
