using Microsoft.ML;
using NoteLLM.MLNet.Data;
using NoteLLM.MLNet.PairMining;

namespace NoteLLM.MLNet.Tests.PairMining;

public class CoOccurrencePairMinerTests
{
    private static readonly DateTime T0 = new(2024, 1, 1, 12, 0, 0);
    private static readonly MLContext Ml = new(seed: 1);

    /// <summary>
    /// The hand-computed example. u1: A,B,C (N=3); u2: A,B (N=2); u3: A,C,A,B (N=3: A,B,C); u4: D (one event).
    /// With look-back 1: s(A->B) = 1/3 + 1/2 + 1/3 = 7/6 (3 users); s(B->C) = 1/3; s(A->C) = 1/3; s(C->A) = 1/3.
    /// </summary>
    private static IEnumerable<BehaviorEvent> Example() =>
    [
        new("u1", "A", T0), new("u1", "B", T0.AddMinutes(1)), new("u1", "C", T0.AddMinutes(2)),
        new("u2", "A", T0), new("u2", "B", T0.AddMinutes(5)),
        new("u3", "A", T0), new("u3", "C", T0.AddMinutes(1)), new("u3", "A", T0.AddMinutes(2)), new("u3", "B", T0.AddMinutes(3)),
        new("u4", "D", T0),
    ];

    private static List<(string A, string B, double Score)> Mine(IEnumerable<BehaviorEvent> events, CoOccurrencePairMinerOptions options,
        out CoOccurrenceMiningReport report)
    {
        var result = new CoOccurrencePairMiner(Ml, options).Mine(events);
        report = result.Report;
        return Ml.Data.CreateEnumerable<RelatedNotePair>(result.Pairs, reuseRowObject: false)
            .Select(p => (p.NoteId, p.RelatedNoteId, (double)p.Score)).ToList();
    }

    private static void AssertPairs(IReadOnlyList<(string A, string B, double Score)> expected, IReadOnlyList<(string A, string B, double Score)> actual)
    {
        Assert.Equal(expected.Select(p => (p.A, p.B)), actual.Select(p => (p.A, p.B)));
        for (int i = 0; i < expected.Count; i++) Assert.Equal(expected[i].Score, actual[i].Score, 1e-6);
    }

    [Fact]
    public void ScoresFollowTheFormulaWithDefaults()
    {
        var pairs = Mine(Example(), new(), out var report);
        AssertPairs([("A", "B", 7.0 / 6), ("A", "C", 1.0 / 3), ("B", "C", 1.0 / 3), ("C", "A", 1.0 / 3)], pairs);
        Assert.Equal(4, report.Users);
        Assert.Equal(1, report.SingleEventUsers);
        Assert.Equal(4, report.DistinctNotes);
        Assert.Equal(4, report.DistinctTransitions);
        Assert.Equal(10, report.EventsUsed);
    }

    [Fact]
    public void TopKKeepsTheHighestScoresPerNote()
    {
        var pairs = Mine(Example(), new() { TopK = 1 }, out var report);
        AssertPairs([("A", "B", 7.0 / 6), ("B", "C", 1.0 / 3), ("C", "A", 1.0 / 3)], pairs);
        Assert.Equal(1, report.PairsBeyondTopK);
    }

    [Fact]
    public void UpperBoundDropsOutliersBeforeTopK()
    {
        var pairs = Mine(Example(), new() { UpperBound = 1.0, TopK = 1 }, out var report);
        AssertPairs([("A", "C", 1.0 / 3), ("B", "C", 1.0 / 3), ("C", "A", 1.0 / 3)], pairs);
        Assert.Equal(1, report.PairsAboveUpperBound);
        Assert.Equal(0, report.PairsBeyondTopK);
    }

    [Fact]
    public void LowerBoundDropsWeakPairs()
    {
        var pairs = Mine(Example(), new() { LowerBound = 0.5 }, out var report);
        AssertPairs([("A", "B", 7.0 / 6)], pairs);
        Assert.Equal(3, report.PairsBelowLowerBound);
    }

    [Fact]
    public void MinUsersCountsDistinctUsers()
    {
        // u5 repeats C->A three times: still one user, so C->A has 2 users and B->C, A->C one each.
        var events = Example().Concat([
            new("u5", "C", T0), new("u5", "A", T0.AddMinutes(1)), new("u5", "C", T0.AddMinutes(2)), new("u5", "A", T0.AddMinutes(3)),
        ]);
        var pairs = Mine(events, new() { MinUsers = 2 }, out var report);
        // u5: N=2, transitions C->A and A->C, each counted once: s(C->A) = 1/3 + 1/2, s(A->C) = 1/3 + 1/2.
        AssertPairs([("A", "B", 7.0 / 6), ("A", "C", 5.0 / 6), ("C", "A", 5.0 / 6)], pairs);
        Assert.Equal(1, report.PairsBelowMinUsers);
    }

    [Fact]
    public void SymmetricMergesBothDirectionsCountingAUserOnce()
    {
        // {A,C}: u3 went A->C and C->A: one user, 1/3. Ties are ordered by related id.
        var pairs = Mine(Example(), new() { Symmetric = true }, out var report);
        AssertPairs([
            ("A", "B", 7.0 / 6), ("A", "C", 1.0 / 3),
            ("B", "A", 7.0 / 6), ("B", "C", 1.0 / 3),
            ("C", "A", 1.0 / 3), ("C", "B", 1.0 / 3),
        ], pairs);
        Assert.Equal(3, report.DistinctTransitions);
    }

    [Fact]
    public void LookBackAddsEarlierSources()
    {
        // Look-back 2: u1 adds A->C; u3 (A,C,A,B) adds C->B (B from C, two back). A->C = 1/3 (u1) + 1/3 (u3).
        var pairs = Mine(Example(), new() { MaxLookBack = 2 }, out _);
        AssertPairs([("A", "B", 7.0 / 6), ("A", "C", 2.0 / 3), ("B", "C", 1.0 / 3), ("C", "A", 1.0 / 3), ("C", "B", 1.0 / 3)], pairs);
    }

    [Fact]
    public void AnUnboundedLookBackTakesEveryEarlierEventOfTheSession()
    {
        // 40 sessions of 60 events over 30 notes: the ring that holds the look-back has to grow past its first size
        var random = new Random(3);
        var events = Enumerable.Range(0, 40).SelectMany(u => Enumerable.Range(0, 60)
            .Select(i => new BehaviorEvent($"u{u}", $"n{random.Next(30)}", T0.AddMinutes(i)))).ToList();

        var unbounded = Mine(events, new() { MaxLookBack = int.MaxValue, TopK = 100 }, out _);
        var sessionLong = Mine(events, new() { MaxLookBack = 60, TopK = 100 }, out _);
        var shorter = Mine(events, new() { MaxLookBack = 20, TopK = 100 }, out _);

        AssertPairs(sessionLong, unbounded);
        Assert.NotEqual(sessionLong.Select(p => p.Score), shorter.Select(p => p.Score));
        AssertPairs(Mine(Example(), new() { MaxLookBack = 2 }, out _), Mine(Example(), new() { MaxLookBack = int.MaxValue }, out _)); // 2 covers its sessions
    }

    [Fact]
    public void MaxTransitionGapDropsSlowTransitions()
    {
        // u2's A->B took 5 minutes; the others one.
        var pairs = Mine(Example(), new() { MaxTransitionGap = TimeSpan.FromMinutes(2) }, out _);
        AssertPairs([("A", "B", 2.0 / 3), ("A", "C", 1.0 / 3), ("B", "C", 1.0 / 3), ("C", "A", 1.0 / 3)], pairs);
    }

    [Fact]
    public void WindowSplitsAUserIntoSessions()
    {
        // One user over two days: day 1 A,B (N=2), day 2 B,C,D (N=3); no transition B->B across the boundary.
        var day = new DateTime(2024, 1, 1);
        BehaviorEvent[] events =
        [
            new("u", "A", day.AddHours(1)), new("u", "B", day.AddHours(2)),
            new("u", "B", day.AddHours(25)), new("u", "C", day.AddHours(26)), new("u", "D", day.AddHours(27)),
        ];
        var pairs = Mine(events, new() { Window = TimeSpan.FromDays(1) }, out var report);
        AssertPairs([("A", "B", 1.0 / 2), ("B", "C", 1.0 / 3), ("C", "D", 1.0 / 3)], pairs);
        Assert.Equal(2, report.Users);
        var whole = Mine(events, new(), out _);   // one window: N=4
        AssertPairs([("A", "B", 1.0 / 4), ("B", "C", 1.0 / 4), ("C", "D", 1.0 / 4)], whole);
    }

    [Fact]
    public void TargetEventKindOnlyLetsClicksBeTargets()
    {
        BehaviorEvent[] events =
        [
            new("u", "A", T0, "view"), new("u", "B", T0.AddMinutes(1), "click"),
            new("u", "C", T0.AddMinutes(2), "view"), new("u", "D", T0.AddMinutes(3), "click"),
        ];
        var pairs = Mine(events, new() { TargetEventKind = "click" }, out _);
        AssertPairs([("A", "B", 1.0 / 4), ("C", "D", 1.0 / 4)], pairs);
    }

    [Fact]
    public void BadEventsAreCountedAndSkipped()
    {
        BehaviorEvent[] events =
        [
            new("u1", "A", T0), new(null, "A", T0), new("", "A", T0), new("u1", null, T0), new("u1", "", T0),
            new("u1", "B", T0.AddMinutes(1)),
            new("u1", "B", T0.AddMinutes(1)),   // duplicate
            new("u1", "C", T0.AddMinutes(-5)),  // out of order: rejected
            new("u2", "C", T0),                 // single-event user
            new("u1", "C", T0.AddMinutes(9)),   // u1 again after u2: non-contiguous, mined as its own user
        ];
        var pairs = Mine(events, new(), out var report);
        AssertPairs([("A", "B", 1.0 / 2)], pairs);
        Assert.Equal(10, report.EventsRead);
        Assert.Equal(2, report.NullOrEmptyUserIds);
        Assert.Equal(2, report.NullOrEmptyNoteIds);
        Assert.Equal(1, report.DuplicateEvents);
        Assert.Equal(1, report.OutOfOrderEvents);
        Assert.Equal(1, report.NonContiguousUsers);
        Assert.Equal(3, report.Users);
        Assert.Equal(2, report.SingleEventUsers);
        Assert.Equal(4, report.EventsUsed);
    }

    private sealed class TextEvent
    {
        public string User { get; set; } = "";
        public string Note { get; set; } = "";
        public string When { get; set; } = "";
    }

    [Fact]
    public void ReadsAnIDataViewWithConfiguredColumnsAndCountsUnparseableTimestamps()
    {
        var rows = Example().Select(e => new TextEvent { User = e.UserId!, Note = e.NoteId!, When = e.Timestamp.ToString("O") }).ToList();
        rows.Insert(3, new TextEvent { User = "u1", Note = "Z", When = "not a time" });
        var options = new CoOccurrencePairMinerOptions { UserIdColumnName = "User", NoteIdColumnName = "Note", TimestampColumnName = "When" };
        var result = new CoOccurrencePairMiner(Ml, options).Mine(Ml.Data.LoadFromEnumerable(rows));
        var pairs = Ml.Data.CreateEnumerable<RelatedNotePair>(result.Pairs, false).Select(p => (p.NoteId, p.RelatedNoteId, (double)p.Score)).ToList();
        AssertPairs([("A", "B", 7.0 / 6), ("A", "C", 1.0 / 3), ("B", "C", 1.0 / 3), ("C", "A", 1.0 / 3)], pairs);
        Assert.Equal(1, result.Report.UnparseableTimestamps);
    }

    private sealed class KindEvent
    {
        public string UserId { get; set; } = "";
        public string NoteId { get; set; } = "";
        public long Timestamp { get; set; }
        public string Kind { get; set; } = "";
    }

    [Fact]
    public void ReadsUnixSecondsAndEventKindsFromAnIDataView()
    {
        KindEvent[] rows =
        [
            new() { UserId = "u", NoteId = "A", Timestamp = 1_700_000_000, Kind = "view" },
            new() { UserId = "u", NoteId = "B", Timestamp = 1_700_000_060, Kind = "click" },
            new() { UserId = "u", NoteId = "C", Timestamp = 1_700_000_120, Kind = "view" },
            new() { UserId = "u", NoteId = "D", Timestamp = 1_700_009_000, Kind = "click" },
        ];
        var options = new CoOccurrencePairMinerOptions
        {
            EventKindColumnName = "Kind",
            TargetEventKind = "click",
            MaxTransitionGap = TimeSpan.FromMinutes(10),
        };
        var result = new CoOccurrencePairMiner(Ml, options).Mine(Ml.Data.LoadFromEnumerable(rows));
        var pair = Assert.Single(Ml.Data.CreateEnumerable<RelatedNotePair>(result.Pairs, false));
        Assert.Equal(("A", "B", 0.25f), (pair.NoteId, pair.RelatedNoteId, pair.Score));   // C -> D took 2.5 hours
        var noKindColumn = new CoOccurrencePairMinerOptions { TargetEventKind = "click" };
        Assert.Throws<ArgumentException>(() => new CoOccurrencePairMiner(Ml, noKindColumn).Mine(Ml.Data.LoadFromEnumerable(rows)));
    }

    [Fact]
    public void MissingOrMistypedColumnsAreNamedInTheError()
    {
        var view = Ml.Data.LoadFromEnumerable(new[] { new TextEvent() });
        var missing = Assert.Throws<ArgumentException>(() => new CoOccurrencePairMiner(Ml).Mine(view));
        Assert.Contains("'UserId'", missing.Message);
        var badOptions = Assert.Throws<ArgumentOutOfRangeException>(() => new CoOccurrencePairMiner(Ml, new() { TopK = 0 }));
        Assert.Contains("TopK", badOptions.Message);
    }
}
