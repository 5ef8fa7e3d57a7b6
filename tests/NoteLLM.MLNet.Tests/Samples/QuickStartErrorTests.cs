using NoteLLM.MLNet.Tests.TestSupport;

namespace NoteLLM.MLNet.Tests.Samples;

/// <summary>The mistakes a newcomer makes with the quick start end in one line saying what to do (exit code 1).</summary>
public class QuickStartErrorTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    private static string RunExpectingError(TempFolder dir, params string[] args) =>
        SampleApp.AssertOneLineError(SampleApp.Run(SampleApp.QuickStart, dir.Path, Timeout, [.. args, "--output", dir.File("out")]));

    [Fact]
    public void MissingDataFolderSaysToPassAnExistingOne()
    {
        using var dir = new TempFolder();
        string line = RunExpectingError(dir, "--data", "no-such-folder");
        Assert.Contains($"Data folder '{dir.File("no-such-folder")}' does not exist", line);
        Assert.Contains("--data <folder>", line);
        Assert.False(Directory.Exists(dir.File("out")));
    }

    [Fact]
    public void DataFolderWithoutTheDatasetFilesNamesTheMissingFile()
    {
        using var dir = new TempFolder();
        Directory.CreateDirectory(dir.File("notes"));
        string line = RunExpectingError(dir, "--data", "notes");
        Assert.Contains("has no notes.jsonl.gz", line);
        Assert.Contains("train-pairs.csv.gz", line);
    }

    [Fact]
    public void CudaOnTheCpuBackendSaysWhichPackageOrSettingToUse()
    {
        // the tests build the samples with the default TorchSharp-cpu backend, where CUDA is never available
        using var dir = new TempFolder();
        string line = RunExpectingError(dir, "--cuda");
        Assert.Contains("CUDA is not available", line);
        Assert.Contains("TorchSharp-cuda-linux", line);
    }

    [Fact]
    public void CheckpointFolderWithoutTokenizerFilesNamesTheExpectedFiles()
    {
        using var dir = new TempFolder();
        Directory.CreateDirectory(dir.File("checkpoint"));
        File.WriteAllText(dir.File("checkpoint/config.json"), "{}");
        string line = RunExpectingError(dir, "--checkpoint", dir.File("checkpoint"), "--train-pairs", "16");
        Assert.Contains("has no tokenizer files", line);
        Assert.Contains("'tokenizer.model'", line);
        Assert.Contains("'vocab.json' and 'merges.txt'", line);
    }

    [Fact]
    public void UnreachablePostgresFailsBeforeTrainingWithoutShowingTheConnectionString()
    {
        using var dir = new TempFolder();
        string line = RunExpectingError(dir, "--postgres", "Host=127.0.0.1;Port=1;Username=app;Password=s3cret", "--postgres-table", "notes_here");
        Assert.StartsWith("error: Could not reach PostgreSQL table notes_here (--postgres): ", line);
        Assert.DoesNotContain("s3cret", line);
        Assert.False(Directory.Exists(dir.File("out")));
    }

    [Fact]
    public void MissingCheckpointFolderSaysItDoesNotExist()
    {
        using var dir = new TempFolder();
        string line = RunExpectingError(dir, "--checkpoint", dir.File("no-checkpoint"), "--train-pairs", "16");
        Assert.Contains($"Checkpoint folder '{dir.File("no-checkpoint")}' does not exist", line);
    }
}
