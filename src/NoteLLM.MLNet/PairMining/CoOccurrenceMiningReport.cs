namespace NoteLLM.MLNet.PairMining;

/// <summary>What <see cref="CoOccurrencePairMiner"/> read, skipped and produced. Bad input is counted here, never thrown.</summary>
public sealed class CoOccurrenceMiningReport
{
    /// <summary>Events read from the input.</summary>
    public long EventsRead { get; internal set; }
    /// <summary>Events that took part in mining (read minus every skipped kind below).</summary>
    public long EventsUsed { get; internal set; }
    /// <summary>Events skipped because the user id was null or empty.</summary>
    public long NullOrEmptyUserIds { get; internal set; }
    /// <summary>Events skipped because the note id was null or empty.</summary>
    public long NullOrEmptyNoteIds { get; internal set; }
    /// <summary>Events skipped because the timestamp was missing or could not be parsed.</summary>
    public long UnparseableTimestamps { get; internal set; }
    /// <summary>Events skipped because they are earlier than the same user's previous event (the miner rejects, it does not sort).</summary>
    public long OutOfOrderEvents { get; internal set; }
    /// <summary>Events skipped because they repeat the same user's previous event (same note, time and kind).</summary>
    public long DuplicateEvents { get; internal set; }
    /// <summary>Users whose events came in more than one block (input not grouped by user); each block was mined as its own user.</summary>
    public long NonContiguousUsers { get; internal set; }
    /// <summary>(User, window) sessions mined: the users u of the formula.</summary>
    public long Users { get; internal set; }
    /// <summary>Sessions with a single event; they contribute nothing.</summary>
    public long SingleEventUsers { get; internal set; }
    /// <summary>Distinct note ids among the events used.</summary>
    public int DistinctNotes { get; internal set; }
    /// <summary>Distinct transitions A->B (unordered {A,B} when symmetric) with a score: what memory grows with.</summary>
    public long DistinctTransitions { get; internal set; }
    /// <summary>Pairs dropped because fewer than <see cref="CoOccurrencePairMinerOptions.MinUsers"/> users made them.</summary>
    public long PairsBelowMinUsers { get; internal set; }
    /// <summary>Pairs dropped with a score above the upper bound u.</summary>
    public long PairsAboveUpperBound { get; internal set; }
    /// <summary>Pairs dropped with a score below the lower bound l.</summary>
    public long PairsBelowLowerBound { get; internal set; }
    /// <summary>Pairs that passed the bounds but were not among their note's top t.</summary>
    public long PairsBeyondTopK { get; internal set; }
    /// <summary>Pairs output.</summary>
    public long PairsOutput { get; internal set; }

    /// <inheritdoc/>
    public override string ToString() =>
        $"events read {EventsRead}, used {EventsUsed}; skipped: null/empty user {NullOrEmptyUserIds}, null/empty note {NullOrEmptyNoteIds}, "
        + $"bad timestamp {UnparseableTimestamps}, out of order {OutOfOrderEvents}, duplicate {DuplicateEvents}; "
        + $"non-contiguous users {NonContiguousUsers}; users {Users} (single-event {SingleEventUsers}); notes {DistinctNotes}; "
        + $"transitions {DistinctTransitions}; dropped: min users {PairsBelowMinUsers}, above u {PairsAboveUpperBound}, "
        + $"below l {PairsBelowLowerBound}, beyond top t {PairsBeyondTopK}; pairs output {PairsOutput}";
}
