namespace NoteLLM.MLNet.PairMining;

/// <summary>One behaviour-log event: <paramref name="UserId"/> interacted with <paramref name="NoteId"/> at <paramref name="Timestamp"/>.</summary>
/// <param name="UserId">The user (null or empty: the event is counted as bad and skipped).</param>
/// <param name="NoteId">The note (null or empty: the event is counted as bad and skipped).</param>
/// <param name="Timestamp">When it happened (ticks are compared; use one time zone throughout).</param>
/// <param name="EventKind">Optional kind, e.g. <c>view</c> or <c>click</c> (see <see cref="CoOccurrencePairMinerOptions.TargetEventKind"/>).</param>
public readonly record struct BehaviorEvent(string? UserId, string? NoteId, DateTime Timestamp, string? EventKind = null);
