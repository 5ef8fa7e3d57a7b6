using System.IO.Compression;

namespace NoteLLM.MLNet.Data;

/// <summary>Opening dataset files: gzip-compressed when the name ends in <c>.gz</c>; written atomically.</summary>
internal static class DataFile
{
    public static TextReader OpenText(string path)
    {
        Stream stream = File.OpenRead(path);
        if (path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase))
            stream = new GZipStream(stream, CompressionMode.Decompress);
        return new StreamReader(stream, System.Text.Encoding.UTF8);
    }

    /// <summary>
    /// Writes <paramref name="path"/> through a temporary file next to it that replaces the target only once
    /// <paramref name="write"/> has finished, so a failure never leaves a half-written file.
    /// </summary>
    public static void WriteAtomically(string path, Action<TextWriter> write)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (Stream file = File.Create(temp))
            using (Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)
                       ? new GZipStream(file, CompressionLevel.SmallestSize) : file)
            using (var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(false)) { NewLine = "\n" })
                write(writer);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}
