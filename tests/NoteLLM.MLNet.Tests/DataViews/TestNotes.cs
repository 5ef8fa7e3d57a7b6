using Microsoft.ML;
using Microsoft.ML.Data;

namespace NoteLLM.MLNet.Tests.DataViews;

/// <summary>A note with the conventional column names (Hashtags as a text vector).</summary>
public sealed class TestNoteRow
{
    public string Id { get; set; } = "";
    public string Title { get; set; } = "";
    public string Content { get; set; } = "";
    public string[] Hashtags { get; set; } = Array.Empty<string>();
    public string Category { get; set; } = "";
}

/// <summary>The test transformer's outputs as a POCO.</summary>
public sealed class TestNoteOutputs
{
    [VectorType(8)]
    public float[] Embedding { get; set; } = Array.Empty<float>();
    public string GeneratedCategory { get; set; } = "";
    public string[] GeneratedHashtags { get; set; } = Array.Empty<string>();
}

internal static class TestNotes
{
    public static List<TestNoteRow> Create(int count) => Enumerable.Range(0, count).Select(i => new TestNoteRow
    {
        Id = $"n{i}",
        Title = $"Note {i}: {Words[i % Words.Length]} and {Words[(i * 7 + 3) % Words.Length]}",
        Content = $"Content of note {i}.",
        Hashtags = Enumerable.Range(0, i % 4).Select(k => Words[(i + k) % Words.Length].ToUpperInvariant()).ToArray(),
        Category = $"c{i % 3}",
    }).ToList();

    private static readonly string[] Words = { "debian", "kernel", "apt", "systemd", "wayland", "gnome", "kde", "vim", "grub", "docker", "ssh" };

    public static List<TestNoteOutputs> Outputs(MLContext mlContext, IDataView transformed) =>
        mlContext.Data.CreateEnumerable<TestNoteOutputs>(transformed, reuseRowObject: false).ToList();

    public static void AssertEqual(IReadOnlyList<TestNoteOutputs> expected, IReadOnlyList<TestNoteOutputs> actual, float tolerance = 0f)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Embedding.Length, actual[i].Embedding.Length);
            for (int d = 0; d < expected[i].Embedding.Length; d++)
                Assert.True(Math.Abs(expected[i].Embedding[d] - actual[i].Embedding[d]) <= tolerance,
                    $"Row {i}, dimension {d}: {expected[i].Embedding[d]} vs {actual[i].Embedding[d]}");
            Assert.Equal(expected[i].GeneratedCategory, actual[i].GeneratedCategory);
            Assert.Equal(expected[i].GeneratedHashtags, actual[i].GeneratedHashtags);
        }
    }
}
