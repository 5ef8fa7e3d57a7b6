namespace NoteLLM.MLNet.Benchmarks;

/// <summary>One named benchmark of the bench app; discovered by reflection, so adding one is adding a class.</summary>
public interface IBenchmark
{
    string Name { get; }
    string Description { get; }
    /// <returns>The process exit code (non-zero when a target was missed).</returns>
    int Run(string[] args);
}
