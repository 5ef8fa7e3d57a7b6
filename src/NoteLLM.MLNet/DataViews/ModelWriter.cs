using System.Security.Cryptography;
using System.Text;
using Microsoft.ML;
using NoteLLM.MLNet.Data;

namespace NoteLLM.MLNet.DataViews;

/// <summary>
/// Writes a transformer's state into its entry of an ML.NET model zip: numbers and strings into the entry's
/// settings section, large content (weights, tokenizer files, templates) as files in the entry's folder, sub-folders
/// allowed (<c>"tokenizer/vocab.json"</c>). Each file's length and SHA-256 are recorded in the settings section.
/// <see cref="ModelReader"/> reads everything back in the same order. Obtained from <see cref="ModelFormat.Save"/>.
/// </summary>
public sealed class ModelWriter
{
    private readonly ModelSaveContext ctx;
    private readonly MemoryStream section = new();
    private readonly BinaryWriter writer;
    private readonly HashSet<string> files = new(StringComparer.OrdinalIgnoreCase);
    private bool completed;

    internal ModelWriter(ModelSaveContext ctx)
    {
        this.ctx = ctx;
        writer = new BinaryWriter(section, Encoding.UTF8, leaveOpen: true);
    }

    /// <summary>Writes an <see cref="int"/>.</summary>
    public void Write(int value) => Writer.Write(value);

    /// <summary>Writes a <see cref="double"/>.</summary>
    public void Write(double value) => Writer.Write(value);

    /// <summary>Writes a string; <see langword="null"/> is kept distinct from empty.</summary>
    public void Write(string? value)
    {
        Writer.Write(value != null);
        if (value != null)
            Writer.Write(value);
    }

    /// <summary>Writes a file at <paramref name="path"/> (relative, '/'-separated) in the transformer's folder of the zip;
    /// <paramref name="write"/> writes its content to the stream it receives.</summary>
    public void WriteFile(string path, Action<Stream> write)
    {
        CheckPath(path);
        ArgumentNullException.ThrowIfNull(write);
        if (!files.Add(path))
            throw new ArgumentException($"The file '{path}' was already written.", nameof(path));
        long length = 0;
        byte[] hash = Array.Empty<byte>();
        ctx.SaveBinaryStream(path, binaryWriter =>
        {
            binaryWriter.Flush();
            using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var hashing = new HashingWriteStream(binaryWriter.BaseStream, sha256.AppendData);
            write(hashing);
            hashing.Flush();
            length = hashing.Length;
            hash = sha256.GetHashAndReset();
        });
        Writer.Write(path);
        Writer.Write(length);
        Writer.Write(hash);
    }

    /// <summary>Writes a UTF-8 text file at <paramref name="path"/> in the transformer's folder of the zip.</summary>
    public void WriteTextFile(string path, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        byte[] bytes = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(text);
        WriteFile(path, stream => stream.Write(bytes));
    }

    /// <summary>Writes the settings section and its hash to the entry's main stream.</summary>
    internal void Complete()
    {
        writer.Flush();
        completed = true;
        var main = ctx.Writer;
        main.Write(section.Length);
        main.Write(section.GetBuffer(), 0, (int)section.Length);
        main.Write(SHA256.HashData(section.GetBuffer().AsSpan(0, (int)section.Length)));
    }

    private BinaryWriter Writer => completed
        ? throw new InvalidOperationException("The model was already saved; write only inside the save callback.")
        : writer;

    /// <summary>Checks that <paramref name="path"/> is a relative '/'-separated path without '.' or '..' segments.</summary>
    internal static void CheckPath(string path)
    {
        if (string.IsNullOrEmpty(path) || path.Contains('\\') || path.StartsWith('/') || path.Contains(':')
            || path.Split('/').Any(segment => segment is "" or "." or "..")
            || string.Equals(path, ModelLoadContext.ModelStreamName, StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"'{path}' is not a valid file path inside the model (relative, '/'-separated, no '.' or '..' segments, not '{ModelLoadContext.ModelStreamName}').", nameof(path));
    }
}
