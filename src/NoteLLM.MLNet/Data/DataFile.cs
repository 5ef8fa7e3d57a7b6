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
    /// Writes <paramref name="path"/> as UTF-8 text (gzip-compressed for <c>.gz</c>) through <see cref="AtomicFile"/>,
    /// so a failure never leaves a half-written file. Creates the folder if needed.
    /// </summary>
    public static void WriteAtomically(string path, Action<TextWriter> write)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        AtomicFile.Write(path, file =>
        {
            using Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)
                ? new GZipStream(file, CompressionLevel.SmallestSize) : file;
            using var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(false)) { NewLine = "\n" };
            write(writer);
        });
    }
}
