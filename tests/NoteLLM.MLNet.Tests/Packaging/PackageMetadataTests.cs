using System.IO.Compression;
using System.Xml.Linq;
using NoteLLM.MLNet.Tests.TestSupport;

namespace NoteLLM.MLNet.Tests.Packaging;

/// <summary>
/// What <c>dotnet pack</c> writes for users: the metadata NuGet shows, the readme, license, symbols and build targets,
/// and the dependency policy: minimum versions, exact only where the library cannot run on another version.
/// </summary>
[Collection(PackageCollection.Name)]
public class PackageMetadataTests(PackageFixture package)
{
    /// <summary>ML.NET's internal model API (save/load) and TorchSharp's native interop must match exactly.</summary>
    private static readonly string[] ExactDependencies = ["Microsoft.ML", "TorchSharp"];

    private XElement Metadata => package.Nuspec.Root!.Elements().Single(e => e.Name.LocalName == "metadata");

    private string? Field(string name) => Metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value;

    [Fact]
    public void MetadataNamesLicenseReadmeAuthorsUrlsAndTags()
    {
        Assert.Equal("NoteLLM.MLNet", Field("id"));
        Assert.Equal(package.Version, Field("version"));
        Assert.False(string.IsNullOrWhiteSpace(Field("authors")));
        Assert.False(string.IsNullOrWhiteSpace(Field("description")));
        Assert.Equal("MIT", Field("license"));
        Assert.Equal("README.md", Field("readme"));
        Assert.StartsWith("https://", Field("projectUrl"));
        Assert.Contains("notellm", Field("tags")!.Split(' '));
        var repository = Metadata.Elements().Single(e => e.Name.LocalName == "repository");
        Assert.Equal(Field("projectUrl"), repository.Attribute("url")?.Value);
        Assert.Matches("^[0-9a-f]{40}$", repository.Attribute("commit")?.Value ?? ""); // SourceLink's commit
        Assert.True(File.Exists(Path.Combine(package.FeedPath, $"NoteLLM.MLNet.{package.Version}.snupkg")), "no symbol package beside the package");
        Assert.True(File.Exists(Path.Combine(package.Root, "LICENSE")), "no LICENSE at the repository root");
    }

    [Fact]
    public void PackageHoldsTheReadmeTheLibraryAndTheBuildTargets()
    {
        Assert.Contains("README.md", package.EntryNames);
        Assert.Contains("lib/net8.0/NoteLLM.MLNet.dll", package.EntryNames);
        Assert.Contains("buildTransitive/NoteLLM.MLNet.targets", package.EntryNames);
        Assert.Contains("buildTransitive/WeakenGlibcxxRequirement.cs", package.EntryNames);
        // oneMKL's vendor test answered for AMD CPUs with AVX-512 (Runtime/CpuMatrixProducts.cs), built where a C
        // compiler is: the repository's Linux x64 builds need one
        if (PackageFixture.BuildsNativeLibrary)
            Assert.Contains(NativeLibraryEntry, package.EntryNames);
    }

    private const string NativeLibraryEntry = "runtimes/linux-x64/native/libnotellm_mkl_intel_cpu_true.so";

    [Fact]
    public void PackRefusesAPackageWithoutTheNativeLibraryUnlessTold()
    {
        using var output = new TempFolder();
        string[] packWithoutLibrary = ["pack", "src/NoteLLM.MLNet/NoteLLM.MLNet.csproj", "--no-build", "-c", package.Configuration,
            "-o", output.Path, $"-p:Version={package.Version}", "-p:_NoteLLMBuildsMklShim=false", $"-p:_NoteLLMMklShim={output.File("missing.so")}"];

        var (exit, text) = DotnetCli.Run(package.Root, TimeSpan.FromMinutes(5), packWithoutLibrary);
        Assert.True(exit != 0, $"pack without the native library succeeded:\n{text}");
        Assert.Contains("NOTELLM003", text);
        Assert.Empty(Directory.GetFiles(output.Path, "*.nupkg"));

        (exit, text) = DotnetCli.Run(package.Root, TimeSpan.FromMinutes(5), [.. packWithoutLibrary, "-p:NoteLLMAllowPackWithoutMklShim=true"]);
        Assert.True(exit == 0, $"pack told to go without the native library failed:\n{text}");
        using var nupkg = ZipFile.OpenRead(Assert.Single(Directory.GetFiles(output.Path, "*.nupkg")));
        Assert.DoesNotContain(nupkg.Entries, e => e.FullName == NativeLibraryEntry);
    }

    [Fact]
    public void DependenciesAreMinimumVersionsButMicrosoftMLAndTorchSharpExact()
    {
        var dependencies = Metadata.Descendants().Where(e => e.Name.LocalName == "dependency")
            .ToDictionary(e => e.Attribute("id")!.Value, e => e.Attribute("version")!.Value);
        Assert.Contains("Microsoft.Extensions.AI.Abstractions", dependencies.Keys);
        foreach (string id in ExactDependencies)
            Assert.Equal($"[{package.PinnedVersion(id)}]", dependencies[id]);
        foreach (var (id, version) in dependencies.Where(d => !ExactDependencies.Contains(d.Key)))
        {
            // a bare version is NuGet's ">= version"; the minimum is the version the repository builds and tests with
            Assert.True(!version.Contains('[') && !version.Contains('(') && !version.Contains(','), $"{id} is published as '{version}', not a minimum version");
            Assert.Equal(package.PinnedVersion(id), version);
        }
    }
}
