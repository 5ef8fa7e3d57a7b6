using System.Diagnostics;
using NoteLLM.MLNet.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Benchmarks.Backbone;

/// <summary>
/// Target: loading a large Hugging Face checkpoint must not need twice its size in memory. Writes a ~220M-parameter
/// sharded bf16 checkpoint, then loads it (as f32 and as bf16) in fresh child processes and reports their peak RSS
/// next to the size of the loaded weights. Option: --layers N (default 12).
/// </summary>
internal sealed class CheckpointLoadBenchmark : IBenchmark
{
    public string Name => "checkpoint";
    public string Description => "peak RSS of loading a sharded ~220M-parameter HF checkpoint vs the weights' size";

    public int Run(string[] args)
    {
        if (args.Length > 1 && args[0] == "--child") return Child(args[1], args[2]);
        int layers = args.Length > 1 && args[0] == "--layers" ? int.Parse(args[1]) : 12;
        string folder = Path.Combine(Path.GetTempPath(), "notellm-checkpoint-bench");
        var config = new DecoderConfig { VocabSize = 32000, HiddenSize = 1024, IntermediateSize = 2816, NumHiddenLayers = layers, NumAttentionHeads = 16, NumKeyValueHeads = 16 };
        try
        {
            var sw = Stopwatch.StartNew();
            using (var model = new LlamaForCausalLM(config))
                HuggingFaceCheckpoint.Save(model, folder, ScalarType.BFloat16, maxShardBytes: 200L << 20);
            long onDisk = Directory.GetFiles(folder, "*.safetensors").Sum(f => new FileInfo(f).Length);
            Console.WriteLine($"wrote {Directory.GetFiles(folder, "*.safetensors").Length} bf16 shards, {ProcessMemory.Mib(onDisk)} on disk, in {sw.Elapsed.TotalSeconds:F1} s");

            bool ok = true;
            foreach (string dtype in new[] { "bf16", "f32" })
            {
                string line = BenchmarkArgs.RunSelf("checkpoint", "--child", folder, dtype);
                var parts = line.Split(' ').Select(double.Parse).ToArray(); // weights bytes, baseline RSS, peak RSS, seconds
                double weights = parts[0], baseline = parts[1], peak = parts[2];
                double ratio = (peak - baseline) / weights;
                Console.WriteLine($"load as {dtype}: weights {weights / 1048576:F0} MiB, peak RSS {peak / 1048576:F0} MiB (process baseline {baseline / 1048576:F0} MiB), " +
                    $"peak above baseline = {ratio:F2} x the weights, {parts[3]:F1} s");
                ok &= ratio < 1.6;
            }
            Console.WriteLine(ok ? "target met: loading needs well under 2x the weights' size" : "TARGET MISSED: loading needs 1.6x the weights or more");
            return ok ? 0 : 1;
        }
        finally { if (Directory.Exists(folder)) Directory.Delete(folder, true); }
    }

    private static int Child(string folder, string dtype)
    {
        using (ones(1)) { } // load the native library first so the baseline includes it
        long baseline = ProcessMemory.CurrentRss();
        var sw = Stopwatch.StartNew();
        using var model = HuggingFaceCheckpoint.Load(folder, dtype == "bf16" ? ScalarType.BFloat16 : ScalarType.Float32);
        double seconds = sw.Elapsed.TotalSeconds;
        long weights = model.parameters().Sum(p => p.numel() * p.ElementSize);
        Console.WriteLine($"{weights} {baseline} {ProcessMemory.PeakRss()} {seconds}");
        return 0;
    }
}
