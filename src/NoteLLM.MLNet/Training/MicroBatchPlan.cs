namespace NoteLLM.MLNet.Training;

/// <summary>
/// Which pairs every optimizer step trains on: micro-batches of <see cref="BatchSize"/> pairs,
/// <see cref="NoteLLMTrainerOptions.GradientAccumulationSteps"/> of them per step, each epoch in its own order drawn from
/// (seed, epoch). A micro-batch depends on its index only, so a resumed run trains on what the first run would have.
/// </summary>
internal sealed class MicroBatchPlan
{
    private readonly IReadOnlyList<NotePair> train;
    private readonly int seed;
    private readonly int microBatchesPerStep;
    private readonly Dictionary<int, int[]> epochOrders = [];

    public MicroBatchPlan(IReadOnlyList<NotePair> train, NoteLLMTrainerOptions options)
    {
        this.train = train;
        seed = options.Seed;
        microBatchesPerStep = options.GradientAccumulationSteps;
        BatchSize = Math.Min(options.BatchSize, train.Count);
        MicroBatchesPerEpoch = train.Count / BatchSize;
        MicroBatches = MicroBatchesPerEpoch * options.Epochs;
        Steps = (MicroBatches + microBatchesPerStep - 1) / microBatchesPerStep;
        if (options.MaxSteps is int max) Steps = Math.Min(Steps, max);
    }

    /// <summary>Pairs per micro-batch.</summary>
    public int BatchSize { get; }
    public int MicroBatchesPerEpoch { get; }
    /// <summary>Micro-batches of all epochs together.</summary>
    public int MicroBatches { get; }
    /// <summary>Optimizer steps (at most <see cref="NoteLLMTrainerOptions.MaxSteps"/>).</summary>
    public int Steps { get; }

    /// <summary>The first micro-batch of <paramref name="step"/> and how many it has (the last step may have fewer).</summary>
    public (int First, int Count) MicroBatchesOf(int step)
    {
        int first = step * microBatchesPerStep;
        return (first, Math.Min(microBatchesPerStep, MicroBatches - first));
    }

    /// <summary>The epoch (from 0) of micro-batch <paramref name="micro"/>.</summary>
    public int EpochOf(int micro) => micro / MicroBatchesPerEpoch;

    /// <summary>The pairs of micro-batch <paramref name="micro"/>.</summary>
    public List<NotePair> PairsOf(int micro)
    {
        var order = EpochOrder(EpochOf(micro));
        int index = micro % MicroBatchesPerEpoch;
        return Enumerable.Range(index * BatchSize, BatchSize).Select(i => train[order[i]]).ToList();
    }

    private int[] EpochOrder(int epoch)
    {
        if (!epochOrders.TryGetValue(epoch, out var order))
        {
            var rng = new Random(NoteLLMTrainer.Mix(seed, 1_000_003 + epoch));
            order = Enumerable.Range(0, train.Count).ToArray();
            rng.Shuffle(order);
            epochOrders[epoch] = order;
        }
        return order;
    }
}
