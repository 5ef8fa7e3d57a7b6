using NoteLLM.MLNet.Data;

namespace NoteLLM.QuickStart;

/// <summary>An error the person running the sample can fix; printed as one line, without a stack trace.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>The Debian notes dataset (data/debian-notes-subset or data/debian-notes): notes with their split and the related pairs.</summary>
public sealed class DebianNotes
{
    public const string DefaultFolder = "data/debian-notes-subset";
    private const string NotesFile = "notes.jsonl.gz", TrainPairsFile = "train-pairs.csv.gz", TestPairsFile = "test-pairs.csv.gz";

    public required string Folder { get; init; }
    public required IReadOnlyList<NoteRecord> Notes { get; init; }
    public required IReadOnlyList<RelatedNotePair> TrainPairs { get; init; }
    public required IReadOnlyList<RelatedNotePair> TestPairs { get; init; }
    public IEnumerable<NoteRecord> TrainNotes => Notes.Where(n => n.Split == "train");
    public IEnumerable<NoteRecord> TestNotes => Notes.Where(n => n.Split == "test");

    /// <summary>
    /// The dataset folder: <paramref name="requested"/> as given (relative to the current directory), else the bundled
    /// subset found by walking up from the current directory and from the app's own folder (so it works from any
    /// directory inside the repository, and for the built app).
    /// </summary>
    public static string Locate(string? requested)
    {
        if (requested is not null)
        {
            string full = Path.GetFullPath(requested);
            if (!Directory.Exists(full))
                throw new UsageException($"Data folder '{full}' does not exist: pass --data <folder> with {NotesFile}, {TrainPairsFile} and {TestPairsFile} (for example data/debian-notes).");
            return full;
        }
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, DefaultFolder);
                if (Directory.Exists(candidate)) return candidate;
            }
        throw new UsageException($"Could not find {DefaultFolder} above '{Directory.GetCurrentDirectory()}' or the app's folder: run from inside the NoteLLM.MLNet repository or pass --data <folder>.");
    }

    /// <summary>
    /// Reads the notes and both pair files of <paramref name="folder"/>; with <paramref name="trainPairSample"/> &gt; 0,
    /// keeps that many training pairs drawn at random (seeded: the same pairs every run; the file is sorted by note).
    /// </summary>
    public static DebianNotes Load(string folder, int trainPairSample = 0)
    {
        string File(string name)
        {
            string path = Path.Combine(folder, name);
            if (!System.IO.File.Exists(path))
                throw new UsageException($"Data folder '{folder}' has no {name}: a dataset folder needs {NotesFile}, {TrainPairsFile} and {TestPairsFile} (see data/debian-notes/README.md).");
            return path;
        }
        string notes = File(NotesFile), train = File(TrainPairsFile), test = File(TestPairsFile);
        var trainPairs = PairsCsvFile.Read(train).ToList();
        if (trainPairSample > 0 && trainPairSample < trainPairs.Count)
        {
            var random = new Random(7);
            trainPairs = trainPairs.Select(p => (Key: random.Next(), Pair: p)).OrderBy(x => x.Key).Take(trainPairSample).Select(x => x.Pair).ToList();
        }
        return new DebianNotes
        {
            Folder = folder,
            Notes = NotesJsonlFile.Read(notes).ToList(),
            TrainPairs = trainPairs,
            TestPairs = PairsCsvFile.Read(test).ToList(),
        };
    }
}
