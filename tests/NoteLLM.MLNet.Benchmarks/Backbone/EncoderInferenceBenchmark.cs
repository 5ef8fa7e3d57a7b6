using System.Diagnostics;
using NoteLLM.MLNet.Benchmarks.Baselines;
using NoteLLM.MLNet.Bundle;
using NoteLLM.MLNet.Data;
using NoteLLM.MLNet.Generation;
using NoteLLM.MLNet.Modeling;
using NoteLLM.MLNet.Prompting;
using TorchSharp;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Benchmarks.Backbone;

/// <summary>
/// Embedding speed of NoteLLM on the pretrained MiniLM backbone against ONNX Runtime running the same packaged
/// all-MiniLM-L6-v2 graph, side by side on the same texts: ONNX Runtime embeds exactly the prompt text NoteLLM embeds
/// (instruction and note as json, note part cut to --note-tokens word pieces, up to [EMB]). NoteLLM in f32 and bf16,
/// batches of 16 for both. The weights are the pretrained ones; speed does not depend on fine-tuning.
/// Options: --notes N (test notes of the Debian subset, default 600), --note-tokens N (default 48).
/// </summary>
internal sealed class EncoderInferenceBenchmark : IBenchmark
{
    public string Name => "encoder-inference";
    public string Description => "embedding notes/s: NoteLLM on the MiniLM backbone (f32, bf16) vs ONNX Runtime on the packaged MiniLM, same prompt texts";

    private const int BatchSize = 16;

    public int Run(string[] args)
    {
        int count = BenchmarkArgs.Option(args, "--notes", 600), noteTokens = BenchmarkArgs.Option(args, "--note-tokens", 48);
        var notes = NotesJsonlFile.Read("data/debian-notes-subset/notes.jsonl.gz").Take(count).ToList();
        var noteTexts = notes.Select(n => new NoteText(n.Title, n.Content, n.Hashtags, n.Category)).ToList();
        using var model = NoteLLMModel.FromPretrainedEncoder(PretrainedEncoder.MiniLM, 384, limits: new NotePromptLimits { MaxNoteTokens = noteTokens });
        model.Network.eval();
        var texts = notes.Select((n, i) =>
        {
            string prompt = model.EmbeddingPrompts.PromptText(noteTexts[i], PromptTask.Category).Text;
            return (n.Id, Text: prompt[..prompt.IndexOf(Tokenization.NoteTokenizer.EmbToken, StringComparison.Ordinal)]);
        }).ToList();
        Console.WriteLine($"# {notes.Count} Debian notes; torch threads {get_num_threads()}");

        using var onnx = new MiniLMEmbedder(batchSize: BatchSize);
        onnx.Embed(texts.Take(32).ToList()); // warm-up
        var watch = Stopwatch.StartNew();
        onnx.Embed(texts);
        double onnxSeconds = watch.Elapsed.TotalSeconds;
        Console.WriteLine($"ONNX Runtime (the same prompt text) {notes.Count / onnxSeconds,8:F1} notes/s");
        var prompts = noteTexts.Select(n => model.EmbeddingPrompts.Build(n, PromptTask.Category, output: null)).ToList();
        double promptTokens = prompts.Average(p => p.EmbeddingPosition + 1.0);
        var results = new List<(string Dtype, double NotesPerSecond)>();
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
        {
            model.Network.to(dtype);
            var predictor = new NotePredictor(model, batchSize: BatchSize);
            predictor.Embed(noteTexts.Take(BatchSize).ToList()); // warm-up
            watch.Restart();
            for (int i = 0; i < noteTexts.Count; i += BatchSize) predictor.Embed(noteTexts.Skip(i).Take(BatchSize).ToList());
            double seconds = watch.Elapsed.TotalSeconds;
            results.Add((dtype.ToString(), noteTexts.Count / seconds));
            Console.WriteLine($"NoteLLM {dtype,-8} (prompt)     {noteTexts.Count / seconds,8:F1} notes/s  ({promptTokens:F0} prompt tokens per note)");
        }
        double gemmNotesPerSecond = MatrixProductsAlone(model, prompts);
        Console.WriteLine($"its f32 matrix products alone    {gemmNotesPerSecond,8:F1} notes/s  (the encoder layers' linears on the same padded batches)");
        Console.WriteLine();
        Console.WriteLine("| embedder | notes/s | ratio to ONNX Runtime |");
        Console.WriteLine("|---|---:|---:|");
        Console.WriteLine($"| ONNX Runtime, packaged all-MiniLM-L6-v2, f32 | {notes.Count / onnxSeconds:F1} | 1.00 |");
        foreach (var (dtype, notesPerSecond) in results)
            Console.WriteLine($"| NoteLLM on MiniLM, {dtype} | {notesPerSecond:F1} | {notesPerSecond * onnxSeconds / notes.Count:F2} |");
        Console.WriteLine($"| (its f32 matrix products alone) | {gemmNotesPerSecond:F1} | {gemmNotesPerSecond * onnxSeconds / notes.Count:F2} |");
        return 0;
    }

    // The ceiling of any f32 forward on this libtorch: only the matrix products of the encoder layers' linears (q, k, v,
    // attention output, the two feed-forward ones), on the padded batches NotePredictor builds, nothing else. When it is
    // below ONNX Runtime, the f32 gap is libtorch's GEMM on this CPU, not the model code around it.
    private static double MatrixProductsAlone(NoteLLMModel model, IReadOnlyList<NotePrompt> prompts)
    {
        model.Network.to(ScalarType.Float32);
        using var _ = no_grad();
        var weights = model.Network.named_parameters().Where(p => p.name.Contains(".encoder.") && p.parameter.dim() == 2).Select(p => p.parameter).ToList();
        if (weights.Count == 0) throw new InvalidOperationException("no encoder layer weights found in the network's parameters");
        var rows = prompts.Chunk(BatchSize).Select(batch => (long)BatchSize * batch.Max(p => model.Network.ReadoutLength(p.EmbeddingPosition))).ToList();
        var inputs = weights.Select(w => w.shape[1]).Distinct().ToDictionary(width => width, width => randn(rows.Max(), width));
        foreach (var w in weights) nn.functional.linear(inputs[w.shape[1]].narrow(0, 0, rows[0]), w).Dispose(); // warm-up
        var watch = Stopwatch.StartNew();
        foreach (long n in rows)
            foreach (var w in weights)
                nn.functional.linear(inputs[w.shape[1]].narrow(0, 0, n), w).Dispose();
        return prompts.Count / watch.Elapsed.TotalSeconds;
    }
}
