using System.Diagnostics;

namespace NoteLLM.MLNet.Benchmarks;

/// <summary>Helpers shared by the benchmarks: integer options and running this app again as a child process.</summary>
internal static class BenchmarkArgs
{
    /// <summary>The value after <paramref name="name"/> in <paramref name="args"/> (e.g. <c>--steps 200</c>), or <paramref name="fallback"/>.</summary>
    public static int Option(string[] args, string name, int fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1]) : fallback;
    }

    /// <summary>The text after <paramref name="name"/> in <paramref name="args"/> (e.g. <c>--pgvector local</c>), or null.</summary>
    public static string? Text(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    /// <summary>The comma-separated integers after <paramref name="name"/> (e.g. <c>--ef-search 64,128</c>), or <paramref name="fallback"/>.</summary>
    public static int[] Options(string[] args, string name, int[] fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? Array.ConvertAll(args[i + 1].Split(','), int.Parse) : fallback;
    }

    /// <summary>
    /// Runs this bench app again with <paramref name="args"/> (a fresh process, so its peak RSS is its own) and returns
    /// the last line it printed.
    /// </summary>
    public static string RunSelf(params string[] args) => RunSelf(new Dictionary<string, string>(), args);

    /// <summary><see cref="RunSelf(string[])"/> with <paramref name="environment"/> added to the child's environment.</summary>
    public static string RunSelf(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var psi = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var (name, value) in environment) psi.Environment[name] = value;
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet") psi.ArgumentList.Add(typeof(BenchmarkArgs).Assembly.Location);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"child benchmark '{string.Join(' ', args)}' exited with {p.ExitCode}: {output}");
        return output.Trim().Split('\n')[^1];
    }
}
