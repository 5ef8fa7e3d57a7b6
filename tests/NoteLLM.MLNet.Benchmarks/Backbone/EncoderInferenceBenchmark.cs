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

        using var onnx = new MiniLMEmbedder(batchSize: 16);
        onnx.Embed(texts.Take(32).ToList()); // warm-up
        var watch = Stopwatch.StartNew();
        onnx.Embed(texts);
        double onnxSeconds = watch.Elapsed.TotalSeconds;
        Console.WriteLine($"ONNX Runtime (the same prompt text) {notes.Count / onnxSeconds,8:F1} notes/s");
        double promptTokens = noteTexts.Average(n => model.EmbeddingPrompts.Build(n, PromptTask.Category, output: null).EmbeddingPosition + 1.0);
        var results = new List<(string Dtype, double NotesPerSecond)>();
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
        {
            model.Network.to(dtype);
            var predictor = new NotePredictor(model, batchSize: 16);
            predictor.Embed(noteTexts.Take(16).ToList()); // warm-up
            watch.Restart();
            for (int i = 0; i < noteTexts.Count; i += 16) predictor.Embed(noteTexts.Skip(i).Take(16).ToList());
            double seconds = watch.Elapsed.TotalSeconds;
            results.Add((dtype.ToString(), noteTexts.Count / seconds));
            Console.WriteLine($"NoteLLM {dtype,-8} (prompt)     {noteTexts.Count / seconds,8:F1} notes/s  ({promptTokens:F0} prompt tokens per note)");
        }
        Console.WriteLine();
        Console.WriteLine("| embedder | notes/s | ratio to ONNX Runtime |");
        Console.WriteLine("|---|---:|---:|");
        Console.WriteLine($"| ONNX Runtime, packaged all-MiniLM-L6-v2, f32 | {notes.Count / onnxSeconds:F1} | 1.00 |");
        foreach (var (dtype, notesPerSecond) in results)
            Console.WriteLine($"| NoteLLM on MiniLM, {dtype} | {notesPerSecond:F1} | {notesPerSecond * onnxSeconds / notes.Count:F2} |");
        return 0;
    }
}
