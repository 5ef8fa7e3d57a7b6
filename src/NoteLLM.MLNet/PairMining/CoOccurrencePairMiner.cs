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
    readonly MLContext _mlContext;
    readonly CoOccurrencePairMinerOptions _options;

    /// <summary>Creates a miner.</summary>
    public CoOccurrencePairMiner(MLContext mlContext, CoOccurrencePairMinerOptions? options = null)
    {
        _mlContext = mlContext ?? throw new ArgumentNullException(nameof(mlContext));
        _options = options ?? new CoOccurrencePairMinerOptions();
        _options.Validate();
    }

    /// <summary>Mines pairs from typed events.</summary>
    public CoOccurrenceMiningResult Mine(IEnumerable<BehaviorEvent> events)
    {
        var accumulator = new TransitionAccumulator(_options);
        foreach (var e in events)
            accumulator.Add(e.UserId, e.NoteId, e.Timestamp.Ticks, e.EventKind);
        return Finish(accumulator);
    }

    /// <summary>Mines pairs from an <see cref="IDataView"/> with the columns named in the options.</summary>
    /// <exception cref="ArgumentException">A column is missing or has a type the miner cannot read.</exception>
    public CoOccurrenceMiningResult Mine(IDataView events)
    {
        if (_options.TargetEventKind is not null && _options.EventKindColumnName is null)
            throw new ArgumentException(
                $"{nameof(CoOccurrencePairMinerOptions.TargetEventKind)} needs {nameof(CoOccurrencePairMinerOptions.EventKindColumnName)} to read event kinds from an IDataView.");
        var schema = events.Schema;
        var user = TextColumn(schema, _options.UserIdColumnName);
        var note = TextColumn(schema, _options.NoteIdColumnName);
        var time = Column(schema, _options.TimestampColumnName);
        var kind = _options.EventKindColumnName is { } kindName ? TextColumn(schema, kindName) : (DataViewSchema.Column?)null;

        var columns = new List<DataViewSchema.Column> { user, note, time };
        if (kind is { } k) columns.Add(k);
        var accumulator = new TransitionAccumulator(_options);
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

    CoOccurrenceMiningResult Finish(TransitionAccumulator accumulator)
    {
        var (pairs, report) = accumulator.Finish();
        return new CoOccurrenceMiningResult { Pairs = _mlContext.Data.LoadFromEnumerable(pairs), Report = report };
    }

    static DataViewSchema.Column Column(DataViewSchema schema, string name) =>
        schema.GetColumnOrNull(name) ?? throw new ArgumentException(
            $"The events have no column '{name}' (columns: {string.Join(", ", schema.Select(c => c.Name))}).");

    static DataViewSchema.Column TextColumn(DataViewSchema schema, string name)
    {
        var column = Column(schema, name);
        if (column.Type is not TextDataViewType)
            throw new ArgumentException($"Column '{name}' must be text; it is {column.Type}.");
        return column;
    }

    /// <summary>A getter returning the event time in ticks, or null when it is missing or unparseable.</summary>
    static Func<long?> TicksGetter(DataViewRowCursor cursor, DataViewSchema.Column column)
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
    sealed class TransitionAccumulator(CoOccurrencePairMinerOptions options)
    {
        struct Transition
        {
            public double Score;   // sum of 1/N_u
            public int Users;      // distinct sessions that made it
        }

        readonly CoOccurrenceMiningReport _report = new();
        readonly Dictionary<string, int> _noteIndex = new(StringComparer.Ordinal);
        readonly List<string> _noteNames = [];
        readonly Dictionary<long, Transition> _transitions = new(TransitionKeyComparer.Instance);
        readonly HashSet<ulong> _usersSeen = [];
        readonly long _windowTicks = options.Window?.Ticks ?? 0;
        readonly long _maxGapTicks = options.MaxTransitionGap?.Ticks ?? long.MaxValue;

        // The current session: (user, window).
        string? _user;
        long _window;
        long _lastTicks;
        int _lastNote = -1;
        string? _lastKind;
        int _sessionEvents;
        readonly HashSet<int> _sessionNotes = [];
        readonly HashSet<long> _sessionTransitions = new(TransitionKeyComparer.Instance);
        readonly (int Note, long Ticks)[] _lookBack = new (int, long)[options.MaxLookBack];
        int _lookBackCount, _lookBackNext;

        public void Add(ReadOnlySpan<char> user, ReadOnlySpan<char> note, long? ticks, ReadOnlySpan<char> kind)
        {
            _report.EventsRead++;
            if (user.IsEmpty) { _report.NullOrEmptyUserIds++; return; }
            if (note.IsEmpty) { _report.NullOrEmptyNoteIds++; return; }
            if (ticks is not { } t) { _report.UnparseableTimestamps++; return; }

            long window = _windowTicks == 0 ? 0 : FloorDivide(t - DateTime.UnixEpoch.Ticks, _windowTicks);
            if (_user is null || !user.SequenceEqual(_user))
            {
                EndSession();
                _user = user.ToString();
                if (!_usersSeen.Add(XxHash3.HashToUInt64(MemoryMarshal.AsBytes(user)))) _report.NonContiguousUsers++;
                _window = window;
            }
            else if (t < _lastTicks) { _report.OutOfOrderEvents++; return; }
            else if (window != _window) { EndSession(); _window = window; }

            int noteIndex = Intern(note);
            if (_sessionEvents > 0 && t == _lastTicks && noteIndex == _lastNote && kind.SequenceEqual(_lastKind))
            {
                _report.DuplicateEvents++;
                return;
            }
            _report.EventsUsed++;
            _sessionEvents++;
            _sessionNotes.Add(noteIndex);

            bool isTarget = options.TargetEventKind is null || kind.SequenceEqual(options.TargetEventKind);
            if (isTarget)
                for (int i = 0; i < _lookBackCount; i++)
                {
                    var (source, sourceTicks) = _lookBack[(_lookBackNext - 1 - i + _lookBack.Length) % _lookBack.Length];
                    if (t - sourceTicks > _maxGapTicks) break;   // older entries are further away still
                    if (source != noteIndex) _sessionTransitions.Add(Key(source, noteIndex));
                }
            _lookBack[_lookBackNext] = (noteIndex, t);
            _lookBackNext = (_lookBackNext + 1) % _lookBack.Length;
            _lookBackCount = Math.Min(_lookBackCount + 1, _lookBack.Length);
            _lastTicks = t;
            _lastNote = noteIndex;
            if (!kind.SequenceEqual(_lastKind)) _lastKind = kind.ToString();
        }

        public void Add(string? user, string? note, long ticks, string? kind) =>
            Add(user.AsSpan(), note.AsSpan(), ticks, kind.AsSpan());

        static long FloorDivide(long x, long y) => x / y - (x % y < 0 ? 1 : 0);

        long Key(int a, int b) => options.Symmetric && a > b ? Pack(b, a) : Pack(a, b);
        static long Pack(int a, int b) => ((long)a << 32) | (uint)b;

        int Intern(ReadOnlySpan<char> note)
        {
            // A consecutive repeat of the same note (common in logs) skips the string allocation.
            if (_lastNote >= 0 && note.SequenceEqual(_noteNames[_lastNote])) return _lastNote;
            var name = note.ToString();
            ref int index = ref CollectionsMarshal.GetValueRefOrAddDefault(_noteIndex, name, out bool exists);
            if (!exists)
            {
                index = _noteNames.Count;
                _noteNames.Add(name);
            }
            return index;
        }

        /// <summary>Adds the session's transitions with weight 1/N_u (paper section 3.3) and resets it.</summary>
        void EndSession()
        {
            if (_sessionEvents > 0)
            {
                _report.Users++;
                if (_sessionEvents == 1) _report.SingleEventUsers++;
                double weight = 1.0 / _sessionNotes.Count;
                foreach (long key in _sessionTransitions)
                {
                    ref var transition = ref CollectionsMarshal.GetValueRefOrAddDefault(_transitions, key, out _);
                    transition.Score += weight;
                    transition.Users++;
                }
            }
            _sessionEvents = 0;
            _sessionNotes.Clear();
            _sessionTransitions.Clear();
            _lookBackCount = _lookBackNext = 0;
            _lastNote = -1;
            _lastKind = null;
        }

        public (List<RelatedNotePair> Pairs, CoOccurrenceMiningReport Report) Finish()
        {
            EndSession();
            _report.DistinctNotes = _noteNames.Count;
            _report.DistinctTransitions = _transitions.Count;

            // Directed candidates grouped by note A with a counting sort (a symmetric relation is a candidate in
            // both notes' lists), then each note's list sorted: best score first, ties by related id (ordinal).
            int notes = _noteNames.Count;
            var start = new int[notes + 1];
            foreach (long key in _transitions.Keys)
            {
                start[(int)(key >> 32) + 1]++;
                if (options.Symmetric) start[(int)key + 1]++;
            }
            for (int i = 0; i < notes; i++) start[i + 1] += start[i];
            var candidates = new Candidate[start[notes]];
            var next = start[..notes];
            foreach (var (key, transition) in _transitions)
            {
                int a = (int)(key >> 32), b = (int)key;
                candidates[next[a]++] = new Candidate(b, transition.Score, transition.Users);
                if (options.Symmetric) candidates[next[b]++] = new Candidate(a, transition.Score, transition.Users);
            }
            _transitions.Clear();
            _transitions.TrimExcess();
            var byName = Enumerable.Range(0, notes).ToArray();
            Array.Sort(byName, (x, y) => string.CompareOrdinal(_noteNames[x], _noteNames[y]));
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
                    if (c.Users < options.MinUsers) _report.PairsBelowMinUsers++;
                    else if (c.Score > options.UpperBound) _report.PairsAboveUpperBound++;
                    else if (c.Score < options.LowerBound) _report.PairsBelowLowerBound++;
                    else if (kept == options.TopK) _report.PairsBeyondTopK++;
                    else
                    {
                        kept++;
                        pairs.Add(new RelatedNotePair { NoteId = _noteNames[a], RelatedNoteId = _noteNames[c.B], Score = (float)c.Score });
                    }
                }
            }
            _report.PairsOutput = pairs.Count;
            return (pairs, _report);
        }
    }

    /// <summary>A related note B of some note A with the transition's score and number of users.</summary>
    readonly record struct Candidate(int B, double Score, int Users);

    readonly struct CandidateOrder(int[] rank) : IComparer<Candidate>
    {
        public int Compare(Candidate x, Candidate y) =>
            x.Score != y.Score ? y.Score.CompareTo(x.Score) : rank[x.B].CompareTo(rank[y.B]);
    }

    /// <summary>
    /// Hashes a packed (A, B) key well: <see cref="long.GetHashCode"/> is A xor B, which collides for every pair of
    /// nearby note indexes and makes the tables quadratic.
    /// </summary>
    sealed class TransitionKeyComparer : IEqualityComparer<long>
    {
        public static readonly TransitionKeyComparer Instance = new();
        public bool Equals(long x, long y) => x == y;
        public int GetHashCode(long key) => (int)(((ulong)key * 0x9E3779B97F4A7C15UL) >> 32);   // Fibonacci hashing
    }
}
