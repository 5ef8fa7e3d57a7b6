using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using NoteLLM.MLNet.Benchmarks.Backbone;
using NoteLLM.MLNet.Bundle;
using NoteLLM.MLNet.Generation;
using NoteLLM.MLNet.Modeling;
using NoteLLM.MLNet.Prompting;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Benchmarks;

/// <summary>
/// Target: embedding-only <c>Transform</c> over 2,000 notes with a d=256, 4-layer model, next to the
/// raw batched forward pass of the same model on the same (pre-tokenized) prompts, measured alternately in one run.
/// The ML.NET plumbing, prompt building and tokenization together must keep >= 70% of the raw throughput.
/// Then, on --generate N notes (default 320): embeddings + generated categories in one call, where the embedding is
/// read from the category prompt's forward pass, next to the two outputs requested one after the other (a pass each).
/// Options: --notes N (default 2000), --rounds N (default 3), --generate N.
/// </summary>
internal sealed class TransformBenchmark : IBenchmark
{
    public string Name => "transform";
    public string Description => "embedding-only NoteLLM Transform over 2,000 notes vs the raw batched forward of the same model";

    private sealed class NoteRow { public string Id { get; set; } = ""; public string Title { get; set; } = ""; public string Content { get; set; } = ""; public string[] Hashtags { get; set; } = []; }

    public int Run(string[] args)
    {
        int count = BenchmarkArgs.Option(args, "--notes", 2000), rounds = BenchmarkArgs.Option(args, "--rounds", 3);
        var notes = TrainingBenchmark.DebianLikeNotes(count / 2).SelectMany(p => new[] { p.First, p.Second }).Take(count).ToList();
        var config = new DecoderConfig { HiddenSize = 256, IntermediateSize = 688, NumHiddenLayers = 4, NumAttentionHeads = 8, NumKeyValueHeads = 8, TieWordEmbeddings = true, MaxPositionEmbeddings = 512 };
        var ml = new MLContext(seed: 1);
        var options = new NoteLLMOptions { Outputs = NoteOutputs.Embedding, InferenceBatchSize = 16 };
        using var transformer = new NoteLLMTransformer(ml, NoteLLMModel.CreateFromScratch(config, 128), NoteLLMTransformer.Settings.From(options));
        var model = transformer.Model;
        model.Network.eval();
        var data = ml.Data.LoadFromEnumerable(notes.Select((n, i) => new NoteRow { Id = i.ToString(), Title = n.Title, Content = n.Content, Hashtags = n.Hashtags.ToArray() }));

        // raw: the same prompts, tokenized beforehand, right-padded batches of 16 through decoder + projection
        var prompts = notes.Select(n => model.EmbeddingPrompts.Build(n, PromptTask.Category, null)).ToArray();
        long tokens = prompts.Sum(p => p.EmbeddingPosition + 1);
        var batches = prompts.Chunk(16).Select(chunk =>
        {
            int length = chunk.Max(p => p.EmbeddingPosition + 1);
            var ids = new long[chunk.Length * length];
            Array.Fill(ids, model.Tokenizer.PadTokenId);
            for (int r = 0; r < chunk.Length; r++) for (int t = 0; t <= chunk[r].EmbeddingPosition; t++) ids[r * length + t] = chunk[r].Ids[t];
            return (Ids: tensor(ids, [chunk.Length, length]), Prompts: chunk);
        }).ToList();

        double Raw()
        {
            var sw = Stopwatch.StartNew();
            using var _ = no_grad();
            foreach (var (ids, chunk) in batches)
            {
                using var scope = NewDisposeScope();
                model.Network.EmbeddingsOf(model.Backbone.Forward(ids), chunk).cpu().data<float>().ToArray();
            }
            return sw.Elapsed.TotalSeconds;
        }
        double Transform()
        {
            var sw = Stopwatch.StartNew();
            int rows = transformer.Transform(data).GetColumn<float[]>("Embedding").Count();
            if (rows != count) throw new InvalidOperationException($"expected {count} rows, got {rows}");
            return sw.Elapsed.TotalSeconds;
        }

        Raw(); // warm-up
        var raw = new List<double>(); var viaTransform = new List<double>();
        for (int r = 0; r < rounds; r++) { raw.Add(Raw()); viaTransform.Add(Transform()); }
        double bestRaw = raw.Min(), bestTransform = viaTransform.Min();
        Console.WriteLine($"{count} notes, {tokens} prompt tokens ({(double)tokens / count:F0} per note), batches of 16, d=256 4 layers, {rounds} alternating rounds");
        Console.WriteLine($"raw batched forward: {string.Join(", ", raw.Select(s => $"{count / s:F0}"))} notes/s (best {count / bestRaw:F0} notes/s, {tokens / bestRaw:F0} tokens/s)");
        Console.WriteLine($"ML.NET Transform:    {string.Join(", ", viaTransform.Select(s => $"{count / s:F0}"))} notes/s (best {count / bestTransform:F0} notes/s)");
        double ratio = bestRaw / bestTransform;
        Console.WriteLine($"Transform / raw throughput: {ratio:P1} (target >= 70%)");

        // Embedding + category: one shared prompt pass vs a pass per output (16 new tokens at most, untrained model).
        var generateNotes = notes.Take(BenchmarkArgs.Option(args, "--generate", 320)).ToList();
        var predictor = new NotePredictor(model, new GreedyDecodingOptions { MaxNewTokens = 16 }, batchSize: 16);
        double Time(Action action) { var sw = Stopwatch.StartNew(); action(); return sw.Elapsed.TotalSeconds; }
        var shared = new List<double>(); var separate = new List<double>();
        for (int r = 0; r < rounds; r++)
        {
            shared.Add(Time(() => predictor.Predict(generateNotes, NoteOutputs.Embedding | NoteOutputs.Category)));
            separate.Add(Time(() => { predictor.Predict(generateNotes, NoteOutputs.Embedding); predictor.Predict(generateNotes, NoteOutputs.Category); }));
        }
        Console.WriteLine($"embedding + category of {generateNotes.Count} notes: shared prompt pass {generateNotes.Count / shared.Min():F1} notes/s, " +
                          $"a pass per output {generateNotes.Count / separate.Min():F1} notes/s (best of {rounds}); shared / separate time {shared.Min() / separate.Min():P1}");
        return ratio >= 0.7 ? 0 : 1;
    }

}
