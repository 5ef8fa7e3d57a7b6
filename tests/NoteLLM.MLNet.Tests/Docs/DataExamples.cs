// Code shown in docs/data.md, compiled by the test suite (see DocsSnippetTests); DataExamplesTests runs it.
using Microsoft.ML;
using NoteLLM.MLNet.Data;
using NoteLLM.MLNet.PairMining;

namespace NoteLLM.MLNet.Tests.Docs;

public static class DataExamples
{
    public static (IDataView PairRows, CoOccurrenceMiningReport Report) MinePairsAndJoin(MLContext ml, IEnumerable<BehaviorEvent> events, IEnumerable<NoteRecord> notes)
    {
        #region mine-and-join
        // events: (user, note, time[, kind]) grouped by user and in time order within each user
        var miner = new CoOccurrencePairMiner(ml, new CoOccurrencePairMinerOptions
        {
            Window = TimeSpan.FromDays(7),   // the paper mined one week of logs
            TopK = 10,                       // t: related notes kept per note
            MinUsers = 2,                    // drop pairs seen by a single user
        });
        CoOccurrenceMiningResult mined = miner.Mine(events);
        Console.WriteLine(mined.Report);     // counts of bad, duplicate and out-of-order events, filtered pairs

        // NoteId, RelatedNoteId, Score joined with the notes' fields: the pair rows NoteLLM's Fit takes
        var joined = RelatedPairJoin.Join(ml, ml.Data.LoadFromEnumerable(notes), mined.Pairs);
        IDataView pairRows = joined.Rows;    // Id, Title, Content, Hashtags, Category, RelatedId, RelatedTitle, ...
        #endregion
        return (pairRows, mined.Report);
    }
}

public class DataExamplesTests
{
    [Fact]
    public void MinedPairsJoinIntoPairRows()
    {
        var ml = new MLContext(seed: 0);
        var t0 = new DateTime(2026, 1, 5, 10, 0, 0, DateTimeKind.Utc);
        var events = new List<BehaviorEvent>();
        foreach (string user in new[] { "u1", "u2", "u3" })
            events.AddRange([new(user, "vim", t0), new(user, "vim-runtime", t0.AddMinutes(1))]);
        var notes = new[] { "vim", "vim-runtime" }.Select(id => new NoteRecord { Id = id, Title = id, Content = $"{id} content", Hashtags = ["use::editing"], Category = "editors" });

        var (rows, report) = DataExamples.MinePairsAndJoin(ml, events, notes);
        var pair = ml.Data.CreateEnumerable<RelatedPairRow>(rows, reuseRowObject: false).Single();
        Assert.Equal(("vim", "vim-runtime"), (pair.Id, pair.RelatedId));
        Assert.Equal("vim-runtime content", pair.RelatedContent);
        Assert.NotNull(report);
    }
}
