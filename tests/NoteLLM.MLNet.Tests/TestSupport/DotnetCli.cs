using System.Diagnostics;
using System.Text;

namespace NoteLLM.MLNet.Tests.TestSupport;

/// <summary>Runs the dotnet CLI (pack, build, run) in a process of its own, as a user would from a shell.</summary>
internal static class DotnetCli
{
    /// <returns>The exit code and standard output and error together, in order.</returns>
    public static (int ExitCode, string Output) Run(string workingDirectory, TimeSpan timeout, params string[] args)
    {
        var start = new ProcessStartInfo(AppProcess.DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (string arg in args) start.ArgumentList.Add(arg);
        // a shell's environment, not the one `dotnet test` gives its test host (MSBuild paths of the running build)
        foreach (string name in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
            start.Environment.Remove(name);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";

        var output = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet {string.Join(' ', args)} did not finish within {timeout}:\n{output}");
        }
        process.WaitForExit(); // drains the output handlers
        lock (output) return (process.ExitCode, output.ToString());
    }
}
