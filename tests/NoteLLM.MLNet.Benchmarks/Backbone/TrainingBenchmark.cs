using System.Diagnostics;
using NoteLLM.MLNet.Bundle;
using NoteLLM.MLNet.Modeling;
using NoteLLM.MLNet.Prompting;
using NoteLLM.MLNet.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Benchmarks.Backbone;

/// <summary>
/// NoteLLM training throughput (prompt tokens/s, notes/s) of a d=256, 4-layer model
/// with the GPT-2 tokenizer on this CPU, in float32 and in bfloat16 (float32 master weights), and RSS over a long run
/// of a small model (memory must stay flat). Options: --steps N (throughput steps, default 40), --memory-steps N (default 1000).
/// </summary>
internal sealed class TrainingBenchmark : IBenchmark
{
    public string Name => "training";
    public string Description => "GCL+CSFT training prompt tokens/s (d=256, 4 layers; float32 and bfloat16) and RSS over 1,000 steps of a small model";

    public int Run(string[] args)
    {
        int steps = BenchmarkArgs.Option(args, "--steps", 40), memorySteps = BenchmarkArgs.Option(args, "--memory-steps", 1000);
        var notes = DebianLikeNotes(512);

        var config = new DecoderConfig { HiddenSize = 256, IntermediateSize = 688, NumHiddenLayers = 4, NumAttentionHeads = 8, NumKeyValueHeads = 8, TieWordEmbeddings = true, MaxPositionEmbeddings = 512 };
        double Throughput(ScalarType dtype)
        {
            using var model = NoteLLMModel.CreateFromScratch(config, 128);
            if (dtype != ScalarType.Float32) model.Network.to(dtype);
            var options = NoteLLMTrainerOptions.ForSmallModelFromScratch with { BatchSize = 16, Epochs = 100, MaxSteps = steps, ValidationFraction = 0, LogEverySteps = 10 };
            var last = new NoteLLMTrainer(model, options, Console.WriteLine).Train(notes).History[^1];
            Console.WriteLine($"d=256 4 layers, {dtype}, vocab {model.Tokenizer.VocabularySize}: {last.TokensPerSecond:F0} prompt tokens/s, {last.NotesPerSecond:F1} notes/s " +
                $"({last.TokensPerSecond / last.NotesPerSecond:F0} tokens per note), peak RSS {ProcessMemory.Mib(ProcessMemory.PeakRss())}");
            return last.TokensPerSecond;
        }
        double tokensPerSecond = Throughput(ScalarType.Float32), bf16TokensPerSecond = Throughput(ScalarType.BFloat16);
        Console.WriteLine($"bf16 vs f32: {bf16TokensPerSecond:F0} vs {tokensPerSecond:F0} prompt tokens/s (x{bf16TokensPerSecond / tokensPerSecond:F2}; bf16 computes " +
            "in bfloat16 and updates float32 master weights)");

        var small = config with { HiddenSize = 64, IntermediateSize = 172, NumHiddenLayers = 2, NumAttentionHeads = 4, NumKeyValueHeads = 4 };
        var rss = new List<(int Step, long Rss)>();
        using (var model = NoteLLMModel.CreateFromScratch(small, 32))
        {
            var options = NoteLLMTrainerOptions.ForSmallModelFromScratch with { BatchSize = 4, Epochs = 1000, MaxSteps = memorySteps, ValidationFraction = 0, LogEverySteps = 50 };
            var progress = new Sampler(p => { GC.Collect(); rss.Add((p.Step, ProcessMemory.CurrentRss())); });
            var sw = Stopwatch.StartNew();
            new NoteLLMTrainer(model, options, progress: progress).Train(notes.Take(64));
            Console.WriteLine($"small model, {memorySteps} steps in {sw.Elapsed.TotalSeconds:F0} s; RSS by step: " + string.Join(", ", rss.Where((_, i) => i % 4 == 0 || i == rss.Count - 1).Select(r => $"{r.Step}: {ProcessMemory.Mib(r.Rss)}")));
        }
        long afterWarmup = rss.First(r => r.Step >= 100).Rss, end = rss[^1].Rss;
        double growthMib = (end - afterWarmup) / 1048576.0;
        Console.WriteLine($"RSS growth from step 100 to {memorySteps}: {growthMib:+0.0;-0.0} MiB");
        bool ok = tokensPerSecond >= 1500 && growthMib < 32;
        Console.WriteLine(ok ? "targets met: >= 1,500 prompt tokens/s and flat memory" : $"TARGET MISSED (tokens/s {tokensPerSecond:F0} >= 1500? RSS growth {growthMib:F1} MiB < 32?)");
        return ok ? 0 : 1;
    }

    /// <summary>Pairs of notes shaped like the Debian notes (a short title, ~60 words of content, a few hashtags).</summary>
    internal static List<NotePair> DebianLikeNotes(int pairs)
    {
        var random = new Random(5);
        string[] words = ["library", "tool", "server", "editor", "python", "module", "data", "network", "file", "system", "package", "support",
            "development", "files", "client", "interface", "format", "plugin", "documentation", "command", "line", "graphical", "utility", "image"];
        string Text(int n) => string.Join(" ", Enumerable.Range(0, n).Select(_ => words[random.Next(words.Length)]));
        NoteText Note() => new(Text(5), Text(60) + ".", Enumerable.Range(0, 1 + random.Next(5)).Select(_ => "use::" + words[random.Next(words.Length)]).Distinct().ToArray(), "section" + random.Next(20));
        return Enumerable.Range(0, pairs).Select(i => new NotePair($"a{i}", Note(), $"b{i}", Note())).ToList();
    }


    private sealed class Sampler(Action<TrainingProgress> action) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => action(value);
    }
}
