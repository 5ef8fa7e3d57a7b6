using NoteApp;
using NoteLLM.MLNet.Retrieval;
using NoteLLM.MLNet.Tests.TestSupport;
using static NoteLLM.MLNet.Tests.Retrieval.IndexTestData;

namespace NoteLLM.MLNet.Tests.Docs;

/// <summary>The PostgreSQL code of the docs (<see cref="RelatedNotesInPostgres"/>) finds what the in-process index finds.</summary>
[Collection(PostgresCollection.Name)]
public sealed class RelatedNotesInPostgresTests(PostgresServer server)
{
    [Fact]
    public void TheDocsCodeFindsTheRelatedNotesOfTheInProcessIndex()
    {
        var vectors = RandomUnitVectors(300, 16, seed: 31);
        var ids = Ids(300);
        using var inProcess = new NoteIndex(16);
        inProcess.Add(ids, vectors);
        try
        {
            var related = RelatedNotesInPostgres.UpsertAndFindRelated(server.ConnectionString, ids, vectors);
            // twice: the second run replaces the stored notes instead of failing on their ids
            var again = RelatedNotesInPostgres.UpsertAndFindRelated(server.ConnectionString, ids, vectors);

            AssertSameResults(inProcess.RelatedNotes(ids[0], 10), related);
            AssertSameResults(related, again);
            Assert.Equal(300L, server.Scalar("SELECT count(*) FROM note_embeddings"));
        }
        finally
        {
            server.Scalar("DROP TABLE IF EXISTS note_embeddings");
        }
    }
}
