using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.ML;

namespace NoteLLM.MLNet.Tests.MLNet;

/// <summary>
/// A separate process (tests/NoteLLM.MLNet.ModelLoadCheck, which names no NoteLLM type) loads a saved zip with plain
/// mlContext.Model.Load and reproduces the saving process's outputs. The app runs with this test assembly's
/// dependency context so that ML.NET can resolve the loader recorded in the zip (the test transformer lives in this
/// assembly; for the library's own transformer, the app's own dependencies suffice).
/// </summary>
public sealed class CrossProcessLoadTests : IDisposable
{
    private readonly MLContext _mlContext = new(seed: 1);
    private readonly string _directory = Directory.CreateTempSubdirectory("mlnet-crossprocess-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void AnotherProcessLoadsTheZipAndReproducesTheOutputs()
    {
        var notes = TestNotes.Create(20);
        var data = _mlContext.Data.LoadFromEnumerable(notes);
        var chain = _mlContext.Transforms.Text.NormalizeText("Title")
            .Append(new HashedNgramEstimator(_mlContext, new HashedNgramOptions { BatchSize = 8 }))
            .Append(_mlContext.Transforms.NormalizeLpNorm("Embedding"))
            .Fit(data);
        var expected = TestNotes.Outputs(_mlContext, chain.Transform(data));
        string modelPath = Path.Combine(_directory, "model.zip");
        _mlContext.Model.Save(chain, data.Schema, modelPath);
        string notesPath = Path.Combine(_directory, "notes.jsonl");
        // Half the notes give Hashtags as a delimited string, as a hand-written notes file might.
        File.WriteAllLines(notesPath, notes.Select((n, i) => new JsonObject
        {
            ["Id"] = n.Id,
            ["Title"] = n.Title,
            ["Content"] = n.Content,
            ["Hashtags"] = i % 2 == 0 ? new JsonArray(n.Hashtags.Select(h => (JsonNode)h!).ToArray()) : string.Join(", ", n.Hashtags),
            ["Category"] = n.Category,
        }.ToJsonString()));

        var (exitCode, stdout, stderr) = RunModelLoadCheck(modelPath, notesPath);
        Assert.True(exitCode == 0, $"ModelLoadCheck exited with {exitCode}: {stderr}");
        var rows = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        var actual = rows.Select(r => new NoteOutputs
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
        string modelPath = Path.Combine(_directory, "damaged.zip");
        File.WriteAllBytes(modelPath, new byte[] { 0x50, 0x4B, 0x03, 0x04, 1, 2, 3 });
        string notesPath = Path.Combine(_directory, "notes.json");
        File.WriteAllText(notesPath, "[{\"Id\":\"a\",\"Title\":\"t\",\"Content\":\"c\",\"Hashtags\":[],\"Category\":\"x\"}]");
        var (exitCode, _, stderr) = RunModelLoadCheck(modelPath, notesPath);
        Assert.Equal(1, exitCode);
        Assert.Contains("Failed to open a zip archive", stderr);
    }

    private static (int ExitCode, string Stdout, string Stderr) RunModelLoadCheck(string modelPath, string notesPath)
    {
        string baseDirectory = AppContext.BaseDirectory;
        string testAssembly = typeof(CrossProcessLoadTests).Assembly.GetName().Name!;
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[]
        {
            "exec",
            "--depsfile", Path.Combine(baseDirectory, testAssembly + ".deps.json"),
            "--runtimeconfig", Path.Combine(baseDirectory, testAssembly + ".runtimeconfig.json"),
            Path.Combine(baseDirectory, "NoteLLM.MLNet.ModelLoadCheck.dll"),
            modelPath,
            notesPath,
        })
            start.ArgumentList.Add(arg);

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("ModelLoadCheck did not finish within 2 minutes.");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    private static string DotnetHost()
    {
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(host) && File.Exists(host))
            return host;
        string? current = Environment.ProcessPath;
        return current != null && Path.GetFileNameWithoutExtension(current) == "dotnet" ? current : "dotnet";
    }
}
