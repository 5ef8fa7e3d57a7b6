using System.IO.Hashing;
using System.Text;
using NoteLLM.MLNet.Data;

namespace NoteLLM.DebianNotes.Builder;

/// <summary>The files of a dataset directory: <c>notes.jsonl.gz</c>, <c>train-pairs.csv.gz</c>, <c>test-pairs.csv.gz</c>.</summary>
internal static class DatasetFiles
{
    public const string Notes = "notes.jsonl.gz", TrainPairs = "train-pairs.csv.gz", TestPairs = "test-pairs.csv.gz";

    public static void Write(string directory, DebianDataset dataset)
    {
        NotesJsonlFile.Write(Path.Combine(directory, Notes), dataset.Notes);
        PairsCsvFile.Write(Path.Combine(directory, TrainPairs), dataset.TrainPairs, writeScore: false);
        PairsCsvFile.Write(Path.Combine(directory, TestPairs), dataset.TestPairs, writeScore: false);
    }

    public static DebianDataset Read(string directory) => new()
    {
        Notes = NotesJsonlFile.Read(Path.Combine(directory, Notes)).ToList(),
        TrainPairs = PairsCsvFile.Read(Path.Combine(directory, TrainPairs)).ToList(),
        TestPairs = PairsCsvFile.Read(Path.Combine(directory, TestPairs)).ToList(),
        Counts = [],
    };

    /// <summary>
    /// A quick-start subset of about <paramref name="noteCount"/> notes that keeps pairs whole: train pairs (in a
    /// stable hash order) until their notes reach 80% of the budget, test pairs until 10% more, then other test
    /// notes (the retrieval corpus' distractors) up to the budget. Every pair between two chosen notes is kept.
    /// </summary>
    public static DebianDataset Subset(DebianDataset full, int noteCount)
    {
        var chosen = new HashSet<string>(StringComparer.Ordinal);
        static ulong Order(string s) => XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(s));
        void TakePairs(IEnumerable<RelatedNotePair> pairs, int budget)
        {
            foreach (var pair in pairs.OrderBy(p => Order(p.NoteId + "\n" + p.RelatedNoteId)))
            {
                if (chosen.Count + 2 > budget) break;
                chosen.Add(pair.NoteId);
                chosen.Add(pair.RelatedNoteId);
            }
        }
        TakePairs(full.TrainPairs, noteCount * 8 / 10);
        TakePairs(full.TestPairs, noteCount * 9 / 10);
        foreach (var note in full.Notes.Where(n => n.Split == DebianNotesBuilder.Test).OrderBy(n => Order(n.Id)))
        {
            if (chosen.Count >= noteCount) break;
            chosen.Add(note.Id);
        }
        return new DebianDataset
        {
            Notes = full.Notes.Where(n => chosen.Contains(n.Id)).ToList(),
            TrainPairs = full.TrainPairs.Where(p => chosen.Contains(p.NoteId) && chosen.Contains(p.RelatedNoteId)).ToList(),
            TestPairs = full.TestPairs.Where(p => chosen.Contains(p.NoteId) && chosen.Contains(p.RelatedNoteId)).ToList(),
            Counts = [],
        };
    }
}
