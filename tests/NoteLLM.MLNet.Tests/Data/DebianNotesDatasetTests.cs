using NoteLLM.DebianNotes.Builder;

namespace NoteLLM.MLNet.Tests.Data;

/// <summary>The committed dataset (data/debian-notes and its quick-start subset) matches its README.</summary>
public class DebianNotesDatasetTests
{
    private static string RepositoryPath(params string[] parts)
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory != null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "NoteLLM.MLNet.sln")))
                return Path.Combine([directory.FullName, .. parts]);
        throw new DirectoryNotFoundException("NoteLLM.MLNet.sln not found above " + AppContext.BaseDirectory);
    }

    [Theory]
    [InlineData("debian-notes")]
    [InlineData("debian-notes-subset")]
    public void ReadmeStatisticsMatchTheCommittedFiles(string name)
    {
        var directory = RepositoryPath("data", name);
        var dataset = DatasetFiles.Read(directory);
        var expected = DatasetStatistics.Markdown(dataset.Notes, dataset.TrainPairs, dataset.TestPairs);
        Assert.Equal(expected, DatasetStatistics.ReadBlock(File.ReadAllText(Path.Combine(directory, "README.md"))));
    }

    [Theory]
    [InlineData("debian-notes")]
    [InlineData("debian-notes-subset")]
    public void PairsStayInsideTheirSplitAndNameKnownTaggedNotes(string name)
    {
        var dataset = DatasetFiles.Read(RepositoryPath("data", name));
        var notes = dataset.Notes.ToDictionary(n => n.Id);
        foreach (var (split, pairs) in new[] { ("train", dataset.TrainPairs), ("test", dataset.TestPairs) })
            foreach (var pair in pairs)
            {
                Assert.Equal(split, notes[pair.NoteId].Split);
                Assert.Equal(split, notes[pair.RelatedNoteId].Split);
                Assert.NotEmpty(notes[pair.NoteId].Hashtags);
                Assert.NotEmpty(notes[pair.RelatedNoteId].Hashtags);
            }
        Assert.All(dataset.Notes.Where(n => n.Split == "train"), n => Assert.NotEmpty(n.Hashtags));
    }
}
