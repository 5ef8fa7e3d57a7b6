using System.Reflection;
using Microsoft.ML;

namespace NoteLLM.MLNet.DataViews;

/// <summary>
/// The library saves and loads models through ML.NET's internal model API (ModelSaveContext, ModelLoadContext),
/// which may change in any release, so it refuses to do so under a Microsoft.ML version other than the one it was
/// built against, with both versions named, instead of failing later with a <see cref="MissingMethodException"/>.
/// </summary>
internal static class MLNetVersion
{
    /// <summary>The Microsoft.ML package version the library was compiled against (recorded by the build).</summary>
    public static string BuiltAgainst { get; } = typeof(MLNetVersion).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "NoteLLM.BuiltAgainstMicrosoftML").Value!;

    /// <summary>The Microsoft.ML version loaded in this process (its informational version without the commit).</summary>
    public static string AtRunTime { get; } = VersionOf(typeof(MLContext).Assembly);

    /// <summary>Throws when the Microsoft.ML at run time is not the one the library was built against.</summary>
    public static void Check() => Check(BuiltAgainst, AtRunTime);

    /// <exception cref="InvalidOperationException">The versions differ; the message names both.</exception>
    internal static void Check(string builtAgainst, string atRunTime)
    {
        if (builtAgainst != atRunTime)
            throw new InvalidOperationException(
                $"NoteLLM.MLNet was built against Microsoft.ML {builtAgainst} but this application runs Microsoft.ML {atRunTime}. " +
                "The library saves and loads models through ML.NET's internal model API, which changes between releases: " +
                $"reference Microsoft.ML {builtAgainst} exactly (<PackageReference Include=\"Microsoft.ML\" Version=\"{builtAgainst}\" />) " +
                "or use the NoteLLM.MLNet version built against the Microsoft.ML you need.");
    }

    private static string VersionOf(Assembly assembly)
    {
        string? informational = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        return informational is null ? assembly.GetName().Version?.ToString() ?? "(unknown)" : informational.Split('+')[0];
    }
}
