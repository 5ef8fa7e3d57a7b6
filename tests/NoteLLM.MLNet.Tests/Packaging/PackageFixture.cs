using System.IO.Compression;
using System.Runtime.InteropServices;
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
/// The library and its PostgreSQL companion packed once for the Packaging tests (<c>dotnet pack --no-build</c> of the
/// build the tests run against) into a temporary folder feed, under a version of their own so that NuGet's global
/// packages folder never serves an older pack; that version is removed from the global packages folder afterwards.
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
        Configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;
        // only Linux x64 builds the native library a published package must carry (NOTELLM003); elsewhere the tests pack without it
        string allowWithoutNative = $"-p:NoteLLMAllowPackWithoutMklShim={!BuildsNativeLibrary}";
        foreach (string id in PackageIds)
        {
            var (exit, output) = DotnetCli.Run(Root, Timeout, "pack", $"src/{id}/{id}.csproj", "--no-build",
                "-c", Configuration, "-o", feed.Path, $"-p:Version={Version}", allowWithoutNative);
            Assert.True(exit == 0, $"dotnet pack of {id} failed ({exit}):\n{output}");
            Assert.True(File.Exists(PathOf(id)), $"dotnet pack wrote no {PathOf(id)}:\n{output}");
        }
        PackagePath = PathOf("NoteLLM.MLNet");
        EntryNames = EntriesOf("NoteLLM.MLNet");
        Nuspec = NuspecOf("NoteLLM.MLNet");
    }

    /// <summary>The packages packed: the library and the PostgreSQL index that depends on it.</summary>
    public static readonly string[] PackageIds = ["NoteLLM.MLNet", "NoteLLM.MLNet.PgVector"];

    /// <summary>The .nupkg of package <paramref name="id"/> in the feed.</summary>
    public string PathOf(string id) => feed.File($"{id}.{Version}.nupkg");

    /// <summary>The files in package <paramref name="id"/>.</summary>
    public IReadOnlyList<string> EntriesOf(string id)
    {
        using var package = ZipFile.OpenRead(PathOf(id));
        return package.Entries.Select(e => e.FullName).ToList();
    }

    /// <summary>The manifest of package <paramref name="id"/>.</summary>
    public XDocument NuspecOf(string id)
    {
        using var package = ZipFile.OpenRead(PathOf(id));
        using var nuspec = package.GetEntry($"{id}.nuspec")!.Open();
        return XDocument.Load(nuspec);
    }

    /// <summary>Whether this machine builds libnotellm_mkl_intel_cpu_true.so (Linux x64; the repository's builds need a C compiler there).</summary>
    public static bool BuildsNativeLibrary => OperatingSystem.IsLinux() && RuntimeInformation.OSArchitecture == Architecture.X64;

    /// <summary>The configuration the library was built in, the one the tests run in.</summary>
    public string Configuration { get; }
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

    /// <summary>
    /// A console project in a new folder outside the repository, referencing the packed <paramref name="packageId"/>
    /// (and, when given, <paramref name="backend"/> at the version the repository pins), with the folder feed first
    /// among the repository's package sources.
    /// </summary>
    public TempFolder CreateConsumer(string program, string packageId, string? backend = null)
    {
        var dir = new TempFolder();
        string framework = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Name;
        string backendReference = backend is null ? "" : $"""<PackageReference Include="{backend}" Version="{PinnedVersion(backend)}" />""";
        File.WriteAllText(dir.File("Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>{framework}</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
                <NuGetAudit>false</NuGetAudit>
                <!-- libtorch for every OS is 1.1 GB: link it from the NuGet cache rather than copy it (tests share CI's disk) -->
                <CreateHardLinksForCopyLocalIfPossible>true</CreateHardLinksForCopyLocalIfPossible>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="{packageId}" Version="{Version}" />
                {backendReference}
              </ItemGroup>
            </Project>
            """);
        var sources = XDocument.Load(Path.Combine(Root, "nuget.config")).Descendants("packageSources").Elements("add");
        File.WriteAllText(dir.File("nuget.config"), new XDocument(new XElement("configuration",
            new XElement("packageSources", new XElement("clear"),
                new XElement("add", new XAttribute("key", "notellm-packed"), new XAttribute("value", FeedPath)),
                sources))).ToString());
        File.WriteAllText(dir.File("Program.cs"), program);
        return dir;
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
        foreach (string id in PackageIds)
        {
            string extracted = Path.Combine(packages, id.ToLowerInvariant(), Version.ToLowerInvariant());
            if (Directory.Exists(extracted)) Directory.Delete(extracted, recursive: true);
        }
    }
}
