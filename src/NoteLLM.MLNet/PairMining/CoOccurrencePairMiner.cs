using System.Globalization;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using Microsoft.ML;
using Microsoft.ML.Data;
using NoteLLM.MLNet.Data;

namespace NoteLLM.MLNet.PairMining;

/// <summary>The pairs a <see cref="CoOccurrencePairMiner"/> found and its report.</summary>
public sealed class CoOccurrenceMiningResult
{
    /// <summary>Columns <c>NoteId</c>, <c>RelatedNoteId</c>, <c>Score</c> (<see cref="RelatedNotePair"/>), grouped by note, best first.</summary>
    public required IDataView Pairs { get; init; }
    /// <summary>Counts of what was read, skipped and dropped.</summary>
    public required CoOccurrenceMiningReport Report { get; init; }
}

/// <summary>
/// Mines related-note pairs from behaviour logs by co-occurrence (paper section 3.3):
/// s(A->B) = sum over users u that went from A to B of 1/N_u, where N_u is the number of distinct notes u
/// interacted with in the window; per note A, scores above u or below l are dropped and the top t kept.
/// </summary>
/// <remarks>
/// The input is streamed once and must be <b>grouped by user and in time order within each user</b> (e.g.
/// <c>ORDER BY user, time</c>): the miner holds one user's events at a time, so memory grows with the number of
/// distinct transitions (plus the largest user's session, an interned id per note and an 8-byte hash per user to
/// detect users that come back), not with the number of events. It does not sort: an event
/// earlier than the user's previous one is rejected and counted (<see cref="CoOccurrenceMiningReport.OutOfOrderEvents"/>),
/// and a user whose events come in several blocks is counted (<see cref="CoOccurrenceMiningReport.NonContiguousUsers"/>).
/// A user counts once per transition however often they repeat it; A->A is not a transition.
/// </remarks>
public sealed class CoOccurrencePairMiner
{
    private readonly MLContext mlContext;
    private readonly CoOccurrencePairMinerOptions options;

    /// <summary>Creates a miner.</summary>
    public CoOccurrencePairMiner(MLContext mlContext, CoOccurrencePairMinerOptions? options = null)
    {
        this.mlContext = mlContext ?? throw new ArgumentNullException(nameof(mlContext));
        this.options = options ?? new CoOccurrencePairMinerOptions();
        this.options.Validate();
    }

    /// <summary>Mines pairs from typed events.</summary>
    public CoOccurrenceMiningResult Mine(IEnumerable<BehaviorEvent> events)
    {
        var accumulator = new TransitionAccumulator(options);
        foreach (var e in events)
            accumulator.Add(e.UserId, e.NoteId, e.Timestamp.Ticks, e.EventKind);
        return Finish(accumulator);
    }

    /// <summary>Mines pairs from an <see cref="IDataView"/> with the columns named in the options.</summary>
    /// <exception cref="ArgumentException">A column is missing or has a type the miner cannot read.</exception>
    public CoOccurrenceMiningResult Mine(IDataView events)
    {
        if (options.TargetEventKind is not null && options.EventKindColumnName is null)
            throw new ArgumentException(
                $"{nameof(CoOccurrencePairMinerOptions.TargetEventKind)} needs {nameof(CoOccurrencePairMinerOptions.EventKindColumnName)} to read event kinds from an IDataView.");
        var schema = events.Schema;
        var user = TextColumn(schema, options.UserIdColumnName);
        var note = TextColumn(schema, options.NoteIdColumnName);
        var time = Column(schema, options.TimestampColumnName);
        var kind = options.EventKindColumnName is { } kindName ? TextColumn(schema, kindName) : (DataViewSchema.Column?)null;

        var columns = new List<DataViewSchema.Column> { user, note, time };
        if (kind is { } k) columns.Add(k);
        var accumulator = new TransitionAccumulator(options);
        using var cursor = events.GetRowCursor(columns);
        var userGetter = cursor.GetGetter<ReadOnlyMemory<char>>(user);
        var noteGetter = cursor.GetGetter<ReadOnlyMemory<char>>(note);
        var kindGetter = kind is { } kc ? cursor.GetGetter<ReadOnlyMemory<char>>(kc) : null;
        var timeGetter = TicksGetter(cursor, time);
        ReadOnlyMemory<char> userValue = default, noteValue = default, kindValue = default;
        while (cursor.MoveNext())
        {
            userGetter(ref userValue);
            noteGetter(ref noteValue);
            kindGetter?.Invoke(ref kindValue);
            accumulator.Add(userValue.Span, noteValue.Span, timeGetter(), kindValue.Span);
        }
        return Finish(accumulator);
    }

    private CoOccurrenceMiningResult Finish(TransitionAccumulator accumulator)
    {
        var (pairs, report) = accumulator.Finish();
        return new CoOccurrenceMiningResult { Pairs = mlContext.Data.LoadFromEnumerable(pairs), Report = report };
    }

    private static DataViewSchema.Column Column(DataViewSchema schema, string name) =>
        schema.GetColumnOrNull(name) ?? throw new ArgumentException(
            $"The events have no column '{name}' (columns: {string.Join(", ", schema.Select(c => c.Name))}).");

    private static DataViewSchema.Column TextColumn(DataViewSchema schema, string name)
    {
        var column = Column(schema, name);
        if (column.Type is not TextDataViewType)
            throw new ArgumentException($"Column '{name}' must be text; it is {column.Type}.");
        return column;
    }

    /// <summary>A getter returning the event time in ticks, or null when it is missing or unparseable.</summary>
    private static Func<long?> TicksGetter(DataViewRowCursor cursor, DataViewSchema.Column column)
    {
        switch (column.Type.RawType)
        {
            case Type t when t == typeof(DateTime):
                {
                    var get = cursor.GetGetter<DateTime>(column);
                    DateTime value = default;
                    return () => { get(ref value); return value.Ticks; };
                }
            case Type t when t == typeof(DateTimeOffset):
                {
                    var get = cursor.GetGetter<DateTimeOffset>(column);
                    DateTimeOffset value = default;
                    return () => { get(ref value); return value.UtcTicks; };
                }
            case Type t when t == typeof(long):
                {
                    var get = cursor.GetGetter<long>(column);
                    long value = 0;
                    long maxSeconds = (DateTime.MaxValue.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerSecond;
                    return () =>
                    {
                        get(ref value);
                        return value < -DateTime.UnixEpoch.Ticks / TimeSpan.TicksPerSecond || value > maxSeconds
                            ? null : DateTime.UnixEpoch.Ticks + value * TimeSpan.TicksPerSecond;
                    };
                }
            case Type t when t == typeof(ReadOnlyMemory<char>):
                {
                    var get = cursor.GetGetter<ReadOnlyMemory<char>>(column);
                    ReadOnlyMemory<char> value = default;
                    return () =>
                    {
                        get(ref value);
                        return DateTimeOffset.TryParse(value.Span, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)
                            ? parsed.UtcTicks : null;
                    };
                }
            default:
                throw new ArgumentException(
                    $"Column '{column.Name}' must be DateTime, DateTimeOffset, text or Int64 Unix seconds; it is {column.Type}.");
        }
    }

    /// <summary>The streaming state: one user's session at a time and the global transition table.</summary>
    private sealed class TransitionAccumulator(CoOccurrencePairMinerOptions options)
    {
        private struct Transition
        {
            public double Score;   // sum of 1/N_u
            public int Users;      // distinct sessions that made it
        }

        private readonly CoOccurrenceMiningReport report = new();
        private readonly Dictionary<string, int> noteIndex = new(StringComparer.Ordinal);
        private readonly List<string> noteNames = [];
        private readonly Dictionary<long, Transition> transitions = new(TransitionKeyComparer.Instance);
        private readonly HashSet<ulong> usersSeen = [];
        private readonly long windowTicks = options.Window?.Ticks ?? 0;
        private readonly long maxGapTicks = options.MaxTransitionGap?.Ticks ?? long.MaxValue;

        // The current session: (user, window).
        private string? user;
        private long window;
        private long lastTicks;
        private int lastNote = -1;
        private string? lastKind;
        private int sessionEvents;
        private readonly HashSet<int> sessionNotes = [];
        private readonly HashSet<long> sessionTransitions = new(TransitionKeyComparer.Instance);
        // A ring of the session's last events, oldest overwritten; it grows with the longest session up to MaxLookBack,
        // so that a look-back of int.MaxValue ("every earlier event") costs only what the sessions hold.
        private (int Note, long Ticks)[] lookBack = new (int, long)[Math.Min(options.MaxLookBack, 16)];
        private int lookBackCount, lookBackNext;

        public void Add(ReadOnlySpan<char> user, ReadOnlySpan<char> note, long? ticks, ReadOnlySpan<char> kind)
        {
            report.EventsRead++;
            if (user.IsEmpty) { report.NullOrEmptyUserIds++; return; }
            if (note.IsEmpty) { report.NullOrEmptyNoteIds++; return; }
            if (ticks is not { } t) { report.UnparseableTimestamps++; return; }

            long window = windowTicks == 0 ? 0 : FloorDivide(t - DateTime.UnixEpoch.Ticks, windowTicks);
            if (this.user is null || !user.SequenceEqual(this.user))
            {
                EndSession();
                this.user = user.ToString();
                if (!usersSeen.Add(XxHash3.HashToUInt64(MemoryMarshal.AsBytes(user)))) report.NonContiguousUsers++;
                this.window = window;
            }
            else if (t < lastTicks) { report.OutOfOrderEvents++; return; }
            else if (window != this.window) { EndSession(); this.window = window; }

            int noteIndex = Intern(note);
            if (sessionEvents > 0 && t == lastTicks && noteIndex == lastNote && kind.SequenceEqual(lastKind))
            {
                report.DuplicateEvents++;
                return;
            }
            report.EventsUsed++;
            sessionEvents++;
            sessionNotes.Add(noteIndex);

            bool isTarget = options.TargetEventKind is null || kind.SequenceEqual(options.TargetEventKind);
            if (isTarget)
                for (int i = 0; i < lookBackCount; i++)
                {
                    var (source, sourceTicks) = lookBack[(lookBackNext - 1 - i + lookBack.Length) % lookBack.Length];
                    if (t - sourceTicks > maxGapTicks) break;   // older entries are further away still
                    if (source != noteIndex) sessionTransitions.Add(Key(source, noteIndex));
                }
            if (lookBackCount == lookBack.Length && lookBack.Length < options.MaxLookBack) GrowLookBack();
            lookBack[lookBackNext] = (noteIndex, t);
            lookBackNext = (lookBackNext + 1) % lookBack.Length;
            lookBackCount = Math.Min(lookBackCount + 1, lookBack.Length);
            lastTicks = t;
            lastNote = noteIndex;
            if (!kind.SequenceEqual(lastKind)) lastKind = kind.ToString();
        }

        public void Add(string? user, string? note, long ticks, string? kind) =>
            Add(user.AsSpan(), note.AsSpan(), ticks, kind.AsSpan());

        // Called when the ring is full, so lookBackNext is its oldest entry: the entries move over oldest first.
        private void GrowLookBack()
        {
            var grown = new (int Note, long Ticks)[(int)Math.Min(options.MaxLookBack, 2L * lookBack.Length)];
            for (int i = 0; i < lookBackCount; i++) grown[i] = lookBack[(lookBackNext + i) % lookBack.Length];
            lookBack = grown;
            lookBackNext = lookBackCount;
        }

        private static long FloorDivide(long x, long y) => x / y - (x % y < 0 ? 1 : 0);

        private long Key(int a, int b) => options.Symmetric && a > b ? Pack(b, a) : Pack(a, b);
        private static long Pack(int a, int b) => ((long)a << 32) | (uint)b;

        private int Intern(ReadOnlySpan<char> note)
        {
            // A consecutive repeat of the same note (common in logs) skips the string allocation.
            if (lastNote >= 0 && note.SequenceEqual(noteNames[lastNote])) return lastNote;
            var name = note.ToString();
            ref int index = ref CollectionsMarshal.GetValueRefOrAddDefault(noteIndex, name, out bool exists);
            if (!exists)
            {
                index = noteNames.Count;
                noteNames.Add(name);
            }
            return index;
        }

        /// <summary>Adds the session's transitions with weight 1/N_u (paper section 3.3) and resets it.</summary>
        private void EndSession()
        {
            if (sessionEvents > 0)
            {
                report.Users++;
                if (sessionEvents == 1) report.SingleEventUsers++;
                double weight = 1.0 / sessionNotes.Count;
                foreach (long key in sessionTransitions)
                {
                    ref var transition = ref CollectionsMarshal.GetValueRefOrAddDefault(transitions, key, out _);
                    transition.Score += weight;
                    transition.Users++;
                }
            }
            sessionEvents = 0;
            sessionNotes.Clear();
            sessionTransitions.Clear();
            lookBackCount = lookBackNext = 0;
            lastNote = -1;
            lastKind = null;
        }

        public (List<RelatedNotePair> Pairs, CoOccurrenceMiningReport Report) Finish()
        {
            EndSession();
            report.DistinctNotes = noteNames.Count;
            report.DistinctTransitions = transitions.Count;

            // Directed candidates grouped by note A with a counting sort (a symmetric relation is a candidate in
            // both notes' lists), then each note's list sorted: best score first, ties by related id (ordinal).
            int notes = noteNames.Count;
            var start = new int[notes + 1];
            foreach (long key in transitions.Keys)
            {
                start[(int)(key >> 32) + 1]++;
                if (options.Symmetric) start[(int)key + 1]++;
            }
            for (int i = 0; i < notes; i++) start[i + 1] += start[i];
            var candidates = new Candidate[start[notes]];
            var next = start[..notes];
            foreach (var (key, transition) in transitions)
            {
                int a = (int)(key >> 32), b = (int)key;
                candidates[next[a]++] = new Candidate(b, transition.Score, transition.Users);
                if (options.Symmetric) candidates[next[b]++] = new Candidate(a, transition.Score, transition.Users);
            }
            transitions.Clear();
            transitions.TrimExcess();
            var byName = Enumerable.Range(0, notes).ToArray();
            Array.Sort(byName, (x, y) => string.CompareOrdinal(noteNames[x], noteNames[y]));
            var rank = new int[notes];
            for (int i = 0; i < notes; i++) rank[byName[i]] = i;
            var order = new CandidateOrder(rank);

            var pairs = new List<RelatedNotePair>();
            for (int a = 0; a < notes; a++)
            {
                var list = candidates.AsSpan(start[a], start[a + 1] - start[a]);
                list.Sort(order);
                int kept = 0;
                foreach (var c in list)
                {
                    if (c.Users < options.MinUsers) report.PairsBelowMinUsers++;
                    else if (c.Score > options.UpperBound) report.PairsAboveUpperBound++;
                    else if (c.Score < options.LowerBound) report.PairsBelowLowerBound++;
                    else if (kept == options.TopK) report.PairsBeyondTopK++;
                    else
                    {
                        kept++;
                        pairs.Add(new RelatedNotePair { NoteId = noteNames[a], RelatedNoteId = noteNames[c.B], Score = (float)c.Score });
                    }
                }
            }
            report.PairsOutput = pairs.Count;
            return (pairs, report);
        }
    }

    /// <summary>A related note B of some note A with the transition's score and number of users.</summary>
    private readonly record struct Candidate(int B, double Score, int Users);

    private readonly struct CandidateOrder(int[] rank) : IComparer<Candidate>
    {
        public int Compare(Candidate x, Candidate y) =>
            x.Score != y.Score ? y.Score.CompareTo(x.Score) : rank[x.B].CompareTo(rank[y.B]);
    }

    /// <summary>
    /// Hashes a packed (A, B) key well: <see cref="long.GetHashCode"/> is A xor B, which collides for every pair of
    /// nearby note indexes and makes the tables quadratic.
    /// </summary>
    private sealed class TransitionKeyComparer : IEqualityComparer<long>
    {
        public static readonly TransitionKeyComparer Instance = new();
        public bool Equals(long x, long y) => x == y;
        public int GetHashCode(long key) => (int)(((ulong)key * 0x9E3779B97F4A7C15UL) >> 32);   // Fibonacci hashing
    }
}
