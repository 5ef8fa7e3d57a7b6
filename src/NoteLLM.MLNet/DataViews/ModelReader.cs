using System.Security.Cryptography;
using System.Text;
using Microsoft.ML;

namespace NoteLLM.MLNet.DataViews;

/// <summary>
/// Reads back, in the same order, what <see cref="ModelWriter"/> wrote. The settings section was verified before
/// the reader was handed out; each file is verified (length and SHA-256) before its content reaches the callback.
/// Damage surfaces as <see cref="InvalidDataException"/> naming the entry and file. Obtained from
/// <see cref="ModelFormat.Load{T}"/>.
/// </summary>
public sealed class ModelReader
{
    private readonly ModelLoadContext ctx;
    private readonly BinaryReader reader;
    private readonly string where;

    internal ModelReader(ModelLoadContext ctx, byte[] section, uint version, string where)
    {
        this.ctx = ctx;
        reader = new BinaryReader(new MemoryStream(section, writable: false), Encoding.UTF8);
        Version = version;
        this.where = where;
    }

    /// <summary>The format version the model was written with (see <see cref="ModelFormat.Version"/>).</summary>
    public uint Version { get; }

    /// <summary>Reads an <see cref="int"/>.</summary>
    public int ReadInt32() => Read(r => r.ReadInt32());

    /// <summary>Reads a <see cref="long"/>.</summary>
    public long ReadInt64() => Read(r => r.ReadInt64());

    /// <summary>Reads a <see cref="double"/>.</summary>
    public double ReadDouble() => Read(r => r.ReadDouble());

    /// <summary>Reads a string written by <see cref="ModelWriter.Write(string)"/> (possibly <see langword="null"/>).</summary>
    public string? ReadString() => Read(r => r.ReadBoolean() ? r.ReadString() : null);

    /// <summary>Reads the file written at <paramref name="path"/> by <see cref="ModelWriter.WriteFile"/>: checks it, then
    /// passes its content to <paramref name="read"/> (the stream is valid only during the call).</summary>
    /// <exception cref="InvalidDataException">The file is missing, damaged, or not the next file written.</exception>
    public T ReadFile<T>(string path, Func<Stream, T> read)
    {
        ModelWriter.CheckPath(path);
        ArgumentNullException.ThrowIfNull(read);
        string recorded = Read(r => r.ReadString());
        long length = ReadInt64();
        byte[] expectedHash = Read(r => r.ReadBytes(SHA256.HashSizeInBytes));
        if (recorded != path)
            throw new InvalidDataException($"The loader asked for file '{path}' but the entry {where} records '{recorded}' next: the loader does not match how the model was saved.");

        T result = default!;
        bool found, extracted = false;
        try
        {
            found = ctx.TryLoadBinaryStream(path, binaryReader =>
            {
                extracted = true;
                var stream = binaryReader.BaseStream;
                if (!stream.CanSeek)
                {
                    var copy = new MemoryStream();
                    stream.CopyTo(copy);
                    stream = copy;
                }
                stream.Position = 0;
                if (stream.Length != length)
                    throw new InvalidDataException($"File '{path}' in the entry {where} has {stream.Length} bytes but {length} were saved: the model file is truncated or corrupted.");
                if (!SHA256.HashData(stream).AsSpan().SequenceEqual(expectedHash))
                    throw new InvalidDataException($"File '{path}' in the entry {where} is corrupted (SHA-256 mismatch).");
                stream.Position = 0;
                result = read(stream);
            });
        }
        catch (Exception ex) when (!extracted && ex is IOException or InvalidDataException)
        {
            // Raised by the zip library while extracting the entry. Not chained: ML.NET wraps a loader's exception
            // several times, and GetBaseException() should be this message, which already carries the cause.
            throw new InvalidDataException($"File '{path}' in the entry {where} could not be extracted: the model file is corrupted ({ex.GetType().Name}: {ex.Message}).");
        }
        catch (EndOfStreamException ex)
        {
            throw new InvalidDataException($"The loader read past the end of file '{path}' in the entry {where}: it does not match how the model was saved ({ex.Message}).");
        }
        if (!found)
            throw new InvalidDataException($"File '{path}' is missing from the entry {where}: the model file is truncated or corrupted.");
        return result;
    }

    /// <summary>Reads a UTF-8 text file written by <see cref="ModelWriter.WriteTextFile"/>.</summary>
    public string ReadTextFile(string path) => ReadFile(path, stream =>
    {
        using var text = new StreamReader(stream, new UTF8Encoding(false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: false, leaveOpen: true);
        return text.ReadToEnd();
    });

    /// <summary>Checks that the loader read the whole settings section.</summary>
    internal void CheckFullyRead()
    {
        long left = reader.BaseStream.Length - reader.BaseStream.Position;
        if (left != 0)
            throw new InvalidDataException($"The loader left {left} bytes of the entry {where} unread: it does not match how the model was saved.");
    }

    private T Read<T>(Func<BinaryReader, T> read)
    {
        try
        {
            return read(reader);
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException($"The loader read past the end of the entry {where}: it does not match how the model was saved.");
        }
    }
}
