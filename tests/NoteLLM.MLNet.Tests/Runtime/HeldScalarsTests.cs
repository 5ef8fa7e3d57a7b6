using System.Diagnostics;
using NoteLLM.MLNet.Generation;
using NoteLLM.MLNet.Modeling;
using NoteLLM.MLNet.Tests.TestSupport;
using NoteLLM.MLNet.Training;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Tests.Runtime;

/// <summary>
/// Every number the library hands to a tensor operation must outlive the native call, even while another thread
/// collects garbage (a server's other requests, a background GC): TorchSharp frees an implicitly created Scalar in its
/// finalizer. Each case runs thousands of times (decoding: 500) beside a thread that collects garbage and runs the
/// finalizers every millisecond, and every result must equal the one computed before that thread started. With the
/// numbers passed implicitly, the masked forward passes and the decoding failed within these runs ("Expected false to
/// be true" from libtorch).
/// </summary>
public class HeldScalarsTests
{
    // Small inputs, so that each case runs thousands of times: a left-padded batch of two rows whose prompts end at
    // different columns exercises the positions from the mask, the additive mask and (BERT) the prompt ends.
    private static Tensor Ids() => tensor(new long[,] { { 0, 0, 1, 14, 15, 16, 30, 31 }, { 1, 20, 21, 22, 23, 24, 40, 41 } });
    private static Tensor Mask() => tensor(new long[,] { { 0, 0, 1, 1, 1, 1, 1, 1 }, { 1, 1, 1, 1, 1, 1, 1, 1 } });
    private static Tensor PromptEnds() => tensor(new long[] { 6, 5 });

    // (case, runs): a few seconds each
    public static TheoryData<string, int> Cases => new() { { "bert forward", 3000 }, { "llama forward", 3000 }, { "contrastive loss", 3000 }, { "greedy decoding", 500 } };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ResultsDoNotChangeWhileAnotherThreadCollectsGarbage(string name, int runs)
    {
        using var bert = TinyModels.CreateBert();
        using var llama = TinyModels.Create(TinyModels.Config());
        Func<float[]> run = name switch
        {
            "bert forward" => () => Values(() => bert.Forward(Ids(), Mask(), promptEnds: PromptEnds())),
            "llama forward" => () => Values(() => llama.Forward(Ids(), Mask())),
            "contrastive loss" => () => Values(() => GenerativeContrastiveLoss.Compute(Embeddings(), tensor(3.0f))),
            _ => () => GreedyDecoder.Generate(bert, [[1, 5, 17, 33, 42, 8], [1, 9, 4]], eosTokenId: 2, padTokenId: 0,
                new GreedyDecodingOptions { MaxNewTokens = 6, RepetitionPenalty = 1.2 }, [4, 2]).SelectMany(g => g).Select(t => (float)t).ToArray(),
        };
        var reference = run();

        var stop = false;
        // Gen0 collections (the temporary Scalars are young) with a millisecond between them: back-to-back collections
        // kept the case's thread suspended most of the time once the rest of the suite had filled the heap.
        void Collect()
        {
            while (!Volatile.Read(ref stop)) { GC.Collect(0); GC.WaitForPendingFinalizers(); Thread.Sleep(1); }
        }
        var collector = new Thread(Collect) { IsBackground = true };
        collector.Start();
        try
        {
            // at most a minute, should a loaded machine make the runs slow
            for (var (i, clock) = (0, Stopwatch.StartNew()); i < runs && clock.Elapsed < TimeSpan.FromMinutes(1); i++) Assert.Equal(reference, run());
        }
        finally
        {
            Volatile.Write(ref stop, true);
            collector.Join();
        }
    }

    private static float[] Values(Func<Tensor> compute)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        return compute().to(float32).flatten().data<float>().ToArray();
    }

    private static Tensor Embeddings()
    {
        var generator = new Generator(5);
        return nn.functional.normalize(randn(8, 16, generator: generator), p: 2, dim: -1);
    }
}
