using Microsoft.ML;

namespace NoteLLM.MLNet.Tests.DataViews;

/// <summary>
/// A separate process (tests/NoteLLM.MLNet.ModelLoadCheck, which names no NoteLLM type) loads a saved zip with plain
/// mlContext.Model.Load and reproduces the saving process's outputs (see <see cref="ModelLoadCheckRunner"/>; the same
/// check applies to the library's NoteLLM transformer by saving its zip instead).
/// </summary>
public sealed class CrossProcessLoadTests : IDisposable
{
    private readonly MLContext mlContext = new(seed: 1);
    private readonly string directory = Directory.CreateTempSubdirectory("mlnet-crossprocess-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void AnotherProcessLoadsTheZipAndReproducesTheOutputs()
    {
        var notes = TestNotes.Create(20);
        var data = mlContext.Data.LoadFromEnumerable(notes);
        var chain = mlContext.Transforms.Text.NormalizeText("Title")
            .Append(new HashedNgramEstimator(mlContext, new HashedNgramOptions { BatchSize = 8 }))
            .Append(mlContext.Transforms.NormalizeLpNorm("Embedding"))
            .Fit(data);
        var expected = TestNotes.Outputs(mlContext, chain.Transform(data));
        string modelPath = Path.Combine(directory, "model.zip");
        mlContext.Model.Save(chain, data.Schema, modelPath);
        string notesPath = Path.Combine(directory, "notes.jsonl");
        ModelLoadCheckRunner.WriteNotes(notesPath, notes);

        var (exitCode, stdout, stderr) = ModelLoadCheckRunner.Run(modelPath, notesPath);
        Assert.True(exitCode == 0, $"ModelLoadCheck exited with {exitCode}: {stderr}");
        var rows = ModelLoadCheckRunner.ParseRows(stdout);
        var actual = rows.Select(r => new TestNoteOutputs
        {
            Embedding = r["Embedding"]!.AsArray().Select(v => v!.GetValue<float>()).ToArray(),
            GeneratedCategory = r["GeneratedCategory"]!.GetValue<string>(),
            GeneratedHashtags = r["GeneratedHashtags"]!.AsArray().Select(v => v!.GetValue<string>()).ToArray(),
        }).ToList();
        TestNotes.AssertEqual(expected, actual, tolerance: 1e-5f);
        Assert.Equal(notes.Select(n => n.Id), rows.Select(r => r["Id"]!.GetValue<string>()));
    }

    [Fact]
    public void AnotherProcessReportsADamagedZip()
    {
        string modelPath = Path.Combine(directory, "damaged.zip");
        File.WriteAllBytes(modelPath, new byte[] { 0x50, 0x4B, 0x03, 0x04, 1, 2, 3 });
        string notesPath = Path.Combine(directory, "notes.json");
        File.WriteAllText(notesPath, "[{\"Id\":\"a\",\"Title\":\"t\",\"Content\":\"c\",\"Hashtags\":[],\"Category\":\"x\"}]");
        var (exitCode, _, stderr) = ModelLoadCheckRunner.Run(modelPath, notesPath);
        Assert.Equal(1, exitCode);
        Assert.Contains("Failed to open a zip archive", stderr);
    }
}
