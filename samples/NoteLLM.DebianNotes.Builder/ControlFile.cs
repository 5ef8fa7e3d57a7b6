using System.IO.Compression;
using K4os.Compression.LZ4.Streams;
using SharpCompress.Compressors.Xz;

namespace NoteLLM.DebianNotes.Builder;

/// <summary>One stanza of a Debian control file (deb822): field name (case-insensitive) to value.</summary>
/// <remarks>A multi-line value keeps its continuation lines after a <c>\n</c>, each with its leading space.</remarks>
internal sealed class ControlParagraph(Dictionary<string, string> fields, int line)
{
    /// <summary>The 1-based line the stanza starts on.</summary>
    public int Line { get; } = line;
    public string? this[string name] => fields.TryGetValue(name, out var value) ? value : null;
}

/// <summary>Reads apt's index files (<c>Packages</c>, <c>Translation-en</c>): deb822 stanzas, plain or compressed.</summary>
internal static class ControlFile
{
    /// <summary>Opens <paramref name="path"/> as text, decompressing by extension: <c>.gz</c>, <c>.xz</c>, <c>.lz4</c> or none.</summary>
    public static TextReader OpenText(string path)
    {
        Stream file = File.OpenRead(path);
        Stream stream = Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".gz" => new GZipStream(file, CompressionMode.Decompress),
            ".xz" => new XZStream(file),
            ".lz4" => LZ4Stream.Decode(file),
            _ => file,
        };
        return new StreamReader(stream, System.Text.Encoding.UTF8);
    }

    /// <summary>Reads the stanzas of <paramref name="path"/> lazily.</summary>
    /// <exception cref="InvalidDataException">A line is neither <c>Field: value</c> nor a continuation; the message names file and line.</exception>
    public static IEnumerable<ControlParagraph> Read(string path)
    {
        using var reader = OpenText(path);
        foreach (var paragraph in Read(reader, path)) yield return paragraph;
    }

    public static IEnumerable<ControlParagraph> Read(TextReader reader, string name)
    {
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string? field = null;
        int lineNumber = 0, start = 0;
        for (string? line; (line = reader.ReadLine()) != null;)
        {
            lineNumber++;
            if (line.Length == 0)
            {
                if (fields.Count > 0) yield return new ControlParagraph(fields, start);
                fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                field = null;
                continue;
            }
            if (line[0] is ' ' or '\t')
            {
                if (field is null) throw new InvalidDataException($"{name} line {lineNumber}: continuation line outside a field.");
                fields[field] += "\n" + line;
                continue;
            }
            int colon = line.IndexOf(':');
            if (colon <= 0) throw new InvalidDataException($"{name} line {lineNumber}: expected 'Field: value', got '{line}'.");
            if (fields.Count == 0) start = lineNumber;
            field = line[..colon];
            fields[field] = line[(colon + 1)..].Trim();
        }
        if (fields.Count > 0) yield return new ControlParagraph(fields, start);
    }
}
