using System.Diagnostics;
using NoteLLM.MLNet.Bundle;
using NoteLLM.MLNet.Modeling;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Benchmarks.Backbone;

/// <summary>
/// Where a fine-tuning step of the BERT prefix-LM backbone (all-MiniLM-L6-v2 shape, random weights: speed does not
/// depend on them) spends its time: forward without and with the prefix-LM mask, backward, AdamW.
/// Options: --batch N (sequences, default 32), --tokens N (default 100), --steps N (timed steps, default 3), --fit-steps N (steps of the whole trainer and estimator, default 10).
/// </summary>
internal sealed class EncoderBenchmark : IBenchmark
{
    public string Name => "encoder";
    public string Description => "BERT prefix-LM backbone (MiniLM shape): forward/backward/AdamW seconds per step and tokens/s";

    public int Run(string[] args)
    {
        int b = BenchmarkArgs.Option(args, "--batch", 32), t = BenchmarkArgs.Option(args, "--tokens", 100), steps = BenchmarkArgs.Option(args, "--steps", 3),
            fitSteps = BenchmarkArgs.Option(args, "--fit-steps", 10);
        var config = new BertConfig { VocabSize = 30523, HiddenSize = 384, NumHiddenLayers = 6, NumAttentionHeads = 12, IntermediateSize = 1536, MaxPositionEmbeddings = 512 };
        using var model = new BertPrefixLM(config);
        var ids = randint(0, 30000, [b, t], dtype: int64);
        var mask = ones(b, t, dtype: int64);
        var promptEnds = full([b], t - 20, dtype: int64);
        using var optimizer = optim.AdamW(model.parameters(), 1e-4);
        Console.WriteLine($"# batch {b} x {t} tokens, {steps} timed steps after one warm-up; torch threads {get_num_threads()}");
        var ours = new Dictionary<string, double>();
        void Time(string key, string name, Action step)
        {
            step();
            var watch = Stopwatch.StartNew();
            for (int i = 0; i < steps; i++) step();
            double seconds = ours[key] = watch.Elapsed.TotalSeconds / steps;
            Console.WriteLine($"{name,-34} {seconds,6:F2} s/step {b * t / seconds,8:F0} tokens/s");
        }
        Time("forward-bidirectional", "forward, bidirectional, no grad", () => { using var _ = no_grad(); using var s = NewDisposeScope(); model.Forward(ids); });
        Time("forward-prefix", "forward, prefix-LM mask, no grad", () => { using var _ = no_grad(); using var s = NewDisposeScope(); model.Forward(ids, mask, null, promptEnds); });
        Time("forward-backward-prefix", "forward + backward, prefix-LM mask", () => { using var s = NewDisposeScope(); optimizer.zero_grad(); model.Forward(ids, mask, null, promptEnds).mean().backward(); });
        Time("adamw", "+ AdamW step", () => { using var s = NewDisposeScope(); optimizer.zero_grad(); model.Forward(ids, mask, null, promptEnds).mean().backward(); optimizer.step(); });
        PyTorchPeer(b, t, steps, ours);

        // the whole NoteLLM training step on real notes (prompt building, GCL + CSFT) around the same network
        var dataset = Results.ResultsDataset.Load("data/debian-notes-subset", 0);
        using var noteLLM = NoteLLMModel.FromPretrainedEncoder(PretrainedEncoder.MiniLM, 384, limits: new Prompting.NotePromptLimits { MaxNoteTokens = 48 });
        var options = Training.NoteLLMTrainerOptions.ForPretrainedEncoder with { BatchSize = b / 2, MaxSteps = fitSteps, ValidationFraction = 0, LogEverySteps = 1 };
        var watch = Stopwatch.StartNew();
        var result = new Training.NoteLLMTrainer(noteLLM, options, Console.WriteLine).Train(dataset.TrainPairs);
        Console.WriteLine($"NoteLLM trainer, {b / 2} pairs per step: {watch.Elapsed.TotalSeconds / fitSteps:F2} s/step including the model load");

        // the same through the estimator, as an application fits it
        var ml = new Microsoft.ML.MLContext(seed: 1);
        ml.Log += (_, e) => { if (e.Message.Contains("step ") || e.Message.Contains("training")) Console.WriteLine(e.Message); };
        var notes = Data.NotesJsonlFile.Read("data/debian-notes-subset/notes.jsonl.gz").ToList();
        var pairs = Data.PairsCsvFile.Read("data/debian-notes-subset/train-pairs.csv.gz");
        watch.Restart();
        using var fitted = ml.Transforms.NoteLLM(new NoteLLMOptions
        {
            PromptLimits = new Prompting.NotePromptLimits { MaxNoteTokens = 48 },
            Training = options with { ValidationFraction = 0.05 },
        }).Fit(Data.RelatedPairJoin.Join(ml, notes, pairs).Rows);
        Console.WriteLine($"estimator: {watch.Elapsed.TotalSeconds / fitSteps:F2} s/step including the model load");
        return 0;
    }

    // The same network, shapes and mask in PyTorch (bert_prefix_lm_peer.py, next to this file), run after ours so the
    // two never share the cores; prints the side-by-side table.
    private static void PyTorchPeer(int b, int t, int steps, Dictionary<string, double> ours)
    {
        string script = Path.Combine(AppContext.BaseDirectory, "Backbone", "bert_prefix_lm_peer.py");
        var start = new ProcessStartInfo("/usr/bin/python3", [script, b.ToString(), t.ToString(), steps.ToString()]) { RedirectStandardOutput = true, RedirectStandardError = true };
        string output, errors;
        try
        {
            using var peer = Process.Start(start)!;
            output = peer.StandardOutput.ReadToEnd();
            errors = peer.StandardError.ReadToEnd();
            peer.WaitForExit();
            if (peer.ExitCode != 0) { Console.WriteLine($"PyTorch peer failed (exit {peer.ExitCode}): {errors.Trim()}"); return; }
        }
        catch (System.ComponentModel.Win32Exception e) { Console.WriteLine($"PyTorch peer not run: {e.Message} (needs /usr/bin/python3 with python3-torch)"); return; }
        var theirs = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')).ToDictionary(p => p[0], p => double.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture));
        Console.WriteLine();
        Console.WriteLine($"| {b} x {t} tokens | TorchSharp tokens/s | PyTorch tokens/s | ratio |");
        Console.WriteLine("|---|---:|---:|---:|");
        foreach (var (key, seconds) in ours)
            if (theirs.TryGetValue(key, out double peerSeconds))
                Console.WriteLine($"| {key} | {b * t / seconds:F0} | {b * t / peerSeconds:F0} | {peerSeconds / seconds:F2} |");
        Console.WriteLine();
    }
}
