using System.Diagnostics;
using System.Text.Json;
using NoteLLM.MLNet.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Benchmarks.Backbone;

/// <summary>
/// Training (forward + backward + AdamW) and inference tokens/s and peak RSS of the
/// package's decoder next to a bare TorchSharp model of the same shape, f32 and bf16. Each measurement runs
/// in a child process of its own so its peak RSS is its own; package and bare runs alternate. Both return freed
/// native heap to the OS every 10 steps (<see cref="NoteLLM.MLNet.Runtime.NativeHeap"/>), as the NoteLLM trainer does.
/// Options: --steps N (training steps, default 200), --infer-steps N (default 50), --rounds N (default 1).
/// </summary>
internal sealed class BackboneBenchmark : IBenchmark
{
    public string Name => "backbone";
    public string Description => "decoder train/inference tokens/s and peak RSS vs a bare TorchSharp model (d=256, 4 layers, ffn 688, vocab 8k, batch 8x128)";

    private const int Vocab = 8192, Dim = 256, Layers = 4, Ffn = 688, Heads = 8, Batch = 8, Seq = 128;

    public int Run(string[] args)
    {
        if (args.Length > 0 && args[0] == "--child") return Child(args[1], args[2], int.Parse(args[3]), int.Parse(args[4]));
        int steps = BenchmarkArgs.Option(args, "--steps", 200), inferSteps = BenchmarkArgs.Option(args, "--infer-steps", 50), rounds = BenchmarkArgs.Option(args, "--rounds", 1);
        Console.WriteLine($"# {Batch}x{Seq} tokens per step, {steps} training steps after 5 warm-up steps, {inferSteps} inference steps; torch threads {get_num_threads()}");

        var results = new List<Result>();
        foreach (string dtype in new[] { "f32", "bf16" })
            for (int r = 0; r < rounds; r++)
                foreach (string impl in new[] { "package", "bare" })
                {
                    var res = RunChild(impl, dtype, steps, inferSteps);
                    Console.WriteLine($"  {impl,-8} {dtype,-5} train {res.TrainTokensPerSecond,8:F0} tok/s  infer {res.InferTokensPerSecond,8:F0} tok/s  peak RSS {res.PeakRssMiB,6:F0} MiB  RSS after warm-up {res.RssAfterWarmupMiB,6:F0} -> end {res.RssEndMiB,6:F0} MiB");
                    results.Add(res);
                }

        Console.WriteLine();
        Console.WriteLine("| dtype | package train tok/s | bare train tok/s | ratio | package infer tok/s | bare infer tok/s | ratio | package peak RSS | RSS growth after warm-up |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
        bool ok = true;
        foreach (string dtype in new[] { "f32", "bf16" })
        {
            Result Best(string impl) => results.Where(x => x.Impl == impl && x.Dtype == dtype).OrderByDescending(x => x.TrainTokensPerSecond).First();
            var p = Best("package"); var b = Best("bare");
            double trainRatio = p.TrainTokensPerSecond / b.TrainTokensPerSecond, inferRatio = p.InferTokensPerSecond / b.InferTokensPerSecond;
            double growth = p.RssEndMiB - p.RssAfterWarmupMiB;
            Console.WriteLine($"| {dtype} | {p.TrainTokensPerSecond:F0} | {b.TrainTokensPerSecond:F0} | {trainRatio:F2} | {p.InferTokensPerSecond:F0} | {b.InferTokensPerSecond:F0} | {inferRatio:F2} | {p.PeakRssMiB:F0} MiB | {growth:+0;-0} MiB |");
            ok &= trainRatio >= 0.9 && inferRatio >= 0.9 && growth < 64; // 10% is inside this machine's run-to-run noise
        }
        Console.WriteLine(ok ? "targets met: package >= 0.9x bare (noise band) and no RSS growth after warm-up" : "TARGET MISSED");
        return ok ? 0 : 1;
    }

    private sealed record Result(string Impl, string Dtype, double TrainTokensPerSecond, double InferTokensPerSecond, double PeakRssMiB, double RssAfterWarmupMiB, double RssEndMiB);


    private static Result RunChild(string impl, string dtype, int steps, int inferSteps) =>
        JsonSerializer.Deserialize<Result>(BenchmarkArgs.RunSelf("backbone", "--child", impl, dtype, steps.ToString(), inferSteps.ToString()))!;

    private static int Child(string impl, string dtypeName, int steps, int inferSteps)
    {
        manual_seed(0);
        var dtype = dtypeName == "bf16" ? ScalarType.BFloat16 : ScalarType.Float32;
        nn.Module module;
        Func<Tensor, Tensor> hidden, logits;
        if (impl == "package")
        {
            var m = new LlamaForCausalLM(new DecoderConfig
            {
                VocabSize = Vocab,
                HiddenSize = Dim,
                IntermediateSize = Ffn,
                NumHiddenLayers = Layers,
                NumAttentionHeads = Heads,
                NumKeyValueHeads = Heads,
                MaxPositionEmbeddings = 512,
            });
            m.InitializeWeights();
            module = m; hidden = ids => m.Forward(ids); logits = m.Logits;
        }
        else
        {
            var m = new BareLlama(Vocab, Dim, Layers, Ffn, Heads);
            module = m; hidden = m.Hidden; logits = m.Logits;
        }
        module.to(dtype);
        var optimizer = optim.AdamW(module.parameters(), lr: 1e-4, weight_decay: 0.001);
        var ids = randint(0, Vocab, [Batch, Seq + 1]);
        var inputs = ids.narrow(1, 0, Seq);
        var targets = ids.narrow(1, 1, Seq).reshape(-1);

        // Both implementations return freed native heap to the OS every 10 steps, as NoteLLMTrainer does (NativeHeap):
        // without it glibc keeps the freed 33 MB logits buffers of this all-position loss and RSS climbs for both.
        int step = 0;
        void TrainStep()
        {
            using (NewDisposeScope())
            {
                optimizer.zero_grad();
                var loss = nn.functional.cross_entropy(logits(hidden(inputs)).reshape(-1, Vocab).to(float32), targets);
                loss.backward();
                optimizer.step();
            }
            if (++step % 10 == 0) NoteLLM.MLNet.Runtime.NativeHeap.Trim();
        }

        module.train();
        for (int i = 0; i < 5; i++) TrainStep();
        GC.Collect();
        // RSS is read after handing free heap back, so it counts memory that is held, not glibc's cache: a leak stays.
        NoteLLM.MLNet.Runtime.NativeHeap.Trim();
        double rssAfterWarmup = ProcessMemory.CurrentRss() / 1048576.0;
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < steps; i++) TrainStep();
        double train = (double)steps * Batch * Seq / sw.Elapsed.TotalSeconds;
        GC.Collect();
        NoteLLM.MLNet.Runtime.NativeHeap.Trim();
        double rssEnd = ProcessMemory.CurrentRss() / 1048576.0;

        module.eval();
        using (no_grad())
        {
            void InferStep() { using var scope = NewDisposeScope(); hidden(inputs).to(float32).sum().item<float>(); }
            for (int i = 0; i < 3; i++) InferStep();
            sw.Restart();
            for (int i = 0; i < inferSteps; i++) InferStep();
        }
        double infer = (double)inferSteps * Batch * Seq / sw.Elapsed.TotalSeconds;
        Console.WriteLine(JsonSerializer.Serialize(new Result(impl, dtypeName, train, infer, ProcessMemory.PeakRss() / 1048576.0, rssAfterWarmup, rssEnd)));
        return 0;
    }
}
