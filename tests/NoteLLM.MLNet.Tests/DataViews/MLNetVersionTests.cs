using System.Text.RegularExpressions;
using NoteLLM.MLNet.DataViews;

namespace NoteLLM.MLNet.Tests.DataViews;

/// <summary>The library records the Microsoft.ML version it was built against and refuses models under another one.</summary>
public class MLNetVersionTests
{
    private static string PinnedVersion()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string props = Path.Combine(dir.FullName, "Directory.Packages.props");
            if (File.Exists(props))
                return Regex.Match(File.ReadAllText(props), @"<PackageVersion Include=""Microsoft\.ML"" Version=""\[([^\]]+)\]""").Groups[1].Value;
        }
        throw new FileNotFoundException($"No Directory.Packages.props above {AppContext.BaseDirectory}");
    }

    [Fact]
    public void RecordsThePinnedVersionWhichTheTestsRun()
    {
        Assert.Equal(PinnedVersion(), MLNetVersion.BuiltAgainst);
        Assert.Equal(MLNetVersion.BuiltAgainst, MLNetVersion.AtRunTime);
        MLNetVersion.Check();
    }

    [Fact]
    public void AnotherVersionAtRunTimeIsRefusedNamingBoth()
    {
        var error = Assert.Throws<InvalidOperationException>(() => MLNetVersion.Check("5.0.1", "5.1.0"));
        Assert.Contains("built against Microsoft.ML 5.0.1", error.Message);
        Assert.Contains("runs Microsoft.ML 5.1.0", error.Message);
        Assert.Contains("<PackageReference Include=\"Microsoft.ML\" Version=\"5.0.1\" />", error.Message);
    }
}
