using System.Diagnostics;
using NoteLLM.MLNet.TestSupport;

namespace NoteLLM.MLNet.Tests.TestSupport;

/// <summary>Runs an app built next to the tests (through a project reference) in a process of its own.</summary>
internal static class AppProcess
{
    /// <param name="app">the app's assembly name (its .dll is in the test output folder)</param>
    /// <param name="dependencyContext">whose .deps.json and .runtimeconfig.json to run with: the app's own, or the test assembly's</param>
    /// <returns>The exit code, standard output and standard error.</returns>
    public static (int ExitCode, string Stdout, string Stderr) Run(string app, string dependencyContext, string? workingDirectory,
        TimeSpan timeout, params string[] args)
    {
        string baseDirectory = AppContext.BaseDirectory;
        var start = new ProcessStartInfo(DotnetHost()) { WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory };
        foreach (string arg in new[]
        {
            "exec",
            "--depsfile", Path.Combine(baseDirectory, dependencyContext + ".deps.json"),
            "--runtimeconfig", Path.Combine(baseDirectory, dependencyContext + ".runtimeconfig.json"),
            Path.Combine(baseDirectory, app + ".dll"),
        }.Concat(args))
            start.ArgumentList.Add(arg);
        return ChildProcess.Run(start, timeout, $"{app} {string.Join(' ', args)}");
    }

    /// <summary>The dotnet host running the tests (the SDK's, under `dotnet test`), or `dotnet` from the PATH.</summary>
    internal static string DotnetHost()
    {
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(host) && File.Exists(host))
            return host;
        string? current = Environment.ProcessPath;
        return current != null && Path.GetFileNameWithoutExtension(current) == "dotnet" ? current : "dotnet";
    }
}
