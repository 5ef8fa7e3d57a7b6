using System.Text.Json.Nodes;
using NoteLLM.MLNet.Tests.TestSupport;

namespace NoteLLM.MLNet.Tests.DataViews;

/// <summary>
/// Runs tests/NoteLLM.MLNet.ModelLoadCheck (built next to the tests; it names no NoteLLM type) in a separate process
/// on a model zip and a notes file. It runs with this test assembly's dependency context, so ML.NET can resolve a
/// loader that lives in this assembly as well as one in NoteLLM.MLNet.
/// </summary>
internal static class ModelLoadCheckRunner
{
    /// <summary>Writes notes as JSON lines; every second note gives Hashtags as a delimited string.</summary>
    public static void WriteNotes(string path, IEnumerable<TestNoteRow> notes) =>
        File.WriteAllLines(path, notes.Select((n, i) => new JsonObject
        {
            ["Id"] = n.Id,
            ["Title"] = n.Title,
            ["Content"] = n.Content,
            ["Hashtags"] = i % 2 == 0 ? new JsonArray(n.Hashtags.Select(h => (JsonNode)h!).ToArray()) : string.Join(", ", n.Hashtags),
            ["Category"] = n.Category,
        }.ToJsonString()));

    /// <summary>The app's output: one JSON object per note with every visible column.</summary>
    public static List<JsonObject> ParseRows(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();

    /// <summary>
    /// Runs the app on <paramref name="modelPath"/> and <paramref name="notesPath"/>: with the test assembly's dependency
    /// context (so the test transformers are found), or with the app's own when <paramref name="ownDependencies"/> is set
    /// (then only what the app itself references, the NoteLLM.MLNet package, can load the model).
    /// </summary>
    /// With <paramref name="threads"/> it also prints every note's PredictionEngine outputs on one thread ("Thread": 0)
    /// and on that many threads at once ("Thread": 1..N).
    /// <returns>Its exit code (0 success, 1 load/transform error), standard output and standard error.</returns>
    public static (int ExitCode, string Stdout, string Stderr) Run(string modelPath, string notesPath, TimeSpan? timeout = null, bool ownDependencies = false,
        int threads = 0) =>
        AppProcess.Run("NoteLLM.MLNet.ModelLoadCheck",
            ownDependencies ? "NoteLLM.MLNet.ModelLoadCheck" : typeof(ModelLoadCheckRunner).Assembly.GetName().Name!,
            workingDirectory: null, timeout ?? TimeSpan.FromMinutes(2),
            threads > 0 ? [modelPath, notesPath, "--threads", threads.ToString()] : [modelPath, notesPath]);
}
