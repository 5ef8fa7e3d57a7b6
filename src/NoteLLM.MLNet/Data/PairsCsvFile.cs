using System.Globalization;
using CsvHelper;
using Microsoft.ML;

namespace NoteLLM.MLNet.Data;

/// <summary>
/// Related-note pairs as CSV (RFC 4180) with a header: <c>NoteId,RelatedNoteId</c> and an optional <c>Score</c>
/// column (1 when absent). Other columns are ignored. A <c>.gz</c> name means gzip.
/// </summary>
public static class PairsCsvFile
{
    /// <summary>Reads the pairs of <paramref name="path"/> lazily, in file order.</summary>
    /// <exception cref="InvalidDataException">
    /// The header lacks a required column or repeats one, a row breaks the quoting rules (a quote never closed would
    /// otherwise swallow the rest of the file), has an empty id, or a score that is not a finite number; the message
    /// names the file and line.
    /// </exception>
    public static IEnumerable<RelatedNotePair> Read(string path)
    {
        using var text = DataFile.OpenText(path);
        using var csv = CsvReader.Create(text, new CsvReaderOptions { Separator = ',', TrackLineNumbers = true, MalformedData = CsvMalformedDataHandling.Throw });
        Guarded(() => { csv.ReadHeader(); return true; });
        if (!csv.TryGetFieldIndex(nameof(RelatedNotePair.NoteId), out int noteColumn)
            || !csv.TryGetFieldIndex(nameof(RelatedNotePair.RelatedNoteId), out int relatedColumn))
            throw new InvalidDataException(
                $"{path} line 1: expected a header with columns NoteId,RelatedNoteId[,Score]; got '{string.Join(",", csv.Headers)}'.");
        if (csv.Headers.GroupBy(h => h).FirstOrDefault(g => g.Count() > 1 && g.Key is nameof(RelatedNotePair.NoteId) or nameof(RelatedNotePair.RelatedNoteId) or nameof(RelatedNotePair.Score)) is { } repeated)
            throw new InvalidDataException($"{path} line 1: the header names column {repeated.Key} twice; which one holds the pairs is unclear.");
        bool hasScore = csv.TryGetFieldIndex(nameof(RelatedNotePair.Score), out int scoreColumn);
        while (Guarded(csv.Read))
        {
            var noteId = csv.GetString(noteColumn);
            var relatedId = csv.GetString(relatedColumn);
            if (noteId.Length == 0 || relatedId.Length == 0)
                throw new InvalidDataException($"{path} line {csv.LineNumber}: expected non-empty NoteId and RelatedNoteId.");
            float score = 1f;
            if (hasScore && !(float.TryParse(csv.GetString(scoreColumn), NumberStyles.Float, CultureInfo.InvariantCulture, out score) && float.IsFinite(score)))
                throw new InvalidDataException(
                    $"{path} line {csv.LineNumber}: expected a finite number in column Score, got '{csv.GetString(scoreColumn)}'.");
            yield return new RelatedNotePair { NoteId = noteId, RelatedNoteId = relatedId, Score = score };
        }

        // CsvHelper's malformed-input error, with the file and line
        T Guarded<T>(Func<T> read)
        {
            try { return read(); }
            catch (CsvFormatException e) { throw new InvalidDataException($"{path} line {csv.LineNumber}: {e.Message}", e); }
        }
    }

    /// <summary>Loads the pairs of <paramref name="path"/> into an <see cref="IDataView"/> (read fully, so errors surface here).</summary>
    public static IDataView Load(MLContext mlContext, string path) =>
        mlContext.Data.LoadFromEnumerable(Read(path).ToList());

    /// <summary>Writes <paramref name="pairs"/> to <paramref name="path"/> (atomically; gzip when it ends in <c>.gz</c>).</summary>
    /// <param name="path">The file to write.</param>
    /// <param name="pairs">The pairs, in the order to write them.</param>
    /// <param name="writeScore">Whether to write the <c>Score</c> column.</param>
    public static void Write(string path, IEnumerable<RelatedNotePair> pairs, bool writeScore = true) =>
        DataFile.WriteAtomically(path, writer =>
        {
            using var csv = CsvWriter.Create(writer, null, leaveOpen: true);
            csv.WriteRecord(writeScore ? ["NoteId", "RelatedNoteId", "Score"] : ["NoteId", "RelatedNoteId"]);
            foreach (var pair in pairs)
                csv.WriteRecord(writeScore
                    ? [pair.NoteId, pair.RelatedNoteId, pair.Score.ToString("R", CultureInfo.InvariantCulture)]
                    : [pair.NoteId, pair.RelatedNoteId]);
            csv.Flush();
        });
}
