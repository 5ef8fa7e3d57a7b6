using System.Diagnostics;
using NoteLLM.MLNet.Retrieval;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace NoteLLM.MLNet.Benchmarks;

/// <summary>
/// Retrieval targets: exact top-100 for 1,000 queries over 100k notes (well under a second), and exact vs
/// approximate (HNSW) search over 1M random unit vectors of 128 dimensions (ANN recall@10 >= 0.95 at >= 10x the
/// exact queries/s), with build time and memory.
/// Options: --n N (corpus size, default 1,000,000), --queries Q (default 1,000), --ef-search (a comma-separated
/// list: one graph is searched at each ef, printing the recall/speed curve; default 16 to 2048), --ef-add,
/// --connectivity (HNSW settings, defaults of <see cref="NoteIndexOptions"/>), --latent D (default 0: isotropic
/// random unit vectors as the issue specifies; D > 0: unit vectors near a random D-dimensional subspace, closer to
/// real embeddings, whose intrinsic dimension is low). Timings print wall time and the process's CPU time, because
/// the 2-core machine is shared: CPU time well below 2 x wall time means other processes took the cores.
/// Duration: the default run builds a 1M-vector HNSW graph one insert at a time (see NoteIndex.AddToGraph), which
/// took 19 minutes on the quiet 2-core machine (efConstruction 128); --n 100000 runs in about 2 minutes. Results: docs/benchmarks.md.
/// </summary>
public sealed class IndexBenchmark : IBenchmark
{
    private const int Dimensions = 128;

    public string Name => "index";
    public string Description => "NoteIndex: exact top-100 1,000x100k; exact vs HNSW on 1M x 128 random unit vectors";

    public int Run(string[] args)
    {
        int n = BenchmarkArgs.Option(args, "--n", 1_000_000), queryCount = BenchmarkArgs.Option(args, "--queries", 1_000);
        int latent = BenchmarkArgs.Option(args, "--latent", 0);
        int[] efSearch = BenchmarkArgs.Options(args, "--ef-search", [16, 32, 64, 128, 256, 512, 1024, 2048]);
        var defaults = new NoteIndexOptions();
        var annOptions = new NoteIndexOptions
        {
            Mode = NoteSearchMode.Approximate,
            ExpansionAdd = BenchmarkArgs.Option(args, "--ef-add", defaults.ExpansionAdd),
            Connectivity = BenchmarkArgs.Option(args, "--connectivity", defaults.Connectivity),
        };
        bool allMet = true;

        // 1. Exact top-100, 1,000 queries over 100k notes.
        var queries = RandomUnitVectors(queryCount, seed: 2, latent);
        {
            var corpus = RandomUnitVectors(100_000, seed: 1, latent);
            using var index = new NoteIndex(Dimensions);
            index.Add(Ids(corpus.Length), corpus);
            index.Search(queries.Take(10).ToArray(), 100); // warm-up (torch initialisation)
            var (seconds, cpu) = BestOf(3, () => index.Search(queries, 100));
            bool met = seconds < 1.0;
            allMet &= met;
            Console.WriteLine($"exact top-100, {queryCount} queries x 100,000 notes (TorchSharp matmul+topk): {seconds:F3} s " +
                              $"(CPU {cpu:F2} s; {queryCount / seconds:F0} queries/s) -> target < 1 s {(met ? "MET" : "MISSED")}");
            // The alternative exact path: System.Numerics.Tensors dot products, one query per core at a time.
            int sample = Math.Min(100, queryCount);
            var (primitives, _) = BestOf(1, () => Parallel.For(0, sample, () => new float[corpus.Length], (q, _, local) =>
            {
                for (int i = 0; i < corpus.Length; i++) local[i] = TensorPrimitives.Dot(queries[q], corpus[i]);
                return local;
            }, _ => { }));
            Console.WriteLine($"  for comparison, TensorPrimitives.Dot per pair (scores only, no top-k): " +
                              $"{sample / primitives:F0} queries/s");
        }

        // 2. Exact vs approximate over n notes.
        Console.WriteLine(latent > 0
            ? $"corpus: {n:N0} unit vectors near a random {latent}-dimensional subspace of R^{Dimensions}"
            : $"corpus: {n:N0} isotropic random unit vectors in R^{Dimensions}");
        var vectors = RandomUnitVectors(n, seed: 3, latent);
        var ids = Ids(n);
        long rssBefore = SettledRss();
        using var exact = new NoteIndex(Dimensions);
        exact.Add(ids, vectors);
        long rssExact = SettledRss();
        exact.Search(queries.Take(10).ToArray(), 10);
        IReadOnlyList<RelatedNote>[] truth = [];
        var (exactSeconds, exactCpu) = BestOf(1, () => truth = exact.Search(queries, 10));
        double exactQps = queryCount / exactSeconds;
        Console.WriteLine($"exact top-10 over {n:N0}: {exactQps:F0} queries/s ({exactSeconds:F2} s, CPU {exactCpu:F2} s, for {queryCount}); " +
                          $"adding them grew RSS by {ProcessMemory.Mib(rssExact - rssBefore)} " +
                          $"(the stored embeddings are {ProcessMemory.Mib((long)n * Dimensions * sizeof(float))})");

        using var approximate = new NoteIndex(Dimensions, annOptions);
        var (buildSeconds, buildCpu) = BestOf(1, () => approximate.Add(ids, vectors));
        long rssAnn = SettledRss();
        Console.WriteLine($"HNSW build (USearch, M={annOptions.Connectivity}, efConstruction={annOptions.ExpansionAdd}, one insert at a time): " +
                          $"{buildSeconds:F1} s (CPU {buildCpu:F1} s; {n / buildSeconds:F0} notes/s); RSS grew by {ProcessMemory.Mib(rssAnn - rssExact)} " +
                          $"(its managed embeddings + USearch's vectors + graph); peak RSS {ProcessMemory.Mib(ProcessMemory.PeakRss())}");

        // The recall/speed curve: one graph searched at each ef, as ANN benchmarks report it. The target holds when
        // some ef gives both recall@10 >= 0.95 and >= 10x the exact queries/s.
        Console.WriteLine($"| ef | queries/s ({Environment.ProcessorCount} threads) | x exact | recall@10 vs exact |");
        Console.WriteLine("|---|---|---|---|");
        double bestSpeedupAtRecall = 0, bestRecall = 0;
        foreach (int ef in efSearch)
        {
            approximate.Options.ExpansionSearch = ef;
            IReadOnlyList<RelatedNote>[] found = [];
            var (annSeconds, _) = BestOf(2, () => found = approximate.Search(queries, 10));
            double speedup = queryCount / annSeconds / exactQps;
            double recall = truth.Zip(found, (t, f) => t.Select(r => r.Id).Intersect(f.Select(r => r.Id)).Count()).Sum()
                            / (10.0 * queryCount);
            Console.WriteLine($"| {ef} | {queryCount / annSeconds:F0} | {speedup:F1}x | {recall:F3} |");
            bestRecall = Math.Max(bestRecall, recall);
            if (recall >= 0.95) bestSpeedupAtRecall = Math.Max(bestSpeedupAtRecall, speedup);
        }
        bool annMet = bestSpeedupAtRecall >= 10;
        allMet &= annMet;
        Console.WriteLine(bestSpeedupAtRecall > 0
            ? $"target recall@10 >= 0.95 at >= 10x exact queries/s: {(annMet ? "MET" : "MISSED")} (fastest ef with recall >= 0.95: {bestSpeedupAtRecall:F1}x exact)"
            : $"target recall@10 >= 0.95 at >= 10x exact queries/s: MISSED (no ef reached recall 0.95; best {bestRecall:F3})");
        return allMet ? 0 : 1;
    }

    // Resident memory after a full compacting collection, so freed temporary arrays do not count.
    private static long SettledRss()
    {
        System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        return ProcessMemory.CurrentRss();
    }

    // Fastest wall time of the runs, with the process CPU time of that run.
    private static (double Seconds, double CpuSeconds) BestOf(int runs, Action action)
    {
        var best = (Seconds: double.MaxValue, CpuSeconds: 0.0);
        var process = Process.GetCurrentProcess();
        for (int i = 0; i < runs; i++)
        {
            process.Refresh();
            var cpu = process.TotalProcessorTime;
            var watch = Stopwatch.StartNew();
            action();
            double seconds = watch.Elapsed.TotalSeconds;
            process.Refresh();
            if (seconds < best.Seconds) best = (seconds, (process.TotalProcessorTime - cpu).TotalSeconds);
        }
        return best;
    }

    // latent = 0: isotropic Gaussian directions, i.e. uniform on the sphere. latent > 0: a fixed random
    // 128 x latent Gaussian basis (same for corpus and queries) times a Gaussian latent vector, plus isotropic
    // noise of 0.05 per coordinate (the subspace part has about sqrt(latent) per coordinate).
    private static float[][] RandomUnitVectors(int count, int seed, int latent)
    {
        var basisRandom = new Random(12345);
        var basis = Enumerable.Range(0, latent).Select(_ =>
            Enumerable.Range(0, Dimensions).Select(_ => (float)NormalSample(basisRandom)).ToArray()).ToArray();
        var random = new Random(seed);
        var result = new float[count][];
        for (int i = 0; i < count; i++)
        {
            var v = new float[Dimensions];
            for (int j = 0; j < Dimensions; j++) v[j] = (float)NormalSample(random) * (latent > 0 ? 0.05f : 1f);
            for (int l = 0; l < latent; l++) TensorPrimitives.MultiplyAdd(basis[l], (float)NormalSample(random), v, v);
            TensorPrimitives.Divide(v, TensorPrimitives.Norm(v), v);
            result[i] = v;
        }
        return result;
    }

    private static double NormalSample(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private static string[] Ids(int count) => Enumerable.Range(0, count).Select(i => $"note{i}").ToArray();


}
