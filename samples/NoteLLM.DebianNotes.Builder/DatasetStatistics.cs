using System.Globalization;
using System.Text;
using NoteLLM.MLNet.Data;

namespace NoteLLM.DebianNotes.Builder;

/// <summary>
/// The statistics table of a notes/pairs dataset, as markdown: the builder prints it, the dataset README
/// holds it between <see cref="Begin"/> and <see cref="End"/>, and the tests recompute it from the committed files.
/// </summary>
internal static class DatasetStatistics
{
    public const string Begin = "<!-- statistics:begin -->", End = "<!-- statistics:end -->";

    public static string Markdown(IReadOnlyList<NoteRecord> notes, IReadOnlyList<RelatedNotePair> trainPairs, IReadOnlyList<RelatedNotePair> testPairs)
    {
        var text = new StringBuilder();
        text.AppendLine("| statistic | train | test | all |");
        text.AppendLine("|---|---:|---:|---:|");
        var parts = new[] { DebianNotesBuilder.Train, DebianNotesBuilder.Test, null }
            .Select(split => notes.Where(n => split is null || n.Split == split).ToList()).ToArray();
        void Row(string name, Func<List<NoteRecord>, string> value) =>
            text.AppendLine($"| {name} | {string.Join(" | ", parts.Select(value))} |");
        static string Mean(IEnumerable<double> values) =>
            values.DefaultIfEmpty(0).Average().ToString("F2", CultureInfo.InvariantCulture);
        static int Words(string s) => s.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;

        Row("notes", p => p.Count.ToString(CultureInfo.InvariantCulture));
        Row("tagged notes", p => p.Count(n => n.Hashtags.Length > 0).ToString(CultureInfo.InvariantCulture));
        text.AppendLine($"| related pairs | {trainPairs.Count} | {testPairs.Count} | {trainPairs.Count + testPairs.Count} |");
        Row("words per title (mean)", p => Mean(p.Select(n => (double)Words(n.Title))));
        Row("words per content (mean)", p => Mean(p.Select(n => (double)Words(n.Content))));
        Row("hashtags per tagged note (mean)", p => Mean(p.Where(n => n.Hashtags.Length > 0).Select(n => (double)n.Hashtags.Length)));
        Row("distinct hashtags", p => p.SelectMany(n => n.Hashtags).Distinct().Count().ToString(CultureInfo.InvariantCulture));
        Row("categories", p => p.Select(n => n.Category).Distinct().Count().ToString(CultureInfo.InvariantCulture));
        Row("exposure median", p => Median(p.Select(n => n.Exposure)).ToString("0.#", CultureInfo.InvariantCulture));
        return text.ToString();
    }

    private static double Median(IEnumerable<int> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) return 0;
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2.0;
    }

    /// <summary>Replaces the statistics block of a README (between the markers) with <paramref name="markdown"/>.</summary>
    public static string ReplaceBlock(string readme, string markdown)
    {
        int begin = readme.IndexOf(Begin, StringComparison.Ordinal), end = readme.IndexOf(End, StringComparison.Ordinal);
        if (begin < 0 || end < begin) throw new InvalidDataException($"The README has no '{Begin}' ... '{End}' block.");
        return readme[..(begin + Begin.Length)] + "\n" + markdown + readme[end..];
    }

    /// <summary>The statistics block of a README.</summary>
    public static string ReadBlock(string readme)
    {
        int begin = readme.IndexOf(Begin, StringComparison.Ordinal), end = readme.IndexOf(End, StringComparison.Ordinal);
        if (begin < 0 || end < begin) throw new InvalidDataException($"The README has no '{Begin}' ... '{End}' block.");
        return readme[(begin + Begin.Length)..end].TrimStart('\n');
    }
}
