using System.Diagnostics;
using System.Text.Json;
using NoteLLM.MLNet.Benchmarks.Baselines;
using NoteLLM.MLNet.Bundle;
using NoteLLM.MLNet.Data;
using NoteLLM.MLNet.Generation;
using NoteLLM.MLNet.Modeling;
using NoteLLM.MLNet.Prompting;
using NoteLLM.MLNet.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Benchmarks.Backbone;

/// <summary>
/// Embedding speed of NoteLLM on the pretrained MiniLM backbone against ONNX Runtime running the same packaged
/// all-MiniLM-L6-v2 graph, side by side on the same texts: ONNX Runtime embeds exactly the prompt text NoteLLM embeds
/// (the note cut to --note-tokens word pieces, up to [EMB]). NoteLLM in f32 and bf16, batches of 16 for both. The
/// weights are the pretrained ones; speed does not depend on fine-tuning. On an AMD CPU with AVX-512, where NoteLLM
/// lets oneMKL take its AVX-512 kernels (Runtime/CpuMatrixProducts.cs), the f32 rows are run once more in a child
/// process with NOTELLM_MKL_AVX512_ON_AMD=0, i.e. with oneMKL's own AVX2 choice, to show what that does.
/// Options: --notes N (test notes of the Debian subset, default 600), --note-tokens N (default 140, the prompt
/// limit a model gets unless its options set another).
/// </summary>
internal sealed class EncoderInferenceBenchmark : IBenchmark
{
    public string Name => "encoder-inference";
    public string Description => "embedding notes/s: NoteLLM on the MiniLM backbone (f32, bf16; on AMD also f32 with oneMKL's AVX2 choice) vs ONNX Runtime on the packaged MiniLM, same prompt texts";

    private const int BatchSize = 16;

    private sealed record F32Result(double NotesPerSecond, double MatrixProductsNotesPerSecond);

    public int Run(string[] args)
    {
        int count = BenchmarkArgs.Option(args, "--notes", 600), noteTokens = BenchmarkArgs.Option(args, "--note-tokens", 140);
        var notes = NotesJsonlFile.Read("data/debian-notes-subset/notes.jsonl.gz").Take(count).ToList();
        var noteTexts = notes.Select(n => new NoteText(n.Title, n.Content, n.Hashtags, n.Category)).ToList();
        using var model = NoteLLMModel.FromPretrainedEncoder(PretrainedEncoder.MiniLM, 384, limits: new NotePromptLimits { MaxNoteTokens = noteTokens });
        model.Network.eval();
        var prompts = noteTexts.Select(n => model.EmbeddingPrompts.Build(n, PromptTask.Category, output: null)).ToList();
        var readoutLengths = prompts.Select(p => (long)model.Network.ReadoutLength(p.EmbeddingPosition)).ToList();
        if (args.Contains("--child-f32"))
        {
            // the last line is read by the parent
            Console.WriteLine(JsonSerializer.Serialize(new F32Result(NoteLLMNotesPerSecond(model, noteTexts, ScalarType.Float32), MatrixProductsAlone(model, readoutLengths))));
            return 0;
        }

        var texts = notes.Select((n, i) =>
        {
            string prompt = model.EmbeddingPrompts.PromptText(noteTexts[i], PromptTask.Category).Text;
            return (n.Id, Text: prompt[..prompt.IndexOf(Tokenization.NoteTokenizer.EmbToken, StringComparison.Ordinal)]);
        }).ToList();
        Console.WriteLine($"# {notes.Count} Debian notes, note parts of at most {noteTokens} word pieces; torch threads {get_num_threads()}");
        Console.WriteLine($"# oneMKL's AVX-512 kernels: {CpuMatrixProducts.MklUsesAvx512()?.ToString() ?? "unknown"}");
        long realTokens = readoutLengths.Sum(), paddedTokens = readoutLengths.Chunk(BatchSize).Sum(batch => batch.Length * batch.Max());
        Console.WriteLine($"# {realTokens / (double)notes.Count:F1} prompt tokens per note; padding {paddedTokens - realTokens} of {paddedTokens} tokens in batches of {BatchSize} ({100.0 * (paddedTokens - realTokens) / paddedTokens:F1}%), which the backbone's packed forward skips");

        using var onnx = new MiniLMEmbedder(batchSize: BatchSize);
        onnx.Embed(texts.Take(32).ToList()); // warm-up
        var watch = Stopwatch.StartNew();
        onnx.Embed(texts);
        double onnxNotesPerSecond = notes.Count / watch.Elapsed.TotalSeconds;
        Console.WriteLine($"ONNX Runtime (the same prompt text) {onnxNotesPerSecond,8:F1} notes/s");

        var rows = new List<(string Name, double NotesPerSecond)>();
        void Row(string name, double notesPerSecond)
        {
            rows.Add((name, notesPerSecond));
            Console.WriteLine($"{name,-58} {notesPerSecond,8:F1} notes/s");
        }
        Row("NoteLLM on MiniLM, f32", NoteLLMNotesPerSecond(model, noteTexts, ScalarType.Float32));
        Row("NoteLLM on MiniLM, bf16", NoteLLMNotesPerSecond(model, noteTexts, ScalarType.BFloat16));
        Row("(its f32 matrix products alone)", MatrixProductsAlone(model, readoutLengths));
        if (CpuMatrixProducts.UseAvx512KernelsOnAmd() == CpuMatrixProducts.VendorTestAnswer.Loaded)
        {
            var avx2 = WithMklAvx2Choice(noteTokens, count);
            Row("NoteLLM on MiniLM, f32, oneMKL's AVX2 choice (opted out)", avx2.NotesPerSecond);
            Row("(its f32 matrix products alone, oneMKL's AVX2 choice)", avx2.MatrixProductsNotesPerSecond);
        }

        Console.WriteLine();
        Console.WriteLine("| embedder | notes/s | ratio to ONNX Runtime |");
        Console.WriteLine("|---|---:|---:|");
        Console.WriteLine($"| ONNX Runtime, packaged all-MiniLM-L6-v2, f32 | {onnxNotesPerSecond:F1} | 1.00 |");
        foreach (var (name, notesPerSecond) in rows)
            Console.WriteLine($"| {name} | {notesPerSecond:F1} | {notesPerSecond / onnxNotesPerSecond:F2} |");
        return 0;
    }

    private static double NoteLLMNotesPerSecond(NoteLLMModel model, IReadOnlyList<NoteText> noteTexts, ScalarType dtype)
    {
        model.Network.to(dtype);
        var predictor = new NotePredictor(model, batchSize: BatchSize);
        predictor.Embed(noteTexts.Take(BatchSize).ToList()); // warm-up
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < noteTexts.Count; i += BatchSize) predictor.Embed(noteTexts.Skip(i).Take(BatchSize).ToList());
        return noteTexts.Count / watch.Elapsed.TotalSeconds;
    }

    // The f32 rows again in a child process that keeps oneMKL's vendor-based choice of kernels (AVX2 on AMD CPUs).
    private static F32Result WithMklAvx2Choice(int noteTokens, int count)
    {
        string line = BenchmarkArgs.RunSelf(new Dictionary<string, string> { [CpuMatrixProducts.OptOutVariable] = "0" },
            "encoder-inference", "--child-f32", "--note-tokens", noteTokens.ToString(), "--notes", count.ToString());
        return JsonSerializer.Deserialize<F32Result>(line)!;
    }

    // The ceiling of any f32 forward on this libtorch: only the matrix products of the encoder layers' linears (q, k, v,
    // attention output, the two feed-forward ones), on the real tokens of each batch (the rows the backbone's packed
    // forward computes), nothing else. When it is below ONNX Runtime, the f32 gap is libtorch's GEMM on this CPU.
    private static double MatrixProductsAlone(NoteLLMModel model, IReadOnlyList<long> readoutLengths)
    {
        model.Network.to(ScalarType.Float32);
        using var _ = no_grad();
        var weights = model.Network.named_parameters().Where(p => p.name.Contains(".encoder.") && p.parameter.dim() == 2).Select(p => p.parameter).ToList();
        if (weights.Count == 0) throw new InvalidOperationException("no encoder layer weights found in the network's parameters");
        var rows = readoutLengths.Chunk(BatchSize).Select(batch => batch.Sum()).ToList();
        var inputs = weights.Select(w => w.shape[1]).Distinct().ToDictionary(width => width, width => randn(rows.Max(), width));
        foreach (var w in weights) nn.functional.linear(inputs[w.shape[1]].narrow(0, 0, rows[0]), w).Dispose(); // warm-up
        var watch = Stopwatch.StartNew();
        foreach (long n in rows)
            foreach (var w in weights)
                nn.functional.linear(inputs[w.shape[1]].narrow(0, 0, n), w).Dispose();
        return readoutLengths.Count / watch.Elapsed.TotalSeconds;
    }
}
