using NoteLLM.MLNet.Tests.TestSupport;

namespace NoteLLM.MLNet.Tests.Samples;

/// <summary>
/// Runs a sample app (built next to the tests through a project reference) in its own process with its own
/// dependencies, as a newcomer's <c>dotnet run</c> would.
/// </summary>
internal static class SampleApp
{
    public const string QuickStart = "NoteLLM.QuickStart", Serving = "NoteLLM.Serving", Web = "NoteLLM.Web";

    /// <returns>The exit code, standard output and standard error.</returns>
    public static (int ExitCode, string Stdout, string Stderr) Run(string app, string workingDirectory, TimeSpan timeout, params string[] args) =>
        AppProcess.Run(app, app, workingDirectory, timeout, args);

    /// <summary>Asserts the run failed with exit code 1 and exactly one line on standard error, starting "error: ", with no stack trace.</summary>
    public static string AssertOneLineError((int ExitCode, string Stdout, string Stderr) run)
    {
        Assert.True(run.ExitCode == 1, $"exit code {run.ExitCode}; stderr: {run.Stderr}; stdout: {run.Stdout}");
        var lines = run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length == 1, $"expected one error line, got: {run.Stderr}");
        Assert.StartsWith("error: ", lines[0]);
        Assert.DoesNotContain("   at ", run.Stderr + run.Stdout);
        return lines[0];
    }
}
