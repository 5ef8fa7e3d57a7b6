using NoteLLM.MLNet.Data;
using NoteLLM.MLNet.Prompting;
using NoteLLM.MLNet.Training;

namespace NoteLLM.MLNet.Benchmarks.Results;

/// <summary>
/// The Debian notes dataset as the results table uses it: training pairs joined with their notes, every test-split
/// note as the retrieval corpus, the test pairs, the exposure split and the sample of tagged test notes whose
/// category and hashtags are generated.
/// </summary>
internal sealed class ResultsDataset
{
    public required string Directory { get; init; }
    public required IReadOnlyList<NoteRecord> TrainNotes { get; init; }
    public required IReadOnlyList<NoteRecord> TestNotes { get; init; }
    public required IReadOnlyList<NotePair> TrainPairs { get; init; }
    /// <summary>Training pairs naming a note that is not a train-split note of the file (left out).</summary>
    public required int TrainPairsWithUnknownNote { get; init; }
    public required IReadOnlyList<(string Id, string RelatedId)> TestPairs { get; init; }
    /// <summary>Median exposure of the test notes: a query note is "high exposure" when its exposure is at least this.</summary>
    public required int ExposureMedian { get; init; }
    /// <summary>Evenly spaced test notes with hashtags and a category (file order), for the generation metrics.</summary>
    public required IReadOnlyList<NoteRecord> GenerationSample { get; init; }
    /// <summary>Test notes with hashtags and a category, the population <see cref="GenerationSample"/> is drawn from.</summary>
    public required int TaggedTestNotes { get; init; }
    /// <summary>The categories of the train notes: a generated category outside them is illegal.</summary>
    public required IReadOnlyCollection<string> LegalCategories { get; init; }

    /// <exception cref="InvalidDataException">A file is malformed or a note has a split other than train/test; the message names it.</exception>
    public static ResultsDataset Load(string directory, int generationNotes)
    {
        string File(string name)
        {
            var path = Path.Combine(directory, name);
            return System.IO.File.Exists(path) ? path : throw new FileNotFoundException($"the results benchmark needs {path} (see data/debian-notes/README.md)", path);
        }

        var notes = NotesJsonlFile.Read(File("notes.jsonl.gz")).ToList();
        var other = notes.FirstOrDefault(n => n.Split is not ("train" or "test"));
        if (other is not null)
            throw new InvalidDataException($"{directory}/notes.jsonl.gz: note '{other.Id}' has split '{other.Split}', expected 'train' or 'test'.");
        var train = notes.Where(n => n.Split == "train").ToList();
        var test = notes.Where(n => n.Split == "test").ToList();

        var trainById = train.ToDictionary(n => n.Id, StringComparer.Ordinal);
        var trainPairs = new List<NotePair>();
        int unknown = 0;
        foreach (var pair in PairsCsvFile.Read(File("train-pairs.csv.gz")))
        {
            if (trainById.TryGetValue(pair.NoteId, out var a) && trainById.TryGetValue(pair.RelatedNoteId, out var b))
                trainPairs.Add(new NotePair(a.Id, ToText(a), b.Id, ToText(b)));
            else unknown++;
        }
        var testPairs = PairsCsvFile.Read(File("test-pairs.csv.gz")).Select(p => (p.NoteId, p.RelatedNoteId)).ToList();

        var exposures = test.Select(n => n.Exposure).Order().ToList();
        int median = exposures.Count == 0 ? 0 : exposures[exposures.Count / 2];
        var tagged = test.Where(n => n.Hashtags.Length > 0 && n.Category.Length > 0).ToList();
        int take = Math.Min(generationNotes, tagged.Count);
        var sample = Enumerable.Range(0, take).Select(i => tagged[(int)((long)i * tagged.Count / take)]).ToList();
        return new ResultsDataset
        {
            Directory = directory,
            TrainNotes = train,
            TestNotes = test,
            TrainPairs = trainPairs,
            TrainPairsWithUnknownNote = unknown,
            TestPairs = testPairs,
            ExposureMedian = median,
            GenerationSample = sample,
            TaggedTestNotes = tagged.Count,
            LegalCategories = train.Select(n => n.Category).Where(c => c.Length > 0).ToHashSet(StringComparer.Ordinal),
        };
    }

    /// <summary>A note as NoteLLM sees it.</summary>
    public static NoteText ToText(NoteRecord note) => NoteText.Of(note.Title, note.Content, note.Hashtags, note.Category);

    /// <summary>
    /// A note as the baselines see it: the fields of NoteLLM's embedding prompt (title, hashtags, content) as plain text.
    /// </summary>
    public static string BaselineText(NoteRecord note) => $"{note.Title}\n{string.Join(" ", note.Hashtags)}\n{note.Content}";
}
