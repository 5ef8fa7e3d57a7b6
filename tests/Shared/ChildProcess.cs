using System.Diagnostics;

namespace NoteLLM.MLNet.TestSupport;

/// <summary>Runs a program to its end under a time limit, its standard output and error collected apart.</summary>
public static class ChildProcess
{
    /// <param name="start">what to run (output redirection is set here)</param>
    /// <param name="name">how a timeout names the run</param>
    /// <returns>The exit code, standard output and standard error.</returns>
    /// <exception cref="TimeoutException">It ran past <paramref name="timeout"/>; it and its children were killed.</exception>
    public static (int ExitCode, string Stdout, string Stderr) Run(ProcessStartInfo start, TimeSpan timeout, string name)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        using var process = Process.Start(start)!;
        // read both streams while it runs: a full pipe buffer would block it
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{name} did not finish within {timeout}.");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
