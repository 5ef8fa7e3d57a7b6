namespace NoteLLM.MLNet.Data;

/// <summary>
/// Writes files and folders so that a failure or a crash never leaves a half-written one in place: the new content
/// goes to a temporary file or staging folder beside the target (same folder, so the final move is a rename on the
/// same volume), is flushed to disk, and only then replaces the target. The temporary is removed if anything fails.
/// </summary>
internal static class AtomicFile
{
    /// <summary>
    /// Writes <paramref name="path"/> through a temporary file beside it that replaces the target only once
    /// <paramref name="write"/> has finished and the bytes are on disk. <paramref name="write"/> may close the stream
    /// (a <see cref="StreamWriter"/> that owns it does). The folder must exist.
    /// </summary>
    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        // A fresh name, created new: two writers of one path never share a temporary file.
        string temp = full + $".{Guid.NewGuid():N}.tmp";
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None))
                write(file);
            FlushToDisk(temp);
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>
    /// Fills a staging folder beside <paramref name="folder"/> (<paramref name="write"/> receives its path), flushes
    /// its files to disk, then hands it to <paramref name="publish"/>, which moves its content into place. A staging
    /// folder left by a writer that was killed is deleted first; the staging folder is removed afterwards whether or
    /// not writing succeeded.
    /// </summary>
    public static void WriteFolder(string folder, Action<string> write, Action<string> publish)
    {
        // A fixed name, so the next save clears what a killed one left (one writer per folder, as for any folder).
        string staging = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder)) + ".partial";
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        Directory.CreateDirectory(staging);
        try
        {
            write(staging);
            foreach (string file in Directory.EnumerateFiles(staging, "*", SearchOption.AllDirectories))
                FlushToDisk(file);
            publish(staging);
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }

    // fsync through a handle of our own: it flushes the file's data whichever handle wrote it, even one already closed.
    private static void FlushToDisk(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Write);
        file.Flush(flushToDisk: true);
    }
}
