using System.Globalization;
using NoteLLM.MLNet.Retrieval;
using NoteLLM.MLNet.Tests.TestSupport;
using static NoteLLM.MLNet.Tests.Retrieval.IndexTestData;

namespace NoteLLM.MLNet.Tests.Packaging;

/// <summary>
/// The packed NoteLLM.MLNet.PgVector as a user's app takes it: a fresh console app outside the repository references
/// that package alone (NoteLLM.MLNet, Npgsql and Pgvector come with it), compiles the package README's code
/// (Docs/RelatedNotesInPostgres.cs) and runs it against the test server, finding the related notes the in-process index
/// finds. Its manifest asks for NoteLLM.MLNet of the same version and minimum versions of the rest.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PgVectorConsumerProjectTests(PostgresServer server, PackageFixture package) : IClassFixture<PackageFixture>
{
    private const string PackageId = "NoteLLM.MLNet.PgVector";
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    private const string Program = """
        using System.Globalization;
        using NoteApp;

        // args: connection string, a file of notes, one per line: id, then the embedding's values
        var lines = File.ReadAllLines(args[1]).Select(l => l.Split(' ')).ToList();
        var related = RelatedNotesInPostgres.UpsertAndFindRelated(args[0], lines.Select(l => l[0]).ToList(),
            lines.Select(l => l.Skip(1).Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToList());
        foreach (var note in related) Console.WriteLine($"{note.Id} {note.Score.ToString("R", CultureInfo.InvariantCulture)}");
        """;

    [Fact]
    public void AppReferencingOnlyThePgVectorPackageRunsTheReadmeCode()
    {
        var vectors = RandomUnitVectors(200, 16, seed: 41);
        var ids = Ids(200);
        using var inProcess = new NoteIndex(16);
        inProcess.Add(ids, vectors);
        using var consumer = package.CreateConsumer(Program, PackageId);
        File.Copy(Path.Combine(package.Root, "tests/NoteLLM.MLNet.Tests/Docs/RelatedNotesInPostgres.cs"), consumer.File("RelatedNotesInPostgres.cs"));
        File.WriteAllLines(consumer.File("notes.txt"), ids.Zip(vectors, (id, v) => id + " " + string.Join(' ', v.Select(x => x.ToString("R", CultureInfo.InvariantCulture)))));

        var (buildExit, build) = DotnetCli.Run(consumer.Path, Timeout, "build", "-c", "Release");
        Assert.True(buildExit == 0, $"the consumer did not build ({buildExit}):\n{build}");
        try
        {
            var (runExit, run) = DotnetCli.Run(consumer.Path, Timeout, "run", "--no-build", "-c", "Release", "--", server.ConnectionString, "notes.txt");
            Assert.True(runExit == 0, $"the consumer failed ({runExit}):\n{run}");
            var found = run.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(l => l.Split(' '))
                .Select(p => new RelatedNote(p[0], float.Parse(p[1], CultureInfo.InvariantCulture))).ToList();
            AssertSameResults(inProcess.RelatedNotes(ids[0], 10), found);
        }
        finally
        {
            server.Scalar("DROP TABLE IF EXISTS note_embeddings");
        }
    }

    [Fact]
    public void ManifestDependsOnTheSameNoteLLMAndMinimumVersionsOfNpgsqlAndPgvector()
    {
        var metadata = package.NuspecOf(PackageId).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
        Assert.Equal(PackageId, metadata.Elements().Single(e => e.Name.LocalName == "id").Value);
        Assert.Equal("README.md", metadata.Elements().Single(e => e.Name.LocalName == "readme").Value);
        Assert.Contains("README.md", package.EntriesOf(PackageId));
        Assert.Contains($"lib/net8.0/{PackageId}.dll", package.EntriesOf(PackageId));
        var dependencies = metadata.Descendants().Where(e => e.Name.LocalName == "dependency")
            .ToDictionary(e => e.Attribute("id")!.Value, e => e.Attribute("version")!.Value);
        Assert.Equal(package.Version, dependencies["NoteLLM.MLNet"]);
        foreach (string id in new[] { "Npgsql", "Pgvector" })
            Assert.Equal(package.PinnedVersion(id), dependencies[id]); // a bare version is NuGet's ">= version"
    }
}
