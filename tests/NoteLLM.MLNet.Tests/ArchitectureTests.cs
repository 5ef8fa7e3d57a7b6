using System.Text.RegularExpressions;

namespace NoteLLM.MLNet.Tests;

/// <summary>
/// The library's folders depend on each other only downwards, in the layer order of docs/architecture.md: a file in
/// src/NoteLLM.MLNet/X/ may name the namespace of a folder of a lower layer (a using directive, static or alias
/// included, a fully qualified <c>NoteLLM.MLNet.Y.</c> or a relative <c>Y.Type</c> reference), never one of its own
/// layer or above, and only the root and the layers above it name the root's types (which every namespace below sees
/// without a using).
/// Comments and the text of literals are not read: a <c>cref</c> may point anywhere.
/// </summary>
public class ArchitectureTests
{
    /// <summary>Bottom up; folders of one layer do not depend on each other. The root (the ML.NET face) is on top, with
    /// only the adapters of the fitted transformer to other APIs above it.</summary>
    private static readonly string[][] Layers =
    [
        ["Runtime", "Data", "Tokenization"],
        ["DataViews", "Prompting"],
        ["Modeling"],
        ["Bundle"],
        ["Training", "Generation"],
        ["Retrieval", "Evaluation", "PairMining"],
        [""],
        ["AI"],
    ];

    private static readonly string Source = Path.Combine(FindRoot(), "src", "NoteLLM.MLNet");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "NoteLLM.MLNet.sln"))) return dir.FullName;
        throw new FileNotFoundException($"No NoteLLM.MLNet.sln above {AppContext.BaseDirectory}");
    }

    private static int LayerOf(string folder) => Array.FindIndex(Layers, layer => layer.Contains(folder));

    private static IEnumerable<string> LibraryFiles() =>
        Directory.GetFiles(Source, "*.cs", SearchOption.AllDirectories)
            .Where(f => Path.GetRelativePath(Source, f).Split(Path.DirectorySeparatorChar)[0] is not ("bin" or "obj" or "buildTransitive"));

    // "" for a file at the library root, else its first folder
    private static string FolderOf(string file)
    {
        var parts = Path.GetRelativePath(Source, file).Split(Path.DirectorySeparatorChar);
        return parts.Length == 1 ? "" : parts[0];
    }

    // the code without its comments and the text of its literals (read left to right, so "//" in a string stays a string)
    private static string CodeOnly(string code) =>
        Regex.Replace(code, @"@""(?:[^""]|"""")*""|""(?:[^""\\\n]|\\.)*""|'(?:[^'\\\n]|\\.)*'|/\*.*?\*/|//[^\n]*",
            m => m.Value[0] is '/' ? "" : "\"\"", RegexOptions.Singleline);

    // NoteLLM.MLNet.X, or X.Type relative to the library's namespace
    private static readonly Regex FolderReference = new(
        $@"\bNoteLLM\.MLNet\.(?<name>\w+)|(?<![\w.])(?<name>{string.Join("|", Layers.SelectMany(l => l).Where(f => f != ""))})\.[A-Z]");

    /// <summary>The folders a file names outside its namespace declaration; "" for a root type.</summary>
    private static IEnumerable<string> NamedFolders(string code, IReadOnlySet<string> rootTypes) =>
        FolderReference.Matches(Regex.Replace(code, @"^namespace [\w.]+;", "", RegexOptions.Multiline))
            .Select(m => m.Groups["name"].Value).Select(n => rootTypes.Contains(n) ? "" : n).Distinct();

    [Fact]
    public void EveryLibraryFolderIsInALayer()
    {
        var folders = LibraryFiles().Select(FolderOf).Distinct();
        Assert.All(folders, folder => Assert.True(LayerOf(folder) >= 0, $"src/NoteLLM.MLNet/{folder}/ is in no layer of {nameof(ArchitectureTests)}.{nameof(Layers)} (and docs/architecture.md)."));
    }

    [Fact]
    public void NamespacesFollowFolders()
    {
        Assert.All(LibraryFiles(), file =>
        {
            string folder = FolderOf(file);
            string expected = folder == "" ? "NoteLLM.MLNet" : "NoteLLM.MLNet." + folder;
            var declared = Regex.Matches(CodeOnly(File.ReadAllText(file)), @"^namespace ([\w.]+);", RegexOptions.Multiline).Select(m => m.Groups[1].Value);
            // the one exception: a polyfill the runtime looks up by its full name (IgnoresAccessChecksToAttribute)
            Assert.True(declared.All(n => n == expected || n == "System.Runtime.CompilerServices"),
                $"{Path.GetRelativePath(Source, file)} declares {string.Join(", ", declared)}, not {expected}.");
        });
    }

    [Fact]
    public void FoldersDependOnlyOnLowerLayers()
    {
        var files = LibraryFiles().ToDictionary(f => f, f => CodeOnly(File.ReadAllText(f)));
        // the root's top-level types (file-scoped namespaces: declared at the start of a line)
        var rootTypes = files.Where(f => FolderOf(f.Key) == "")
            .SelectMany(f => Regex.Matches(f.Value, @"^(?:\w+ )*(?:class|record|struct|interface|enum) (\w+)", RegexOptions.Multiline).Select(m => m.Groups[1].Value))
            .ToHashSet();
        var violations = new List<string>();
        foreach (var (file, code) in files)
        {
            string folder = FolderOf(file);
            int layer = LayerOf(folder);
            string where = Path.GetRelativePath(Source, file).Replace('\\', '/');
            foreach (var named in NamedFolders(code, rootTypes).Where(n => n != folder && !(LayerOf(n) >= 0 && LayerOf(n) < layer)))
                violations.Add($"{where} ({(folder == "" ? "root" : folder)}) depends on {(named == "" ? "the root" : "NoteLLM.MLNet." + named)}");
            if (layer < LayerOf(""))
                foreach (var type in rootTypes.Where(t => Regex.IsMatch(code, $@"(?<![\w.]){t}\b")))
                    violations.Add($"{where} ({folder}) depends on the root's {type}");
        }
        Assert.True(violations.Count == 0, "Dependencies against the layer order of docs/architecture.md:\n" + string.Join("\n", violations));
    }
}
