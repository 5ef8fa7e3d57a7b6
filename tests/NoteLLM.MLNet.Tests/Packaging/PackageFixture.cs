using System.IO.Compression;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using NoteLLM.MLNet.Tests.TestSupport;

namespace NoteLLM.MLNet.Tests.Packaging;

[CollectionDefinition(Name)]
public sealed class PackageCollection : ICollectionFixture<PackageFixture>
{
    public const string Name = "packed NoteLLM.MLNet";
}

/// <summary>
/// The library packed once for the Packaging tests (<c>dotnet pack --no-build</c> of the build the tests run against) into
/// a temporary folder feed, under a version of its own so that NuGet's global packages folder never serves an older
/// pack; that version is removed from the global packages folder afterwards.
/// </summary>
public sealed class PackageFixture : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);
    private readonly TempFolder feed = new();

    public PackageFixture()
    {
        Root = FindRoot();
        Version = "0.1.0-test." + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff");
        // the tests run from tests/NoteLLM.MLNet.Tests/bin/<configuration>/<framework>/, the library was built in that configuration
        string configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;
        var (exit, output) = DotnetCli.Run(Root, Timeout, "pack", "src/NoteLLM.MLNet/NoteLLM.MLNet.csproj", "--no-build",
            "-c", configuration, "-o", feed.Path, $"-p:Version={Version}");
        Assert.True(exit == 0, $"dotnet pack failed ({exit}):\n{output}");
        PackagePath = feed.File($"NoteLLM.MLNet.{Version}.nupkg");
        Assert.True(File.Exists(PackagePath), $"dotnet pack wrote no {PackagePath}:\n{output}");
        using var package = ZipFile.OpenRead(PackagePath);
        EntryNames = package.Entries.Select(e => e.FullName).ToList();
        using var nuspec = package.GetEntry("NoteLLM.MLNet.nuspec")!.Open();
        Nuspec = XDocument.Load(nuspec);
    }

    public string Root { get; }
    public string Version { get; }
    public string FeedPath => feed.Path;
    public string PackagePath { get; }
    public IReadOnlyList<string> EntryNames { get; }
    public XDocument Nuspec { get; }

    /// <summary>The exact version Directory.Packages.props pins for <paramref name="id"/>.</summary>
    public string PinnedVersion(string id)
    {
        string props = File.ReadAllText(Path.Combine(Root, "Directory.Packages.props"));
        var match = Regex.Match(props, $@"<PackageVersion Include=""{Regex.Escape(id)}"" Version=""\[([^\]]+)\]""");
        Assert.True(match.Success, $"Directory.Packages.props pins no {id}");
        return match.Groups[1].Value;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "NoteLLM.MLNet.sln"))) return dir.FullName;
        throw new FileNotFoundException($"No NoteLLM.MLNet.sln above {AppContext.BaseDirectory}");
    }

    public void Dispose()
    {
        feed.Dispose();
        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string extracted = Path.Combine(packages, "notellm.mlnet", Version.ToLowerInvariant());
        if (Directory.Exists(extracted)) Directory.Delete(extracted, recursive: true);
    }
}
