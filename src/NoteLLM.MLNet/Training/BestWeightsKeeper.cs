using TorchSharp;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Training;

/// <summary>
/// Tracks the step with the lowest validation loss and, with <see cref="NoteLLMTrainerOptions.KeepBestValidationWeights"/>,
/// keeps its weights: in the checkpoint folder when there is one (so they survive a resume), otherwise as an in-memory
/// copy; <see cref="Restore"/> puts them back at the end of training.
/// </summary>
internal sealed class BestWeightsKeeper(nn.Module network, bool keepWeights, string? checkpointDirectory, double? bestLoss, int? bestStep) : IDisposable
{
    private Dictionary<string, Tensor>? snapshot;

    /// <summary>The lowest validation loss so far (null before the first validation).</summary>
    public double? BestLoss { get; private set; } = bestLoss;

    /// <summary>The step (counted from 1) of <see cref="BestLoss"/>.</summary>
    public int? BestStep { get; private set; } = bestStep;

    /// <summary>Records the validation loss after step <paramref name="step"/>, keeping the weights when it is the lowest.</summary>
    public void Offer(double validationLoss, int step)
    {
        // a NaN loss is never the best: kept as the best, no later loss would compare below it
        if (double.IsNaN(validationLoss) || BestLoss is not null && !(validationLoss < BestLoss)) return;
        BestLoss = validationLoss; BestStep = step;
        if (keepWeights && checkpointDirectory is not null) TrainingCheckpoint.SaveBest(checkpointDirectory, network);
        else if (keepWeights) Snapshot();
    }

    /// <summary>Restores the kept weights unless the best step is <paramref name="lastStep"/>; whether they were restored.</summary>
    public bool Restore(int lastStep)
    {
        if (!keepWeights || BestStep is not int best || best == lastStep) return false;
        return checkpointDirectory is not null ? TrainingCheckpoint.TryLoadBest(checkpointDirectory, network) : RestoreSnapshot();
    }

    public void Dispose()
    {
        foreach (var t in snapshot?.Values ?? Enumerable.Empty<Tensor>()) t.Dispose();
        snapshot = null;
    }

    private void Snapshot()
    {
        Dispose();
        snapshot = network.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
    }

    private bool RestoreSnapshot()
    {
        if (snapshot is null) return false;
        using (no_grad())
            foreach (var (name, t) in network.state_dict()) t.copy_(snapshot[name]);
        return true;
    }
}
