using System.IO.Hashing;
using System.Text;
using NoteLLM.MLNet.Data;

namespace NoteLLM.DebianNotes.Builder;

/// <summary>The Debian notes dataset: notes of both splits and the related pairs of each.</summary>
internal sealed class DebianDataset
{
    public required List<NoteRecord> Notes { get; init; }
    public required List<RelatedNotePair> TrainPairs { get; init; }
    public required List<RelatedNotePair> TestPairs { get; init; }
    /// <summary>What the builder read and left out, for the printed report.</summary>
    public required Dictionary<string, int> Counts { get; init; }
}

/// <summary>
/// Builds the Debian notes dataset from a <c>Packages</c> index and its <c>Translation-en</c>:
/// a note is a binary package (title = short description, content = long description, hashtags = debtags,
/// category = section); related pairs are Recommends/Suggests/Enhances links between two tagged packages of
/// different source packages; the split is by a stable hash of the source package (~15% test).
/// </summary>
internal static class DebianNotesBuilder
{
    public const string Train = "train", Test = "test";

    /// <summary>Relations whose targets count towards a package's exposure (its in-degree).</summary>
    private static readonly string[] ExposureRelations = ["Depends", "Pre-Depends", "Recommends", "Suggests"];

    /// <summary>Relations that make a related pair.</summary>
    private static readonly string[] PairRelations = ["Recommends", "Suggests", "Enhances"];

    private sealed record Package(string Name, string Source, string Title, string DescriptionMd5, string[] Tags, string Section,
        ControlParagraph Fields);

    public static DebianDataset Build(IEnumerable<ControlParagraph> packages, IEnumerable<ControlParagraph> translations)
    {
        var counts = new Dictionary<string, int>();
        void Count(string what) => counts[what] = counts.GetValueOrDefault(what) + 1;

        // One note per binary package name; a second version of a name (e.g. from a point release) is skipped.
        var byName = new Dictionary<string, Package>(StringComparer.Ordinal);
        var order = new List<Package>();
        foreach (var p in packages)
        {
            var name = p["Package"] ?? throw new InvalidDataException($"Packages stanza at line {p.Line} has no Package field.");
            var package = new Package(name, SourceName(p["Source"]) ?? name, p["Description"]?.Split('\n')[0].Trim() ?? "",
                p["Description-md5"] ?? "", SplitList(p["Tag"]), Category(p["Section"]), p);
            if (!byName.TryAdd(name, package)) { Count("duplicate package stanzas skipped"); continue; }
            order.Add(package);
        }

        var longDescriptions = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var t in translations)
            if (t["Description-md5"] is { } md5 && t["Description-en"] is { } text)
                longDescriptions.TryAdd(md5, LongDescription(text));

        // Exposure: how many other packages depend on, pre-depend on, recommend or suggest the package.
        var referrers = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var p in order)
            foreach (var relation in ExposureRelations)
                foreach (var target in RelationTargets(p.Fields[relation]))
                    if (target != p.Name && byName.ContainsKey(target))
                    {
                        if (!referrers.TryGetValue(target, out var set)) referrers[target] = set = new HashSet<string>(StringComparer.Ordinal);
                        set.Add(p.Name);
                    }

        var notes = new List<NoteRecord>();
        foreach (var p in order)
        {
            var split = SplitOf(p.Source);
            bool tagged = p.Tags.Length > 0;
            // Train notes are only useful with hashtags (pairs need both ends tagged); the test corpus keeps every package.
            if (split == Train && !tagged) { Count("untagged train packages left out"); continue; }
            if (!longDescriptions.TryGetValue(p.DescriptionMd5, out var content)) { Count("notes without a long description"); content = ""; }
            notes.Add(new NoteRecord
            {
                Id = p.Name,
                Title = p.Title,
                Content = content,
                Hashtags = p.Tags,
                Category = p.Section,
                Exposure = referrers.TryGetValue(p.Name, out var set) ? set.Count : 0,
                Split = split,
            });
        }

        var trainPairs = new List<RelatedNotePair>();
        var testPairs = new List<RelatedNotePair>();
        var seen = new HashSet<(string, string)>();
        foreach (var p in order)
        {
            if (p.Tags.Length == 0) continue;
            foreach (var relation in PairRelations)
                foreach (var target in RelationTargets(p.Fields[relation]))
                {
                    Count("links from tagged packages");
                    if (!byName.TryGetValue(target, out var related)) { Count("links to virtual or absent packages"); continue; }
                    if (related.Tags.Length == 0) { Count("links to untagged packages"); continue; }
                    if (related.Source == p.Source) { Count("links inside one source package"); continue; }
                    var split = SplitOf(p.Source);
                    if (SplitOf(related.Source) != split) { Count("links crossing the split"); continue; }
                    var key = string.CompareOrdinal(p.Name, target) < 0 ? (p.Name, target) : (target, p.Name);
                    if (!seen.Add(key)) { Count("links repeating a pair"); continue; }
                    (split == Train ? trainPairs : testPairs).Add(new RelatedNotePair { NoteId = p.Name, RelatedNoteId = target });
                }
        }
        return new DebianDataset { Notes = notes, TrainPairs = trainPairs, TestPairs = testPairs, Counts = counts };
    }

    /// <summary>The split of a source package: XxHash64 (seed 0) of its UTF-8 name; 15 of 100 buckets are test.</summary>
    public static string SplitOf(string source) =>
        XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(source)) % 100 < 15 ? Test : Train;

    /// <summary><c>Source: name (version)</c> to <c>name</c>.</summary>
    private static string? SourceName(string? field) => field?.Split(' ', 2)[0];

    /// <summary>The section without an archive-area prefix (<c>contrib/</c>, <c>non-free/</c>, …).</summary>
    private static string Category(string? section) => section is null ? "" : section[(section.LastIndexOf('/') + 1)..];

    /// <summary>A comma-separated field (possibly folded over lines) as trimmed items.</summary>
    private static string[] SplitList(string? field) =>
        field is null ? [] : field.Split([',', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>
    /// The package names a relation field mentions, every alternative included, without version constraints,
    /// architecture qualifiers or restrictions: <c>a (>= 1) | b:any, c [amd64]</c> gives a, b, c.
    /// </summary>
    public static IEnumerable<string> RelationTargets(string? field)
    {
        if (field is null) yield break;
        foreach (var alternative in field.Split([',', '|'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int end = alternative.IndexOfAny([' ', '(', '[', '<', ':', '\n']);
            var name = end < 0 ? alternative : alternative[..end];
            if (name.Length > 0) yield return name;
        }
    }

    /// <summary>
    /// The long description of a <c>Description-en</c> field (its lines after the short description): lines of a
    /// paragraph are joined with spaces, paragraphs (<c> .</c> lines) with a newline, and verbatim lines (two leading
    /// spaces) are kept on their own lines.
    /// </summary>
    public static string LongDescription(string field)
    {
        var lines = field.Split('\n');
        var text = new StringBuilder();
        bool lineStart = true;
        foreach (var raw in lines.Skip(1))
        {
            var line = raw.Length > 0 ? raw[1..] : raw;   // drop the continuation space
            if (line.Trim() == ".") { text.Append('\n'); lineStart = true; continue; }
            if (line.StartsWith(' '))
            {
                if (!lineStart) text.Append('\n');
                text.Append(line.TrimEnd()).Append('\n');
                lineStart = true;
                continue;
            }
            if (!lineStart) text.Append(' ');
            text.Append(line.Trim());
            lineStart = false;
        }
        return text.ToString().Trim('\n', ' ');
    }
}
