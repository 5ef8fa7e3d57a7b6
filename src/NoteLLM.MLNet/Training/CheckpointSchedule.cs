using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Training;

/// <summary>
/// The trainer's checkpoints in <see cref="NoteLLMTrainerOptions.CheckpointDirectory"/> (none when it is not set):
/// resuming from one written for the same data and options, writing one every
/// <see cref="NoteLLMTrainerOptions.CheckpointEverySteps"/> steps and after the last, and one of the steps done when
/// training is cancelled.
/// </summary>
/// <paramref name="fingerprint"/> identifies the run (null without a directory).
internal sealed class CheckpointSchedule(string? directory, int everySteps, nn.Module network, OptimizerHelper optimizer, MasterWeights masters,
    string? fingerprint)
{
    // the step of the newest checkpoint in the folder, read or written by this run
    private int savedStep;

    public string? Directory => directory;

    /// <summary>The state of the checkpoint to resume from, with the network, optimizer and master weights loaded; null when none fits.</summary>
    public TrainingCheckpoint.State? TryResume()
    {
        if (directory is null || TrainingCheckpoint.TryLoad(directory, network, optimizer, masters, fingerprint!) is not { } state) return null;
        savedStep = state.Step;
        return state;
    }

    /// <summary>Writes a checkpoint after step <paramref name="done"/> when one is due.</summary>
    public void SaveIfDue(int done, int lastStep, BestWeightsKeeper best, List<TrainingProgress> history)
    {
        if (directory is null || (done % everySteps != 0 && done != lastStep)) return;
        Save(done, best, history);
    }

    /// <summary>Writes a checkpoint of the <paramref name="done"/> steps when cancelled after them, unless the folder holds
    /// it already; whether it was written.</summary>
    public bool SaveCancelled(int done, BestWeightsKeeper best, List<TrainingProgress> history)
    {
        if (directory is null || done <= savedStep) return false;
        Save(done, best, history);
        return true;
    }

    private void Save(int done, BestWeightsKeeper best, List<TrainingProgress> history)
    {
        TrainingCheckpoint.Save(directory!, network, optimizer, masters, new TrainingCheckpoint.State(done, fingerprint!, best.BestLoss, best.BestStep, history));
        savedStep = done;
    }
}
