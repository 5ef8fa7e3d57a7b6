using Microsoft.ML;
using Microsoft.ML.Data;
using NoteLLM.MLNet.Data;

namespace NoteLLM.MLNet.Tests.Data;

public sealed class NoteFilesTests : IDisposable
{
    private readonly DirectoryInfo directory = Directory.CreateTempSubdirectory("note-files-");
    private readonly MLContext ml = new(seed: 1);

    public void Dispose() => directory.Delete(recursive: true);

    private string PathOf(string name) => Path.Combine(directory.FullName, name);

    private static readonly NoteRecord[] Notes =
    [
        new() { Id = "a", Title = "Vim", Content = "An editor.\nWith \"quotes\", commas and ünïcode.", Hashtags = ["use::editing", "works-with::text"], Category = "editors", Exposure = 58, Split = "train" },
        new() { Id = "b", Title = "Emacs", Content = "Another editor.", Hashtags = [], Category = "editors", Exposure = 3, Split = "test" },
        new() { Id = "c,d", Title = "Comma id", Content = "", Hashtags = ["x"], Category = "misc" },
    ];

    [Theory]
    [InlineData("notes.jsonl")]
    [InlineData("notes.jsonl.gz")]
    public void NotesRoundTripThroughJsonl(string name)
    {
        NotesJsonlFile.Write(PathOf(name), Notes);
        var read = NotesJsonlFile.Read(PathOf(name)).ToList();
        Assert.Equal(Notes.Select(Describe), read.Select(Describe));
        Assert.Single(directory.GetFiles());   // no temporary file left behind
    }

    private static string Describe(NoteRecord n) => $"{n.Id}|{n.Title}|{n.Content}|{string.Join(";", n.Hashtags)}|{n.Category}|{n.Exposure}|{n.Split}";

    [Fact]
    public void WriteRefusesNotesReadWouldRefuseAndWritesNothing()
    {
        NotesJsonlFile.Write(PathOf("notes.jsonl"), Notes);
        var before = File.ReadAllBytes(PathOf("notes.jsonl"));
        foreach (var (bad, message) in new (NoteRecord?, string)[]
        {
            (null, "note 3 is null"),
            (new NoteRecord { Id = "" }, "note 3 has no id"),
            (new NoteRecord { Id = "d", Hashtags = ["x", null!] }, "note 3 ('d') has a null hashtag"),
        })
        {
            var error = Assert.Throws<ArgumentException>(() => NotesJsonlFile.Write(PathOf("notes.jsonl"), [.. Notes, bad!]));
            Assert.StartsWith(message, error.Message);
            Assert.Equal(before, File.ReadAllBytes(PathOf("notes.jsonl"))); // the earlier file stands
            Assert.Single(directory.GetFiles());
        }
    }

    [Fact]
    public void NotesLoadAsAnIDataViewWithTheSharedColumnTypes()
    {
        NotesJsonlFile.Write(PathOf("notes.jsonl"), Notes);
        var view = NotesJsonlFile.Load(ml, PathOf("notes.jsonl"));
        Assert.Equal(TextDataViewType.Instance, view.Schema["Id"].Type);
        var hashtags = Assert.IsType<VectorDataViewType>(view.Schema["Hashtags"].Type);
        Assert.Equal(TextDataViewType.Instance, hashtags.ItemType);
        Assert.Equal(3, ml.Data.CreateEnumerable<NoteRecord>(view, false).Count());
    }

    [Theory]
    [InlineData("{\"id\":\"a\"}\n{\"title\":\"no id\"}\n", 2, "\"id\" field is missing")]
    [InlineData("{\"id\":\"a\"}\n\n{\"id\":\"b\",\"hashtags\":\"not an array\"}\n", 3, "hashtags")]
    [InlineData("{\"id\":\"a\",\"exposure\":\"high\"}\n", 1, "exposure")]
    [InlineData("not json\n", 1, "expected a JSON object")]
    public void BadNoteLinesNameFileAndLine(string text, int line, string detail)
    {
        File.WriteAllText(PathOf("bad.jsonl"), text);
        var error = Assert.Throws<InvalidDataException>(() => NotesJsonlFile.Read(PathOf("bad.jsonl")).ToList());
        Assert.StartsWith($"{PathOf("bad.jsonl")} line {line}: expected a JSON object", error.Message);
        Assert.Contains(detail, error.Message);
    }

    [Theory]
    [InlineData("pairs.csv")]
    [InlineData("pairs.csv.gz")]
    public void PairsRoundTripThroughCsv(string name)
    {
        RelatedNotePair[] pairs = [new() { NoteId = "a", RelatedNoteId = "c,d", Score = 0.25f }, new() { NoteId = "b", RelatedNoteId = "a \"q\"", Score = 7f / 6 }];
        PairsCsvFile.Write(PathOf(name), pairs);
        var read = PairsCsvFile.Read(PathOf(name)).ToList();
        Assert.Equal(pairs.Select(p => (p.NoteId, p.RelatedNoteId, p.Score)), read.Select(p => (p.NoteId, p.RelatedNoteId, p.Score)));
    }

    [Fact]
    public void PairsWithoutScoreColumnScoreOne()
    {
        File.WriteAllText(PathOf("pairs.csv"), "RelatedNoteId,NoteId,Relation\nb,a,Suggests\n");
        var pair = Assert.Single(PairsCsvFile.Read(PathOf("pairs.csv")));
        Assert.Equal(("a", "b", 1f), (pair.NoteId, pair.RelatedNoteId, pair.Score));
    }

    [Theory]
    [InlineData("Note,Related\na,b\n", "line 1: expected a header with columns NoteId,RelatedNoteId[,Score]")]
    [InlineData("NoteId,RelatedNoteId\na,b\n\nc,\n", "line 4: expected non-empty NoteId and RelatedNoteId")]
    [InlineData("NoteId,RelatedNoteId,Score\na,b,1\na,c,high\n", "line 3: expected a finite number in column Score, got 'high'")]
    // these were read: a NaN or infinite score, a repeated column (the first one won), and a quote never closed, which
    // made the rest of the file one id
    [InlineData("NoteId,RelatedNoteId,Score\na,b,NaN\n", "line 2: expected a finite number in column Score, got 'NaN'")]
    [InlineData("NoteId,RelatedNoteId,Score\na,b,1e99\n", "line 2: expected a finite number in column Score, got '1e99'")]
    [InlineData("NoteId,RelatedNoteId,NoteId\na,b,c\n", "line 1: the header names column NoteId twice")]
    [InlineData("NoteId,RelatedNoteId\na,\"b\nc,d\ne,f\n", "line 2: Malformed")]
    public void BadPairLinesNameFileAndLine(string text, string expected)
    {
        File.WriteAllText(PathOf("bad.csv"), text);
        var error = Assert.Throws<InvalidDataException>(() => PairsCsvFile.Read(PathOf("bad.csv")).ToList());
        Assert.StartsWith($"{PathOf("bad.csv")} {expected}", error.Message);
    }

    private static readonly RelatedNotePair[] Pairs =
    [
        new() { NoteId = "a", RelatedNoteId = "b" },
        new() { NoteId = "a", RelatedNoteId = "zz" },
        new() { NoteId = "b", RelatedNoteId = "c,d" },
    ];

    [Fact]
    public void JoinBuildsFitRowsAndCountsUnknownNotes()
    {
        var result = RelatedPairJoin.Join(ml, ml.Data.LoadFromEnumerable(Notes), ml.Data.LoadFromEnumerable(Pairs));
        Assert.Equal((3, 2, 1), (result.PairsRead, result.PairsJoined, result.PairsWithUnknownNote));
        Assert.Equal(["zz"], result.UnknownNoteIdExamples);
        var rows = ml.Data.CreateEnumerable<RelatedPairRow>(result.Rows, false).ToList();
        Assert.Equal(("a", "Vim", "b", "Emacs"), (rows[0].Id, rows[0].Title, rows[0].RelatedId, rows[0].RelatedTitle));
        Assert.Equal(["use::editing", "works-with::text"], rows[0].Hashtags);
        Assert.Equal(("editors", "editors"), (rows[0].Category, rows[0].RelatedCategory));
        Assert.Equal(("b", "c,d", "Comma id", "misc"), (rows[1].Id, rows[1].RelatedId, rows[1].RelatedTitle, rows[1].RelatedCategory));
        Assert.Equal(["x"], rows[1].RelatedHashtags);
        Assert.Equal(["Id", "Title", "Content", "Hashtags", "Category", "RelatedId", "RelatedTitle", "RelatedContent", "RelatedHashtags", "RelatedCategory"],
            result.Rows.Schema.Select(c => c.Name));
    }

    // What a text loader gives for a notes file: Exposure as Single and Split as Boolean, where NoteRecord has an int
    // and a string; a pairs file's Score as Double. The join reads none of them.
    private sealed class LoadedNote
    {
        public string Id { get; set; } = "";
        public string Title { get; set; } = "";
        public string Content { get; set; } = "";
        public string[] Hashtags { get; set; } = [];
        public string Category { get; set; } = "";
        public float Exposure { get; set; }
        public bool Split { get; set; }
    }

    private sealed class LoadedPair
    {
        public string NoteId { get; set; } = "";
        public string RelatedNoteId { get; set; } = "";
        public double Score { get; set; }
    }

    [Fact]
    public void JoinIgnoresOtherColumnsWhateverTheirTypes()
    {
        var notes = Notes.Select(n => new LoadedNote { Id = n.Id, Title = n.Title, Content = n.Content, Hashtags = n.Hashtags, Category = n.Category, Exposure = 2.5f, Split = true });
        var pairs = Pairs.Select(p => new LoadedPair { NoteId = p.NoteId, RelatedNoteId = p.RelatedNoteId, Score = 0.5 });

        var result = RelatedPairJoin.Join(ml, ml.Data.LoadFromEnumerable(notes), ml.Data.LoadFromEnumerable(pairs));

        var expected = RelatedPairJoin.Join(ml, Notes, Pairs);
        Assert.Equal((expected.PairsRead, expected.PairsJoined), (result.PairsRead, result.PairsJoined));
        Assert.Equal(ml.Data.CreateEnumerable<RelatedPairRow>(expected.Rows, false).Select(r => (r.Id, r.RelatedId, r.RelatedTitle)),
            ml.Data.CreateEnumerable<RelatedPairRow>(result.Rows, false).Select(r => (r.Id, r.RelatedId, r.RelatedTitle)));
    }

    [Fact]
    public void JoinCanRefuseUnknownNotesAndDuplicateIds()
    {
        var unknown = Assert.Throws<InvalidDataException>(() => RelatedPairJoin.Join(ml, Notes, Pairs, UnknownNoteHandling.Throw));
        Assert.Equal("Pair 2 (a -> zz) names note 'zz', which is not among the notes.", unknown.Message);
        var duplicate = Assert.Throws<InvalidDataException>(() => RelatedPairJoin.Join(ml, [.. Notes, Notes[0]], Pairs));
        Assert.Contains("'a' appears more than once", duplicate.Message);
        var missing = Assert.Throws<ArgumentException>(() =>
            RelatedPairJoin.Join(ml, ml.Data.LoadFromEnumerable(Pairs), ml.Data.LoadFromEnumerable(Pairs)));
        Assert.StartsWith("The notes lack column(s) Id, Title, Content, Hashtags, Category", missing.Message);
    }
}
