using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using NoteLLM.MLNet.Modeling;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Tests.Modeling;

/// <summary>
/// Golden test of <see cref="BertPrefixLM"/> and the ONNX weight reader: with bidirectional attention and the
/// checkpoint's own pooling, the TorchSharp re-implementation reproduces the sentence embeddings that ONNX Runtime
/// computes from the same packaged graph on the same token ids. A weight in the wrong place cannot pass this.
/// </summary>
public class PretrainedEncoderGoldenTests
{
    public static readonly string[] Texts =
    [
        "vim: Vi IMproved - enhanced vi editor",
        "aespipe: AES-encryption tool with loop-AES support",
        "libdrm-intel1: Userspace interface to intel-specific kernel DRM services -- runtime",
        "nginx: small, powerful, scalable web/proxy server",
        "python3-numpy: Fast array facility to the Python 3 language",
        "The quick brown fox jumps over the lazy dog.",
        "seafile-daemon: Seafile daemon, synchronizes files with a Seafile server over encrypted connections",
        "fonts-dejavu-core: Vera font family derivate with additional characters",
        "postgresql-15: The World's Most Advanced Open Source Relational Database",
        "A note with ünïcödé, numbers 12345 and punctuation!?",
        "gcc-12: GNU C compiler",
        "x",
    ];

    public static TheoryData<string> Encoders => new() { "MiniLM", "ArcticXs" };

    private static PretrainedEncoder Encoder(string name) => name == "MiniLM" ? PretrainedEncoder.MiniLM : PretrainedEncoder.ArcticXs;

    private static byte[] OnnxBytes(string package)
    {
        var assembly = System.Reflection.Assembly.Load(new System.Reflection.AssemblyName(package));
        string resource = assembly.GetManifestResourceNames().Single(r => r.EndsWith("model.onnx"));
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var m = new MemoryStream();
        stream.CopyTo(m);
        return m.ToArray();
    }

    [Theory]
    [MemberData(nameof(Encoders))]
    public void ReproducesOnnxRuntimeSentenceEmbeddings(string name)
    {
        var encoder = Encoder(name);
        var (backbone, tokenizer) = encoder.Load();
        using var _ = backbone;
        backbone.eval();
        using var session = new InferenceSession(OnnxBytes(encoder.PackageId!));

        foreach (string text in Texts)
        {
            long[] ids = [tokenizer.BosTokenId!.Value, .. tokenizer.Encode(text).Select(i => (long)i), tokenizer.EosTokenId];
            int n = ids.Length;
            var inputs = new List<NamedOnnxValue>
            {
                NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(ids, [1, n])),
                NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(Enumerable.Repeat(1L, n).ToArray(), [1, n])),
                NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(new long[n], [1, n])),
            };
            using var results = session.Run(inputs);
            var reference = results.First(r => r.Name == "last_hidden_state").AsTensor<float>().ToArray(); // [1, n, D]

            float[] ours;
            using (no_grad())
            using (NewDisposeScope())
                ours = backbone.Forward(tensor(ids).unsqueeze(0))[0].contiguous().data<float>().ToArray();  // [n, D], every token sees every token

            int d = ours.Length / n;
            var pooled = (float[] h) => encoder.Pooling == EmbeddingReadout.FirstToken
                ? h[..d]
                : Enumerable.Range(0, d).Select(j => Enumerable.Range(0, n).Average(t => h[t * d + j])).Select(v => (float)v).ToArray();
            double cosine = Cosine(pooled(ours), pooled(reference));
            Assert.True(cosine >= 0.999, $"{name}, '{text}': cosine {cosine:F6} between the pooled embeddings");
            Assert.True(ours.Zip(reference).Max(p => Math.Abs(p.First - p.Second)) < 1e-3, $"{name}, '{text}': hidden states differ");
        }
    }

    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
        return dot / Math.Sqrt(na * nb);
    }
}
