using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using NoteLLM.MLNet.DataViews;
using TorchSharp;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Benchmarks;

/// <summary>
/// What the ML.NET plumbing (src/NoteLLM.MLNet/DataViews: lazy batched view, cursors, getters) costs on top of a
/// batched forward pass (target: Transform at >= 70% of the raw batched throughput). A stand-in
/// model (token embedding + 4 residual MLP blocks, d=256, mean-pooled) embeds notes' titles either by a plain
/// loop over batches or through Transform + a cursor reading the Embedding column. Also reports the plumbing's
/// cost per row with a computation that does nothing, and the share of Transform's time spent outside the batch
/// computation (robust to the background load of a shared machine, which moves both wall-clock rates).
/// Options: --notes N (default 2000), --batch B (default 16), --repeats R (default 3).
/// </summary>
public sealed class MLNetPlumbingBenchmark : IBenchmark
{
    public string Name => "mlnet-plumbing";

    public string Description => "Transform through the batched ML.NET plumbing vs. the raw batched forward (target >= 70%)";

    private const int Dimension = 256;
    private const int Tokens = 32;
    private const int Vocabulary = 8192;

    public int Run(string[] args)
    {
        int notes = BenchmarkArgs.Option(args, "--notes", 2000), batch = BenchmarkArgs.Option(args, "--batch", 16), repeats = BenchmarkArgs.Option(args, "--repeats", 3);
        var mlContext = new MLContext(seed: 1);
        var titles = Enumerable.Range(0, notes).Select(i => $"Note {i}: how to configure package {i * 7919 % 1000} on Debian {i % 13}").ToArray();
        var data = mlContext.Data.LoadFromEnumerable(titles.Select(t => new TitleRow { Title = t }));

        torch.manual_seed(1);
        using var model = new StandInModel();
        model.eval();

        using var noop = new StandInTransformer(mlContext, null, batch);
        double noopSeconds = Enumerable.Range(0, repeats).Min(_ => Time(() => ReadEmbeddings(noop.Transform(data), notes)));
        Console.WriteLine($"plumbing alone (no-op compute): {noopSeconds / notes * 1e6:F2} us per row ({notes} rows, batch {batch})");

        using var transformer = new StandInTransformer(mlContext, model, batch);
        // Interleaved, best of each: this machine is shared, so the two paths see the same background load.
        double rawSeconds = double.MaxValue, transformSeconds = double.MaxValue, outsideShare = 0;
        for (int r = 0; r < repeats; r++)
        {
            rawSeconds = Math.Min(rawSeconds, Time(() =>
            {
                for (int start = 0; start < notes; start += batch)
                {
                    int count = Math.Min(batch, notes - start);
                    var embeddings = new float[count * Dimension];
                    model.Embed(titles.AsSpan(start, count), embeddings);
                }
            }));
            transformer.ComputeTime.Reset();
            double seconds = Time(() => ReadEmbeddings(transformer.Transform(data), notes));
            double inside = transformer.ComputeTime.Elapsed.TotalSeconds;
            Console.WriteLine($"  repeat {r + 1}: raw best so far {rawSeconds:F2} s; Transform {seconds:F2} s, of which {inside:F2} s inside ComputeBatch");
            if (seconds < transformSeconds)
                (transformSeconds, outsideShare) = (seconds, (seconds - inside) / seconds);
        }

        double ratio = rawSeconds / transformSeconds;
        Console.WriteLine($"raw batched forward:        {notes / rawSeconds,8:F0} notes/s");
        Console.WriteLine($"Transform + cursor:         {notes / transformSeconds,8:F0} notes/s ({outsideShare:P2} of its time outside ComputeBatch)");
        Console.WriteLine($"ratio: {ratio:P1} of raw (target >= 70%): {(ratio >= 0.7 ? "met" : "MISSED")}");
        return ratio >= 0.7 ? 0 : 1;
    }

    private static void ReadEmbeddings(IDataView view, int expectedRows)
    {
        var column = view.Schema["Embedding"];
        using var cursor = view.GetRowCursor(new[] { column });
        var getter = cursor.GetGetter<VBuffer<float>>(column);
        VBuffer<float> value = default;
        int rows = 0;
        while (cursor.MoveNext())
        {
            getter(ref value);
            rows++;
        }
        if (rows != expectedRows)
            throw new InvalidOperationException($"Read {rows} rows, expected {expectedRows}.");
    }

    private static double Time(Action action)
    {
        var watch = Stopwatch.StartNew();
        action();
        return watch.Elapsed.TotalSeconds;
    }


    private sealed class TitleRow
    {
        public string Title { get; set; } = "";
    }

    /// <summary>Token embedding + 4 residual MLP blocks, mean-pooled: a stand-in for an LLM's embedding pass.</summary>
    private sealed class StandInModel : nn.Module<Tensor, Tensor>
    {
        private readonly TorchSharp.Modules.Embedding embedding = nn.Embedding(Vocabulary, Dimension);
        private readonly TorchSharp.Modules.ModuleList<nn.Module<Tensor, Tensor>> blocks = new();

        public StandInModel() : base(nameof(StandInModel))
        {
            for (int i = 0; i < 4; i++)
                blocks.Add(nn.Sequential(nn.Linear(Dimension, 2 * Dimension), nn.GELU(), nn.Linear(2 * Dimension, Dimension)));
            RegisterComponents();
        }

        public override Tensor forward(Tensor tokens)
        {
            var x = embedding.forward(tokens);
            foreach (var block in blocks)
                x = x + block.forward(x);
            return x.mean(new long[] { 1 });
        }

        /// <summary>Tokenizes (hashed characters) and embeds a batch of titles into <paramref name="output"/>.</summary>
        public void Embed(ReadOnlySpan<string> titles, Span<float> output)
        {
            var ids = new long[titles.Length * Tokens];
            for (int row = 0; row < titles.Length; row++)
                for (int t = 0; t < Tokens; t++)
                    ids[row * Tokens + t] = t < titles[row].Length ? titles[row][t] * 31 % Vocabulary : 0;
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var result = forward(tensor(ids, new long[] { titles.Length, Tokens }));
            result.data<float>().CopyTo(output);
        }
    }

    /// <summary>The stand-in model as a batched transformer (a null model computes nothing).</summary>
    private sealed class StandInTransformer : BatchedTransformerBase
    {
        private static readonly ModelFormat StandInFormat = new("BENCHSTD", 1, 1, "BenchStandIn", typeof(StandInTransformer));
        private readonly StandInModel? model;

        public StandInTransformer(MLContext env, StandInModel? model, int batchSize) : base(env, "StandIn")
        {
            this.model = model;
            BatchSize = batchSize;
        }

        public override IReadOnlyList<InputColumn> InputColumns { get; } = new[] { InputColumn.Text("Title") };

        public override IReadOnlyList<OutputColumn> OutputColumns { get; } = new[] { OutputColumn.FloatVector("Embedding", Dimension) };

        public override int BatchSize { get; }

        protected override ModelFormat Format => StandInFormat;

        /// <summary>Total time spent inside <see cref="ComputeBatch"/>.</summary>
        public Stopwatch ComputeTime { get; } = new();

        protected override void ComputeBatch(BatchInput input, BatchOutput output)
        {
            ComputeTime.Start();
            model?.Embed(input.GetTexts(0), output.GetFloatVectors(0));
            ComputeTime.Stop();
        }

        protected override void SaveModel(ModelWriter writer) => throw new NotSupportedException("Benchmark only.");
    }
}
