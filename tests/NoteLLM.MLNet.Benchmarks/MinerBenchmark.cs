using System.Diagnostics;
using Microsoft.ML;
using NoteLLM.MLNet.PairMining;

namespace NoteLLM.MLNet.Benchmarks;

/// <summary>
/// Co-occurrence pair miner: target >= 10M events per minute through the IDataView path, with memory that follows
/// the number of distinct transitions, not the number of events. Two phases with the same number of events:
/// first over few notes (few transitions), then over many notes (many transitions); peak RSS is read after each.
/// </summary>
public sealed class MinerBenchmark : IBenchmark
{
    public string Name => "miner";
    public string Description => "co-occurrence pair miner on synthetic logs (power-law users and notes, one 100k-event user): events/s and peak RSS vs distinct transitions (args: [events=10000000])";

    /// <summary>An event row streamed from the generator: never materialised as a list.</summary>
    private sealed class EventRow
    {
        public string UserId { get; set; } = "";
        public string NoteId { get; set; } = "";
        public DateTime Timestamp { get; set; }
    }

    public int Run(string[] args)
    {
        long events = args.Length > 0 ? long.Parse(args[0]) : 10_000_000;
        var ml = new MLContext(seed: 1);
        Console.WriteLine($"baseline RSS {ProcessMemory.Mib(ProcessMemory.CurrentRss())}");
        bool ok = true;
        foreach (var notes in new[] { 1_000, 200_000 })
        {
            var miner = new CoOccurrencePairMiner(ml, new CoOccurrencePairMinerOptions());
            var view = ml.Data.LoadFromEnumerable(Generate(events, notes, seed: 42));
            var inputCpu = ReadOnly(view);
            var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var watch = Stopwatch.StartNew();
            var result = miner.Mine(view);
            watch.Stop();
            var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
            var report = result.Report;
            double perSecond = report.EventsRead / watch.Elapsed.TotalSeconds;
            long peak = ProcessMemory.PeakRss();
            Console.WriteLine($"notes {notes:N0}: {report.EventsRead:N0} events in {watch.Elapsed.TotalSeconds:F1} s wall "
                + $"({cpu.TotalSeconds:F1} s CPU, of which generating and reading the events alone take {inputCpu.TotalSeconds:F1} s) = {perSecond:N0} events/s "
                + $"({perSecond * 60 / 1e6:F1}M/min); users {report.Users:N0}; distinct transitions {report.DistinctTransitions:N0}; "
                + $"pairs {report.PairsOutput:N0}; peak RSS {ProcessMemory.Mib(peak)} = {(double)peak / Math.Max(1, report.DistinctTransitions):F0} B/transition, "
                + $"{(double)peak / report.EventsRead:F1} B/event");
            Console.WriteLine($"  report: {report}");
            ok &= perSecond * 60 >= 10_000_000;
            GC.Collect();
        }
        Console.WriteLine(ok ? "target met: >= 10M events/minute" : "TARGET MISSED: < 10M events/minute");
        return ok ? 0 : 1;
    }

    /// <summary>CPU time of generating and reading the events without mining them.</summary>
    private static TimeSpan ReadOnly(Microsoft.ML.IDataView view)
    {
        var before = Process.GetCurrentProcess().TotalProcessorTime;
        using var cursor = view.GetRowCursor(view.Schema);
        var user = cursor.GetGetter<ReadOnlyMemory<char>>(view.Schema["UserId"]);
        var note = cursor.GetGetter<ReadOnlyMemory<char>>(view.Schema["NoteId"]);
        var time = cursor.GetGetter<DateTime>(view.Schema["Timestamp"]);
        ReadOnlyMemory<char> u = default, n = default;
        DateTime t = default;
        while (cursor.MoveNext()) { user(ref u); note(ref n); time(ref t); }
        return Process.GetCurrentProcess().TotalProcessorTime - before;
    }

    /// <summary>
    /// Synthetic logs grouped by user and time-ordered: Pareto-distributed events per user (one user has 100k),
    /// power-law note popularity, and half of the clicks going to a "neighbour" of the previous note so transitions repeat.
    /// </summary>
    private static IEnumerable<EventRow> Generate(long count, int notes, int seed)
    {
        var random = new Random(seed);
        var start = new DateTime(2024, 1, 1);
        long produced = 0;
        for (int user = 0; produced < count; user++)
        {
            int length = user == 0 ? 100_000 : (int)Math.Min(5_000, Math.Floor(2.0 / Math.Pow(1 - random.NextDouble(), 1 / 1.2)));
            length = (int)Math.Min(length, count - produced);
            var time = start.AddSeconds(random.Next(86_400));
            int note = PowerLaw(random, notes);
            string userId = $"user{user}";
            for (int i = 0; i < length; i++)
            {
                note = random.NextDouble() < 0.5 ? (note + 1 + random.Next(8)) % notes : PowerLaw(random, notes);
                time = time.AddSeconds(1 + random.Next(300));
                yield return new EventRow { UserId = userId, NoteId = $"note{note}", Timestamp = time };
            }
            produced += length;
        }
    }

    private static int PowerLaw(Random random, int n) => (int)(n * Math.Pow(random.NextDouble(), 3));
}
