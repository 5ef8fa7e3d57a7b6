// The code of the PostgreSQL section of docs/use-in-your-app.md and of the NoteLLM.MLNet.PgVector package README,
// compiled and run by the test suite; DocsSnippetTests checks the docs show exactly this.
using NoteLLM.MLNet.Retrieval;

namespace NoteApp;

public static class RelatedNotesInPostgres
{
    public static IReadOnlyList<RelatedNote> UpsertAndFindRelated(string connectionString, IReadOnlyList<string> ids, IReadOnlyList<float[]> embeddings)
    {
        #region related-notes-in-postgres
        // One table per index, created with its pgvector HNSW index on first use; every app server opens the same one.
        using var index = PgVectorNoteIndex.Open(dimensions: embeddings[0].Length, new PgVectorNoteIndexOptions
        {
            ConnectionString = connectionString, // e.g. "Host=db;Database=notes;Username=app"
            TableName = "note_embeddings",
        });
        index.Upsert(ids, embeddings);                   // new notes added, edited ones replaced: one transaction
        var related = index.RelatedNotes(ids[0], k: 10); // best first, never the note itself
        #endregion
        return related;
    }
}
