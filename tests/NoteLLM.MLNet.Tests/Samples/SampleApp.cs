using System.Diagnostics;
using NoteLLM.MLNet.Tests.MLNet;

namespace NoteLLM.MLNet.Tests.Samples;

/// <summary>
/// Runs a sample app (built next to the tests through a project reference) in its own process with its own
/// dependencies, as a newcomer's <c>dotnet run</c> would.
/// </summary>
internal static class SampleApp
{
    public const string QuickStart = "NoteLLM.QuickStart", Serving = "NoteLLM.Serving";

    /// <returns>The exit code, standard output and standard error.</returns>
    public static (int ExitCode, string Stdout, string Stderr) Run(string app, string workingDirectory, TimeSpan timeout, params string[] args)
    {
        string baseDirectory = AppContext.BaseDirectory;
        var start = new ProcessStartInfo(ModelLoadCheckRunner.DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (string arg in new[]
        {
            "exec",
            "--depsfile", Path.Combine(baseDirectory, app + ".deps.json"),
            "--runtimeconfig", Path.Combine(baseDirectory, app + ".runtimeconfig.json"),
            Path.Combine(baseDirectory, app + ".dll"),
        }.Concat(args))
            start.ArgumentList.Add(arg);

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{app} {string.Join(' ', args)} did not finish within {timeout}.");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

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
