using NoteLLM.MLNet.Prompting;

namespace NoteLLM.MLNet.Training;

/// <summary>
/// Which pairs every optimizer step trains on: micro-batches of <see cref="BatchSize"/> pairs,
/// <see cref="NoteLLMTrainerOptions.GradientAccumulationSteps"/> of them per step, each epoch in its own order drawn from
/// (seed, epoch), and with generation-only notes, the next <see cref="NoteLLMTrainerOptions.GenerationNotesPerMicroBatch"/>
/// of them in their own seeded rounds. A micro-batch depends on its index only, so a resumed run trains on what the
/// first run would have.
/// </summary>
internal sealed class MicroBatchPlan
{
    private readonly IReadOnlyList<NotePair> train;
    private readonly IReadOnlyList<NoteText> generationNotes;
    private readonly int generationNotesPerMicroBatch;
    private readonly int seed;
    private readonly int microBatchesPerStep;
    private readonly Dictionary<int, int[]> epochOrders = [];
    private readonly Dictionary<long, int[]> generationRounds = [];

    public MicroBatchPlan(IReadOnlyList<NotePair> train, NoteLLMTrainerOptions options, IReadOnlyList<NoteText>? generationNotes = null)
    {
        this.train = train;
        this.generationNotes = generationNotes ?? [];
        generationNotesPerMicroBatch = this.generationNotes.Count == 0 ? 0 : options.GenerationNotesPerMicroBatch;
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

    /// <summary>
    /// The generation-only notes of micro-batch <paramref name="micro"/>: the next ones of a sequence that goes through
    /// all of them in a seeded order, round after round (independent of the pairs' epochs: there may be more or fewer).
    /// </summary>
    public List<NoteText> GenerationNotesOf(int micro)
    {
        long first = (long)micro * generationNotesPerMicroBatch;
        return Enumerable.Range(0, generationNotesPerMicroBatch).Select(i =>
        {
            long at = first + i;
            long round = at / generationNotes.Count;
            return generationNotes[GenerationRound(round)[at % generationNotes.Count]];
        }).ToList();
    }

    private int[] EpochOrder(int epoch) => Order(epochOrders, epoch, 1_000_003 + epoch, train.Count);

    private int[] GenerationRound(long round) => Order(generationRounds, round, unchecked(2_000_003 + (int)round), generationNotes.Count);

    private int[] Order<TKey>(Dictionary<TKey, int[]> cache, TKey key, int salt, int count) where TKey : notnull
    {
        if (!cache.TryGetValue(key, out var order))
        {
            var rng = new Random(NoteLLMTrainer.Mix(seed, salt));
            order = Enumerable.Range(0, count).ToArray();
            rng.Shuffle(order);
            cache[key] = order;
        }
        return order;
    }
}
