using System.IO.Compression;
using System.Text;

namespace NoteLLM.MLNet.Tests.Runtime;

/// <summary>
/// The build step in buildTransitive/NoteLLM.MLNet.targets that lets TorchSharp's native library load on hosts whose
/// libstdc++ predates GLIBCXX_3.4.32 (Debian 12). It must patch the app's copy only: this repository links copy-local
/// files from the NuGet cache (Directory.Build.props), so a patch written into the output file would change the cache
/// that every other project on the machine reads.
/// </summary>
public class LibTorchSharpPatchTests
{
    private const string Library = "libLibTorchSharp.so";
    private const string PackageEntry = "runtimes/linux-x64/native/" + Library;

    [Fact]
    public void TheAppsCopyIsPatchedWhereNeededAndTheNuGetCachesCopyStaysAsPackaged()
    {
        if (!OperatingSystem.IsLinux()) return; // the step only runs on Linux

        string version = typeof(TorchSharp.torch).Assembly.GetName().Version!.ToString(3);
        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string packageFolder = Path.Combine(packages, "torchsharp", version);
        byte[] packaged;
        using (var nupkg = ZipFile.OpenRead(Path.Combine(packageFolder, $"torchsharp.{version}.nupkg")))
        using (var entry = nupkg.GetEntry(PackageEntry)!.Open())
        using (var buffer = new MemoryStream())
        {
            entry.CopyTo(buffer);
            packaged = buffer.ToArray();
        }
        byte[] cached = File.ReadAllBytes(Path.Combine(packageFolder, PackageEntry));
        byte[] app = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, PackageEntry));

        Assert.True(packaged.AsSpan().SequenceEqual(cached), $"the NuGet cache's {Library} differs from the one in the package");
        Assert.Equal(packaged.Length, app.Length);
        int changed = Enumerable.Range(0, app.Length).Count(i => app[i] != packaged[i]);
        if (HostLibstdcxxProvides("GLIBCXX_3.4.32"))
            Assert.Equal(0, changed);
        else
            Assert.Equal(1, changed); // the low byte of one vna_flags field gains VER_FLG_WEAK (0x2)
    }

    private static bool HostLibstdcxxProvides(string version)
    {
        string library = new[] { "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6" }
            .FirstOrDefault(File.Exists) ?? throw new FileNotFoundException("no libstdc++.so.6 where this test looks");
        byte[] needle = Encoding.ASCII.GetBytes(version + "\0");
        return File.ReadAllBytes(library).AsSpan().IndexOf(needle) >= 0;
    }
}
