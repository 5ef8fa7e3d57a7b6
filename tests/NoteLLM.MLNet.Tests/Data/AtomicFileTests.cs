using NoteLLM.MLNet.Data;
using NoteLLM.MLNet.Tests.TestSupport;

namespace NoteLLM.MLNet.Tests.Data;

public sealed class AtomicFileTests
{
    [Fact]
    public void WriteReplacesTheFileAndLeavesNoTemporaryFile()
    {
        using var dir = new TempFolder();
        File.WriteAllText(dir.File("a.txt"), "old");
        AtomicFile.Write(dir.File("a.txt"), s => { using var w = new StreamWriter(s); w.Write("new"); }); // closes the stream itself
        Assert.Equal("new", File.ReadAllText(dir.File("a.txt")));
        Assert.Equal(["a.txt"], Directory.GetFileSystemEntries(dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void FailedWriteKeepsTheOldFileAndLeavesNoTemporaryFile()
    {
        using var dir = new TempFolder();
        File.WriteAllText(dir.File("a.txt"), "old");
        Assert.Throws<IOException>(() => AtomicFile.Write(dir.File("a.txt"), s => { s.Write("half"u8); throw new IOException("disk full"); }));
        Assert.Equal("old", File.ReadAllText(dir.File("a.txt")));
        Assert.Equal(["a.txt"], Directory.GetFileSystemEntries(dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void WriteFolderPublishesTheStagedFilesAndRemovesTheStagingFolder()
    {
        using var dir = new TempFolder();
        string target = dir.File("model");
        Directory.CreateDirectory(target + ".partial"); // left by a writer that was killed
        File.WriteAllText(Path.Combine(target + ".partial", "stale.bin"), "x");
        AtomicFile.WriteFolder(target, staging =>
        {
            Assert.Empty(Directory.GetFileSystemEntries(staging));
            File.WriteAllText(Path.Combine(staging, "weights.bin"), "w");
        }, staging => Directory.Move(staging, target));
        Assert.Equal("w", File.ReadAllText(Path.Combine(target, "weights.bin")));
        Assert.Equal(["model"], Directory.GetFileSystemEntries(dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void FailedWriteFolderPublishesNothingAndRemovesTheStagingFolder()
    {
        using var dir = new TempFolder();
        bool published = false;
        Assert.Throws<IOException>(() => AtomicFile.WriteFolder(dir.File("model"), staging =>
        {
            File.WriteAllText(Path.Combine(staging, "weights.bin"), "half");
            throw new IOException("disk full");
        }, _ => published = true));
        Assert.False(published);
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
    }
}
