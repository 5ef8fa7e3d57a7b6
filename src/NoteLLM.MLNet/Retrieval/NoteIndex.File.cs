using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;
using NoteLLM.MLNet.Data;

namespace NoteLLM.MLNet.Retrieval;

public sealed partial class NoteIndex
{
    // File layout (little-endian): magic, format version, dimensions, count, the ids, the embedding rows, then
    // (version 2) whether an HNSW graph follows and the graph (HnswGraph.SaveTo), then a CRC-64 of every preceding
    // byte so truncated or damaged files are refused. Version 1 files (no graph) are still read.
    private static readonly byte[] Magic = "NOTEIDX\0"u8.ToArray();
    private const int FormatVersion = 2;

    /// <summary>
    /// Saves the index to <paramref name="path"/>: written to a temporary file beside it, flushed to disk, then moved
    /// over it, so a crash never leaves a half-written index. Stores the ids, the embeddings and, for an approximate index, its
    /// HNSW graph, so loading does not rebuild it (the graph roughly doubles the file: USearch keeps its own copy of the vectors).
    /// </summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        AtomicFile.Write(path, file =>
        {
            var crc = new Crc64();
            using (var writer = new BinaryWriter(new HashingWriteStream(file, crc.Append), Encoding.UTF8, leaveOpen: true))
            {
                writer.Write(Magic);
                writer.Write(FormatVersion);
                writer.Write(Dimensions);
                writer.Write(Count);
                foreach (string id in ids) writer.Write(id);
                for (int row = 0; row < Count; row += blockSize)
                {
                    int rows = Math.Min(blockSize, Count - row);
                    writer.Write(MemoryMarshal.AsBytes(blocks[row / blockSize].AsSpan(0, rows * Dimensions)));
                }
                writer.Write(graph is not null);
                writer.Flush();
                graph?.SaveTo(writer.BaseStream);
            }
            file.Write(crc.GetCurrentHash());
        });
    }

    /// <summary>
    /// Loads an index saved by <see cref="Save"/>. With <see cref="NoteSearchMode.Approximate"/> options the stored
    /// HNSW graph is used when the file has one built with the same <see cref="NoteIndexOptions.Connectivity"/>;
    /// otherwise the graph is rebuilt from the loaded embeddings (minutes for millions of notes).
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not a note index, is truncated or is damaged.</exception>
    public static NoteIndex Load(string path, NoteIndexOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        VerifyChecksum(path);
        using var file = File.OpenRead(path);
        using var reader = new BinaryReader(file, Encoding.UTF8);
        var magic = reader.ReadBytes(Magic.Length);
        if (!magic.AsSpan().SequenceEqual(Magic)) throw new InvalidDataException($"'{path}' is not a NoteLLM note index file");
        int version = reader.ReadInt32();
        if (version is not (1 or FormatVersion))
            throw new InvalidDataException($"'{path}' has note index format version {version}; this library reads versions 1 and {FormatVersion}");
        int dimensions = reader.ReadInt32(), count = reader.ReadInt32();
        if (dimensions < 1 || count < 0) throw new InvalidDataException($"'{path}' has an invalid header ({dimensions} dimensions, {count} notes)");
        // The checksum proves the bytes are as written, not that a header was written by Save: check the sizes it
        // claims against the file before allocating for them.
        long embeddingBytes = (long)count * dimensions * sizeof(float);
        if (embeddingBytes + count > file.Length - file.Position)
            throw new InvalidDataException($"'{path}' claims {count:N0} notes of {dimensions:N0} dimensions ({embeddingBytes:N0} bytes of embeddings) but holds {file.Length:N0} bytes");

        options ??= new NoteIndexOptions();
        var index = new NoteIndex(dimensions, new NoteIndexOptions
        {
            Mode = NoteSearchMode.Exact, // the graph is built once below, after every row is in place
            BlockSize = options.BlockSize,
            QueryBatchSize = options.QueryBatchSize,
            Connectivity = options.Connectivity,
            ExpansionAdd = options.ExpansionAdd,
            ExpansionSearch = options.ExpansionSearch,
            SearchThreads = options.SearchThreads,
        });
        for (int row = 0; row < count; row++)
        {
            string id = reader.ReadString();
            if (!index.rowOf.TryAdd(id, row)) throw new InvalidDataException($"'{path}' lists note id '{id}' twice");
            index.ids.Add(id);
        }
        for (int row = 0; row < count; row++)
        {
            index.EnsureRow(row);
            reader.BaseStream.ReadExactly(MemoryMarshal.AsBytes(index.Row(row)));
        }
        try
        {
            bool hasGraph = version >= 2 && reader.ReadBoolean();
            if (hasGraph && options.Mode == NoteSearchMode.Approximate)
            {
                var stored = HnswGraph.LoadFrom(file, dimensions, options.ExpansionAdd, options.ExpansionSearch);
                // A graph built with another number of links per node is rebuilt below with the requested one.
                if (stored.Connectivity == options.Connectivity) index.graph = stored;
                else stored.Dispose();
                if (index.graph is not null && index.graph.Count != count)
                    throw new InvalidDataException($"'{path}' stores an HNSW graph of {index.graph.Count} notes for its {count} notes");
            }
            else if (hasGraph) HnswGraph.Skip(file);
            if (file.Position != file.Length - sizeof(ulong))
                throw new InvalidDataException($"'{path}' has {file.Length - sizeof(ulong) - file.Position} unexpected bytes after its {count} embeddings");
            index.Options.Mode = options.Mode;
            if (options.Mode == NoteSearchMode.Approximate && index.graph is null)
            {
                index.graph = index.NewGraph();
                index.AddToGraph(0, count);
            }
            return index;
        }
        catch
        {
            index.Dispose();
            throw;
        }
    }

    private static void VerifyChecksum(string path)
    {
        using var file = File.OpenRead(path);
        const int checksumLength = 8;
        if (file.Length < Magic.Length + 12 + checksumLength)
            throw new InvalidDataException($"'{path}' is truncated: {file.Length} bytes is shorter than a note index header");
        var crc = new Crc64();
        var buffer = new byte[1 << 20];
        long remaining = file.Length - checksumLength;
        while (remaining > 0)
        {
            int read = file.Read(buffer, 0, (int)Math.Min(buffer.Length, remaining));
            crc.Append(buffer.AsSpan(0, read));
            remaining -= read;
        }
        Span<byte> stored = stackalloc byte[checksumLength];
        file.ReadExactly(stored);
        if (!stored.SequenceEqual(crc.GetCurrentHash()))
            throw new InvalidDataException($"'{path}' is truncated or damaged: its CRC-64 checksum does not match its contents");
    }
}
