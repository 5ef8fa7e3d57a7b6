using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using NoteLLM.MLNet.Data;
using NoteLLM.MLNet.TestSupport;

namespace NoteLLM.MLNet.Benchmarks.Results;

/// <summary>
/// The paper's Table 2 (I2I recall), Table 3 (by query exposure) and Table 4 (ablations and generation) on the Debian
/// notes test split, with its baselines (SentenceBERT zero-shot and fine-tuned, PromptEOL zero-shot and +CSE,
/// RepLLaMA, TF-IDF, an ML.NET category classifier) on one pretrained encoder and one training budget. A trained row
/// takes minutes on 2 CPU cores, so each row is measured by its own invocation (<c>results row ID</c> or
/// <c>results missing</c>) and recorded as JSON; <c>results assemble</c> writes docs/results.md from the records.
/// </summary>
internal sealed class ResultsBenchmark : IBenchmark
{
    public string Name => "results";
    public string Description => "Table 2/3/4 on the Debian notes test split, one row per invocation (results row ID | missing), then results assemble writes docs/results.md";

    public int Run(string[] args)
    {
        ResultsSettings settings;
        try { settings = ResultsSettings.Parse(args); }
        catch (ArgumentException e) { Console.Error.WriteLine(e.Message); return 2; }
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

        string root = RepositoryRoot();
        string rowsDirectory = Path.GetFullPath(Path.Combine(root, settings.RowsDirectory));
        var recorded = Directory.Exists(rowsDirectory)
            ? Directory.GetFiles(rowsDirectory, "*.json").Order(StringComparer.Ordinal).Select(RowRecord.Read).ToList()
            : [];
        bool IsRecorded(ResultRow row, int seed) => recorded.Any(r => r.Id == row.Id && r.Seed == seed && settings.Measured(r));

        if (settings.Verb == "list")
        {
            Console.WriteLine(ResultsSettings.Usage);
            foreach (var row in ResultRows.All)
                Console.WriteLine($"{row.Id,-24} {(string.Join(",", row.SeedsOf(settings).Select(s => IsRecorded(row, s) ? $"seed {s}: recorded" : $"seed {s}: missing"))),-60} {row.Name}: {row.Description}");
            return 0;
        }

        var dataset = ResultsDataset.Load(Path.GetFullPath(Path.Combine(root, settings.DataDirectory)), settings.GenerationNotes);
        Console.WriteLine($"data {dataset.Directory}: {dataset.TrainNotes.Count} train notes, {dataset.TrainPairs.Count} train pairs, " +
            $"{dataset.TestNotes.Count} test notes, {dataset.TestPairs.Count} test pairs, generation sample {dataset.GenerationSample.Count}");
        if (settings.Verb == "assemble")
        {
            string markdown = new ResultsReport(settings, dataset, recorded).ToMarkdown();
            string output = Path.GetFullPath(Path.Combine(root, settings.Output));
            WriteAtomically(output, markdown);
            Console.WriteLine(markdown);
            Console.WriteLine($"wrote {output} from {recorded.Count} recorded rows");
            return 0;
        }

        var work = (settings.Verb == "row" ? settings.Rows.Select(id => ResultRows.Find(id)!) : ResultRows.All)
            .SelectMany(row => row.SeedsOf(settings).Select(seed => (Row: row, Seed: seed)))
            .Where(x => settings.Verb == "row" || !IsRecorded(x.Row, x.Seed))
            .ToList();
        Console.WriteLine($"measuring {work.Count} row(s): {string.Join(", ", work.Select(w => $"{w.Row.Id} seed {w.Seed}"))}");
        string commit = Commit(root, settings.RowsDirectory);
        foreach (var (row, seed) in work)
        {
            var wall = Stopwatch.StartNew();
            var started = DateTime.UtcNow;
            string loadAtStart = LoadAverage();
            string command = $"dotnet run -c Release --project tests/NoteLLM.MLNet.Benchmarks -- results row {row.Id} {settings.Budget}" +
                (row.Seeded ? $" --seeds {seed}" : "");
            var context = new RowContext(dataset, settings, seed, () => new RowRecord
            {
                Id = row.Id,
                Seed = seed,
                Command = command,
                Commit = commit,
                Started = started,
                WallSeconds = 0,
                LoadAtStart = loadAtStart,
                LoadAtEnd = "",
                Machine = RuntimeInformationText.Describe(),
                Budget = settings.Budget,
                Size = "",
            });
            Console.WriteLine($"=== {row.Name}, seed {seed}");
            var record = row.Measure(context) with { WallSeconds = wall.Elapsed.TotalSeconds, LoadAtEnd = LoadAverage() };
            Directory.CreateDirectory(rowsDirectory);
            string path = Path.Combine(rowsDirectory, RowRecord.FileName(row.Id, row.Seeded ? seed : null, settings));
            WriteAtomically(path, record.ToJson());
            Console.WriteLine($"{row.Name}, seed {seed}: avg recall {100 * record.Recall?.Average:F2}, R@100 {100 * record.Recall?.At(100):F2}, " +
                $"random-pair cosine {record.RandomPairCosine:F3}, category {100 * record.Category?.Accuracy:F2} (free {100 * record.FreeCategory?.Accuracy:F2}, " +
                $"illegal {100 * record.FreeCategory?.IllegalRate:F2}), hashtag ROUGE-L {100 * record.Hashtags?.RougeL:F2}; {wall.Elapsed:hh\\:mm\\:ss}; wrote {path}");
            foreach (var example in record.Examples) Console.WriteLine("  e.g. " + example);
        }
        return 0;
    }

    /// <summary>
    /// The commit the benchmark was built from (the SDK's source revision in the informational version), and the
    /// repository's state at run time when it differs: rows should be measured by a build of a clean commit. The records
    /// in <paramref name="rowsDirectory"/> do not count as changes, so rows measured one after another by the same build
    /// are not marked for the records of the rows before them.
    /// </summary>
    private static string Commit(string root, string rowsDirectory)
    {
        string Git(string arguments)
        {
            try
            {
                var (exitCode, stdout, _) = ChildProcess.Run(new ProcessStartInfo("git", arguments) { WorkingDirectory = root }, TimeSpan.FromMinutes(1), $"git {arguments}");
                return exitCode == 0 ? stdout.Trim() : "";
            }
            catch (System.ComponentModel.Win32Exception) { return ""; }
        }
        string version = typeof(ResultsBenchmark).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "";
        int plus = version.IndexOf('+');
        string built = plus >= 0 && version.Length - plus > 7 ? version.Substring(plus + 1, 7) : "unknown";
        string head = Git("rev-parse --short=7 HEAD");
        // a rows folder outside the repository is no pathspec git takes, and no change of the repository either
        string rows = Path.GetRelativePath(root, Path.GetFullPath(rowsDirectory, root));
        bool rowsInRepository = rows != ".." && !rows.StartsWith(".." + Path.DirectorySeparatorChar, StringComparison.Ordinal) && !Path.IsPathRooted(rows);
        bool dirty = Git("status --porcelain --untracked-files=no" + (rowsInRepository ? $" -- . \":(exclude){rows}\"" : "")).Length > 0;
        return head == built && !dirty ? built : $"built from {built}; repository at {(head.Length > 0 ? head : "unknown")}{(dirty ? " + uncommitted changes" : "")} when run";
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    /// <summary>The folder holding NoteLLM.MLNet.sln, searched upwards from the working directory (else the working directory).</summary>
    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "NoteLLM.MLNet.sln"))) return dir.FullName;
        return Directory.GetCurrentDirectory();
    }

    private static void WriteAtomically(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        AtomicFile.Write(path, stream => { using var writer = new StreamWriter(stream); writer.Write(text); });
    }
}
