using System.IO.Compression;
using K4os.Compression.LZ4.Streams;
using NoteLLM.DebianNotes.Builder;
using NoteLLM.MLNet.Data;

namespace NoteLLM.MLNet.Tests.Data;

/// <summary>
/// Rebuilds the Debian notes dataset from real excerpts of bookworm's <c>Packages</c> and <c>Translation-en</c>
/// (Data/Fixtures: 22 stanzas, 21 translations) and checks notes, pairs and split against what the excerpts say.
/// </summary>
public class DebianNotesBuilderTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Data", "Fixtures", name);

    private static DebianDataset BuildFixture() =>
        DebianNotesBuilder.Build(ControlFile.Read(Fixture("Packages")), ControlFile.Read(Fixture("Translation-en.xz")));

    [Fact]
    public void NotesAreTaggedTrainPackagesAndAllTestPackages()
    {
        var dataset = BuildFixture();
        var splits = dataset.Notes.ToDictionary(n => n.Id, n => n.Split);
        // Split by source package: aide and aide-common (source aide) share theirs, as do 0ad-data and 0ad-data-common.
        Assert.Equal(new Dictionary<string, string>
        {
            ["0ad"] = "train",
            ["0ad-data"] = "train",
            ["0ad-data-common"] = "train",
            ["abook"] = "test",
            ["aespipe"] = "test",
            ["age"] = "test",
            ["aide"] = "test",
            ["aide-common"] = "test",
            ["bsd-mailx"] = "test",
            ["bzip2"] = "train",
            ["figlet"] = "train",
            ["gzip"] = "train",
            ["less"] = "train",
            ["linux-doc"] = "train",
            ["mutt"] = "train",
            ["ncompress"] = "train",
            ["sharutils"] = "test",
            ["sharutils-doc"] = "test",
            ["tar"] = "train",
            ["xz-utils"] = "train",
        }, splits);
        // tar-scripts is untagged and in train: left out; age is untagged and in test: kept for the test corpus.
        Assert.Equal(1, dataset.Counts["untagged train packages left out"]);
        Assert.Empty(dataset.Notes.Single(n => n.Id == "age").Hashtags);
        // linux-doc has two stanzas (two versions); the first is kept.
        Assert.Equal(1, dataset.Counts["duplicate package stanzas skipped"]);
    }

    [Fact]
    public void NoteFieldsComeFromPackagesAndTranslations()
    {
        var notes = BuildFixture().Notes.ToDictionary(n => n.Id);
        var data = notes["0ad-data"];
        Assert.Equal("Real-time strategy game of ancient warfare (data files)", data.Title);
        Assert.StartsWith("0 A.D. (pronounced \"zero ey-dee\") is a free, open-source, cross-platform real-time strategy (RTS) game", data.Content);
        Assert.EndsWith("custom-built game engine.\nThis package contains the main data files required by 0 A.D.", data.Content);
        Assert.Equal(["role::app-data"], data.Hashtags);
        Assert.Equal("games", data.Category);
        Assert.Equal(
            ["game::strategy", "interface::graphical", "interface::x11", "role::program", "uitoolkit::sdl", "uitoolkit::wxwidgets",
             "use::gameplaying", "x11::application"], notes["0ad"].Hashtags);
        Assert.Equal("age features small explicit keys, no config options, and UNIX-style composability.", notes["age"].Content);
        // Exposure = packages that depend on, pre-depend on, recommend or suggest it (Enhances does not count).
        Assert.Equal(2, notes["0ad"].Exposure);        // suggested by 0ad-data and 0ad-data-common
        Assert.Equal(2, notes["bsd-mailx"].Exposure);  // recommended by aide-common, suggested by sharutils
        Assert.Equal(1, notes["tar"].Exposure);        // tar-scripts depends on it (left out as a note, still a referrer)
        Assert.Equal(0, notes["mutt"].Exposure);       // only enhanced by abook
    }

    [Fact]
    public void PairsLinkTaggedPackagesOfDifferentSourcesInOneSplit()
    {
        var dataset = BuildFixture();
        Assert.Equal(
            [("0ad-data", "0ad"), ("0ad-data-common", "0ad"), ("gzip", "less"), ("tar", "bzip2"), ("tar", "ncompress"), ("tar", "xz-utils")],
            dataset.TrainPairs.Select(p => (p.NoteId, p.RelatedNoteId)));
        Assert.Equal(
            [("aespipe", "sharutils"), ("aide-common", "bsd-mailx"), ("sharutils", "bsd-mailx")],
            dataset.TestPairs.Select(p => (p.NoteId, p.RelatedNoteId)));
        Assert.Equal(2, dataset.Counts["links crossing the split"]);        // aide -> figlet, abook -> mutt (Enhances)
        Assert.Equal(2, dataset.Counts["links inside one source package"]); // aide -> aide-common, sharutils -> sharutils-doc
        Assert.Equal(1, dataset.Counts["links to untagged packages"]);      // tar -> tar-scripts
    }

    [Fact]
    public void CompressedIndexFilesReadLikePlainOnes()
    {
        var directory = Directory.CreateTempSubdirectory("debian-notes-");
        try
        {
            var plain = File.ReadAllBytes(Fixture("Packages"));
            var gz = Path.Combine(directory.FullName, "Packages.gz");
            using (var stream = new GZipStream(File.Create(gz), CompressionLevel.Fastest)) stream.Write(plain);
            var lz4 = Path.Combine(directory.FullName, "Packages.lz4");
            using (var stream = LZ4Stream.Encode(File.Create(lz4))) stream.Write(plain);

            List<string> Describe(string path) => ControlFile.Read(path).Select(p => $"{p.Line} {p["Package"]} {p["Tag"]} {p["SHA256"]}").ToList();
            var expected = Describe(Fixture("Packages"));
            Assert.Equal(22, expected.Count);
            Assert.Equal(expected, Describe(gz));
            Assert.Equal(expected, Describe(lz4));
            // The committed .xz translations match the plain ones.
            Assert.Equal(
                ControlFile.Read(Fixture("Translation-en")).Select(p => p["Description-en"]),
                ControlFile.Read(Fixture("Translation-en.xz")).Select(p => p["Description-en"]));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void MalformedControlLinesNameTheLine()
    {
        var error = Assert.Throws<InvalidDataException>(() =>
            ControlFile.Read(new StringReader("Package: a\nTag: x\n\nno colon here\n"), "Packages").ToList());
        Assert.Equal("Packages line 4: expected 'Field: value', got 'no colon here'.", error.Message);
    }

    [Fact]
    public void RelationTargetsKeepEveryAlternativeWithoutQualifiers()
    {
        Assert.Equal(["a", "b", "c", "d"], DebianNotesBuilder.RelationTargets("a (>= 1.0) | b:any, c [amd64],\n d <!nocheck>"));
    }

    [Fact]
    public void LongDescriptionsKeepParagraphsAndVerbatimLines()
    {
        Assert.Equal("One two.\nThree\n  * verbatim\nFour.",
            DebianNotesBuilder.LongDescription("short\n One\n two.\n .\n Three\n   * verbatim\n Four."));
    }
}
