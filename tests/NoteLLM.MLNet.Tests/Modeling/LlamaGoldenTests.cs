using System.Text.Json;
using NoteLLM.MLNet.Modeling;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Tests.Modeling;

/// <summary>
/// Golden test of <see cref="LlamaForCausalLM"/> and <see cref="HuggingFaceCheckpoint"/>: a tiny random LLaMA in
/// Hugging Face layout (GQA, untied head) and the logits and last hidden states that an independent plain-PyTorch
/// implementation of Hugging Face's forward computes from it (Fixtures/make_tiny_llama.py, which wrote the fixture).
/// A wrong rotary layout, head grouping, norm or weight placement cannot pass this.
/// </summary>
public class LlamaGoldenTests
{
    private const double Tolerance = 1e-4;
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "Modeling", "Fixtures", "tiny-llama");

    private sealed record Reference(int[][] InputIds, float[][][] Logits, float[][][] LastHiddenState);

    private static Reference ReadReference() =>
        JsonSerializer.Deserialize<Reference>(File.ReadAllText(Path.Combine(Folder, "reference.json")),
            new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower })!;

    private static void AssertClose(float[][] expected, Tensor actual, string what) // actual [T, N]
    {
        var got = actual.contiguous().data<float>().ToArray();
        int width = expected[0].Length;
        Assert.Equal(expected.Length * width, got.Length);
        double diff = expected.SelectMany((row, t) => row.Select((v, j) => Math.Abs(v - got[t * width + j]))).Max();
        Assert.True(diff < Tolerance, $"{what}: max abs diff {diff} to the PyTorch reference");
    }

    [Fact]
    public void ReproducesTheReferenceLogitsAndHiddenStatesOfEachSequence()
    {
        var reference = ReadReference();
        using var model = HuggingFaceCheckpoint.Load(Folder);
        using var _ = no_grad();
        for (int s = 0; s < reference.InputIds.Length; s++)
        {
            using var scope = NewDisposeScope();
            var hidden = model.Forward(tensor(reference.InputIds[s].Select(i => (long)i).ToArray()).unsqueeze(0)); // [1, T, D]
            AssertClose(reference.LastHiddenState[s], hidden[0], $"sequence {s} hidden states");
            AssertClose(reference.Logits[s], model.Logits(hidden)[0], $"sequence {s} logits");
        }
    }

    [Fact]
    public void ReproducesTheReferenceLogitsWithBothSequencesInOneRightPaddedBatch()
    {
        var reference = ReadReference();
        using var model = HuggingFaceCheckpoint.Load(Folder);
        var (ids, mask, length) = LanguageBackbone.RightPadded(reference.InputIds, pad: 0);
        using var _ = no_grad();
        var logits = model.Logits(model.Forward(tensor(ids).view(-1, length), tensor(mask).view(-1, length))); // [2, L, V]
        for (int s = 0; s < reference.InputIds.Length; s++)
            AssertClose(reference.Logits[s], logits[s].narrow(0, 0, reference.InputIds[s].Length), $"sequence {s} logits in the batch");
    }
}
