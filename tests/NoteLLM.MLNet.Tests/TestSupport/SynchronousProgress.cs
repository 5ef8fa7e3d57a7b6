using NoteLLM.MLNet.Training;

namespace NoteLLM.MLNet.Tests.TestSupport;

/// <summary>Reports training progress on the training thread (<see cref="Progress{T}"/> would post it elsewhere), so a test can stop training at a step.</summary>
public sealed class SynchronousProgress(Action<TrainingProgress> action) : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress value) => action(value);
}
