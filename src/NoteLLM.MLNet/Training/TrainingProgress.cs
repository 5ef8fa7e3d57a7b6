namespace NoteLLM.MLNet.Training;

/// <summary>One progress report of the trainer.</summary>
public sealed record TrainingProgress(
    int Step, int TotalSteps, int Epoch, double Loss, double ContrastiveLoss, double GenerationLoss, double Tau,
    double LearningRate, double NotesPerSecond, double TokensPerSecond, TimeSpan Elapsed, TimeSpan EstimatedRemaining, double? ValidationLoss)
{
    public override string ToString() =>
        $"step {Step}/{TotalSteps} epoch {Epoch} loss {Loss:F4} (cl {ContrastiveLoss:F4}, gen {GenerationLoss:F4}) tau {Tau:F3} lr {LearningRate:E2} " +
        $"{NotesPerSecond:F1} notes/s {TokensPerSecond:F0} tok/s elapsed {Elapsed:hh\\:mm\\:ss} ETA {EstimatedRemaining:hh\\:mm\\:ss}" +
        (ValidationLoss is double v ? $" val {v:F4}" : "");
}

/// <summary>What a training run did: its loss history (for curves), best validation loss, data report, time.</summary>
public sealed record TrainingResult(int Steps, IReadOnlyList<TrainingProgress> History, double? BestValidationLoss, int? BestValidationStep,
    TrainingDataReport Data, TimeSpan WallTime, bool ResumedFromCheckpoint);
