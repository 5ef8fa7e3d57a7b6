namespace NoteLLM.MLNet.PairMining;

/// <summary>
/// Options of <see cref="CoOccurrencePairMiner"/> (paper section 3.3: s(A->B) = sum over users u that went from A to B
/// of 1/N_u; per note A drop scores above <see cref="UpperBound"/> or below <see cref="LowerBound"/>, keep the
/// <see cref="TopK"/> highest).
/// </summary>
public sealed class CoOccurrencePairMinerOptions
{
    /// <summary>Input column with the user id (text). Default <c>UserId</c>.</summary>
    public string UserIdColumnName { get; set; } = "UserId";

    /// <summary>Input column with the note id (text). Default <c>NoteId</c>.</summary>
    public string NoteIdColumnName { get; set; } = "NoteId";

    /// <summary>
    /// Input column with the event time: <see cref="DateTime"/>, <see cref="DateTimeOffset"/>, text (ISO 8601;
    /// without an offset it is read as UTC) or Int64 Unix seconds. Default <c>Timestamp</c>.
    /// </summary>
    public string TimestampColumnName { get; set; } = "Timestamp";

    /// <summary>Optional input column with the event kind (text), e.g. <c>view</c> or <c>click</c>. Default <c>null</c> (none).</summary>
    public string? EventKindColumnName { get; set; }

    /// <summary>
    /// When set, only events of this kind can be the target B of a transition ("viewed A then <em>clicked</em> B");
    /// any event can be the source A. Default <c>null</c>: every event can be a target.
    /// </summary>
    public string? TargetEventKind { get; set; }

    /// <summary>
    /// The time window over which N_u is counted and transitions are collected. Each user's events are cut into
    /// consecutive windows of this length (aligned to the Unix epoch) and each (user, window) counts as one user of
    /// the formula. Default <c>null</c>: the whole input is one window (the paper mined one week of logs).
    /// </summary>
    public TimeSpan? Window { get; set; }

    /// <summary>
    /// How many of a user's previous events can be the source A of a transition to the current event B
    /// (bounded look-back: a user with 100k events costs at most this many transitions per event). Default 1:
    /// only consecutive events ("viewed A then clicked B"); <see cref="int.MaxValue"/>: every earlier event of the
    /// session (memory grows with the longest session, not with this value).
    /// </summary>
    public int MaxLookBack { get; set; } = 1;

    /// <summary>The longest time between A and B for the transition to count. Default <c>null</c>: no limit inside the window.</summary>
    public TimeSpan? MaxTransitionGap { get; set; }

    /// <summary>Upper bound u: scores above it are dropped as outliers. Default +infinity (none).</summary>
    public double UpperBound { get; set; } = double.PositiveInfinity;

    /// <summary>Lower bound l: scores below it are dropped. Default 0 (none).</summary>
    public double LowerBound { get; set; }

    /// <summary>t: how many related notes to keep per note A, highest scores first. Default 10.</summary>
    public int TopK { get; set; } = 10;

    /// <summary>Minimum number of distinct users (sessions) behind a pair; fewer is dropped. Default 1 (every pair).</summary>
    public int MinUsers { get; set; } = 1;

    /// <summary>
    /// When <c>true</c>, A->B and B->A are one relation: its score sums over users that went either way (a user
    /// counts once) and it is output in both directions, each filtered and ranked in its note's list.
    /// Default <c>false</c>: directed pairs as observed.
    /// </summary>
    public bool Symmetric { get; set; }

    internal void Validate()
    {
        if (string.IsNullOrEmpty(UserIdColumnName) || string.IsNullOrEmpty(NoteIdColumnName) || string.IsNullOrEmpty(TimestampColumnName))
            throw new ArgumentException("The user id, note id and timestamp column names must be set.");
        if (Window is { } w && w <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(Window), w, "must be positive");
        if (MaxTransitionGap is { } g && g < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(MaxTransitionGap), g, "must not be negative");
        if (MaxLookBack < 1) throw new ArgumentOutOfRangeException(nameof(MaxLookBack), MaxLookBack, "must be at least 1");
        if (TopK < 1) throw new ArgumentOutOfRangeException(nameof(TopK), TopK, "must be at least 1");
        if (MinUsers < 1) throw new ArgumentOutOfRangeException(nameof(MinUsers), MinUsers, "must be at least 1");
        if (double.IsNaN(LowerBound) || double.IsNaN(UpperBound) || LowerBound > UpperBound)
            throw new ArgumentException($"Expected {nameof(LowerBound)} <= {nameof(UpperBound)}; got {LowerBound} and {UpperBound}.");
    }
}
