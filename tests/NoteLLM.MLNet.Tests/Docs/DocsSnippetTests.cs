using System.Text.RegularExpressions;

namespace NoteLLM.MLNet.Tests.Docs;

/// <summary>
/// Every C# block in README.md, docs/*.md and the package READMEs (src/NoteLLM.MLNet*/README.md) is compiled code: it follows a <c>&lt;!-- snippet: NAME --&gt;</c> marker
/// and equals the <c>#region NAME</c> of a file in tests/NoteLLM.MLNet.Tests/Docs, which this project compiles.
/// </summary>
public class DocsSnippetTests
{
    private static readonly string Root = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "NoteLLM.MLNet.sln"))) return dir.FullName;
        throw new FileNotFoundException($"No NoteLLM.MLNet.sln above {AppContext.BaseDirectory}");
    }

    // Trailing spaces dropped and common indentation removed, so a region inside a method reads flush in the docs.
    private static string Normalize(string code)
    {
        var lines = code.Replace("\r", "").Split('\n').Select(l => l.TrimEnd()).ToList();
        int indent = lines.Where(l => l.Length > 0).Select(l => l.Length - l.TrimStart().Length).DefaultIfEmpty(0).Min();
        return string.Join("\n", lines.Select(l => l.Length >= indent ? l[indent..] : l)).Trim();
    }

    public static IEnumerable<object[]> MarkdownFiles() =>
        new[] { "README.md", "src/NoteLLM.MLNet/README.md", "src/NoteLLM.MLNet.PgVector/README.md" }.Concat(Directory.GetFiles(Path.Combine(Root, "docs"), "*.md").Select(f => Path.GetRelativePath(Root, f)))
            .Select(f => new object[] { f });

    [Theory]
    [MemberData(nameof(MarkdownFiles))]
    public void CSharpBlocksAreCompiledRegions(string markdownFile)
    {
        var regions = Directory.GetFiles(Path.Combine(Root, "tests/NoteLLM.MLNet.Tests/Docs"), "*.cs")
            .SelectMany(f => Regex.Matches(File.ReadAllText(f).Replace("\r", ""), @"#region (\S+)\n(.*?)#endregion", RegexOptions.Singleline))
            .ToDictionary(m => m.Groups[1].Value, m => Normalize(m.Groups[2].Value));
        string text = File.ReadAllText(Path.Combine(Root, markdownFile)).Replace("\r", "");
        foreach (Match block in Regex.Matches(text, @"(?:<!-- snippet: (\S+) -->\n)?```csharp\n(.*?)```", RegexOptions.Singleline))
        {
            string name = block.Groups[1].Value;
            Assert.True(name.Length > 0, $"{markdownFile}: a csharp block without a '<!-- snippet: NAME -->' marker: {block.Value[..Math.Min(80, block.Value.Length)]}");
            Assert.True(regions.ContainsKey(name), $"{markdownFile}: no '#region {name}' in tests/NoteLLM.MLNet.Tests/Docs");
            Assert.Equal(regions[name], Normalize(block.Groups[2].Value));
        }
    }
}
