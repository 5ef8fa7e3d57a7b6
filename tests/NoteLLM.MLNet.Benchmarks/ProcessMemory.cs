namespace NoteLLM.MLNet.Benchmarks;

/// <summary>Resident memory of this process as the kernel reports it (Linux /proc; 0 elsewhere).</summary>
public static class ProcessMemory
{
    /// <summary>Current resident set size in bytes (VmRSS).</summary>
    public static long CurrentRss() => Read("VmRSS:");

    /// <summary>Peak resident set size in bytes since the process started (VmHWM).</summary>
    public static long PeakRss() => Read("VmHWM:");

    public static string Mib(long bytes) => $"{bytes / (1024.0 * 1024.0):F0} MiB";

    private static long Read(string key)
    {
        const string path = "/proc/self/status";
        if (!File.Exists(path)) return 0;
        foreach (var line in File.ReadLines(path))
            if (line.StartsWith(key, StringComparison.Ordinal))
                return long.Parse(line[key.Length..].Trim().Split(' ')[0]) * 1024;
        return 0;
    }
}

internal static class RuntimeInformationText
{
    public static string Describe() =>
        $"{System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}";
}
