using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using NoteLLM.Web;

namespace NoteLLM.MLNet.Benchmarks;

/// <summary>
/// The web sample over real loopback HTTP: starts <see cref="NoteWebApp"/> on Kestrel (127.0.0.1, a free port) on a
/// model zip and its note index, then measures requests/s and p50/p99 latency of GET /api/notes/{id}/related (the
/// index's stored embeddings only) and POST /api/related with an indexed note's text and no id (embedded by a pooled
/// PredictionEngine, then searched). Each endpoint runs until --requests N are answered or --seconds S have passed,
/// whichever comes first, with --concurrency C requests in flight; C requests first warm it up, unmeasured.
/// Options: --model (default quickstart-output/model.zip), --requests (2000), --seconds (30), --concurrency (8), --k (10).
/// </summary>
internal sealed class WebBenchmark : IBenchmark
{
    public string Name => "web";
    public string Description => "the web sample over loopback HTTP: requests/s and p50/p99 latency of related notes by id and by posted text";

    public int Run(string[] args)
    {
        int modelAt = Array.IndexOf(args, "--model");
        string model = modelAt >= 0 && modelAt + 1 < args.Length ? args[modelAt + 1] : Path.Combine("quickstart-output", "model.zip");
        int requests = BenchmarkArgs.Option(args, "--requests", 2000), seconds = BenchmarkArgs.Option(args, "--seconds", 30);
        int concurrency = BenchmarkArgs.Option(args, "--concurrency", 8), k = BenchmarkArgs.Option(args, "--k", 10);

        WebApplication app;
        try
        {
            app = NoteWebApp.Create(["--model", model, "--urls", "http://127.0.0.1:0"]);
        }
        catch (NoteServingStartupException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
        using (app)
        {
            app.StartAsync().GetAwaiter().GetResult();
            var notes = app.Services.GetRequiredService<NoteServing>().Search(null).ToList();
            using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
            Console.WriteLine($"{model}: {notes.Count:N0} indexed notes, served at {http.BaseAddress}; k={k}, concurrency {concurrency}, at most {requests:N0} requests or {seconds} s per endpoint");
            var rows = new[]
            {
                Measure("GET /api/notes/{id}/related", i => http.GetAsync($"/api/notes/{Uri.EscapeDataString(notes[i % notes.Count].Id)}/related?k={k}")),
                Measure("POST /api/related (text)", i => http.PostAsJsonAsync($"/api/related?k={k}",
                    new { title = notes[i % notes.Count].Title, content = notes[i % notes.Count].Content, hashtags = notes[i % notes.Count].Hashtags })),
            };
            Console.WriteLine("| endpoint | requests | seconds | requests/s | p50 ms | p99 ms |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|");
            foreach (var row in rows) Console.WriteLine(row);
            app.StopAsync().GetAwaiter().GetResult();
        }
        return 0;

        string Measure(string endpoint, Func<int, Task<HttpResponseMessage>> send)
        {
            async Task<double> Timed(int i)
            {
                long start = Stopwatch.GetTimestamp();
                using var response = await send(i);
                await response.Content.ReadAsByteArrayAsync();
                if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{endpoint} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }
            Task.WhenAll(Enumerable.Range(0, concurrency).Select(Timed)).GetAwaiter().GetResult(); // warm-up

            var latencies = new List<double>();
            int issued = 0;
            var clock = Stopwatch.StartNew();
            var deadline = TimeSpan.FromSeconds(seconds);
            async Task Worker()
            {
                for (int i; (i = Interlocked.Increment(ref issued)) <= requests && clock.Elapsed < deadline;)
                {
                    double ms = await Timed(i);
                    lock (latencies) latencies.Add(ms);
                }
            }
            Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(Worker))).GetAwaiter().GetResult();
            double elapsed = clock.Elapsed.TotalSeconds;
            latencies.Sort();
            double Percentile(double p) => latencies[Math.Max(0, (int)Math.Ceiling(p * latencies.Count) - 1)]; // nearest rank
            return string.Create(CultureInfo.InvariantCulture,
                $"| {endpoint} | {latencies.Count:N0} | {elapsed:F1} | {latencies.Count / elapsed:F1} | {Percentile(0.50):F1} | {Percentile(0.99):F1} |");
        }
    }
}
