using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace NoteLLM.MLNet.Retrieval;

/// <summary>
/// An HNSW graph over inner-product distance (1 - dot) of float vectors, held by USearch's native library
/// (<c>libusearch_c</c>, shipped by the Cloud.Unum.USearch package) through its C API.
/// </summary>
/// <remarks>
/// The package's managed <c>USearchIndex</c> is not used because it cannot change the search expansion (ef) of a built
/// graph, so tuning recall against speed would mean rebuilding the graph (minutes per million vectors). Keys are <see cref="NoteIndex"/> row numbers.
/// Concurrent <see cref="Search"/> calls are safe from any number of threads: USearch keeps <see cref="MaxThreads"/>
/// scratch spaces, takes one per search and does not wait for one (2.26.6 fails the search: "Reserve capacity ahead
/// of searches!"), so a search waits here for a free one. Everything else must be called from one thread at a time.
/// </remarks>
internal sealed unsafe partial class HnswGraph : IDisposable
{
    private const string Library = "libusearch_c";
    private const int MetricInnerProduct = 2; // usearch_metric_ip_k
    private const int ScalarFloat32 = 1;      // usearch_scalar_f32_k

    private readonly GraphHandle handle;
    private readonly int dimensions;
    private readonly SemaphoreSlim searchSlots = new(MaxThreads, MaxThreads); // one per USearch scratch space
    private readonly object expansionChange = new();

    public HnswGraph(int dimensions, int connectivity, int expansionAdd, int expansionSearch)
    {
        var options = new InitOptions
        {
            MetricKind = MetricInnerProduct,
            Quantization = ScalarFloat32,
            Dimensions = (nuint)dimensions,
            Connectivity = (nuint)connectivity,
            ExpansionAdd = (nuint)expansionAdd,
            ExpansionSearch = (nuint)expansionSearch,
        };
        nint error = 0;
        var handle = usearch_init(&options, &error);
        Check(error, "create the HNSW graph");
        this.handle = new GraphHandle(handle);
        this.dimensions = dimensions;
        ReserveSearchScratch();
    }

    /// <summary>
    /// Reads a graph written by <see cref="SaveTo"/> from <paramref name="source"/>. USearch loads graphs from files,
    /// so the bytes pass through a temporary file.
    /// </summary>
    public static HnswGraph LoadFrom(Stream source, int dimensions, int expansionAdd, int expansionSearch)
    {
        long length = ReadLength(source);
        string temp = TemporaryGraphFile();
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                var buffer = new byte[1 << 20];
                for (long left = length; left > 0;)
                {
                    int read = source.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
                    if (read == 0) throw new EndOfStreamException($"the stored HNSW graph ends {left:N0} bytes early");
                    file.Write(buffer, 0, read);
                    left -= read;
                }
            }
            var graph = new HnswGraph(dimensions, connectivity: 0, expansionAdd: 0, expansionSearch);
            try
            {
                nint error = 0;
                usearch_load(graph.Handle, temp, &error);
                Check(error, "load the stored HNSW graph");
                graph.ReserveSearchScratch();
                int stored = (int)graph.Call(&usearch_dimensions, "read the stored graph's dimensions");
                if (stored != dimensions) throw new InvalidDataException($"the stored HNSW graph holds {stored}-dimensional vectors, not {dimensions}-dimensional ones");
                // Loading restores the expansions the graph was saved with; the caller's options win.
                graph.ExpansionSearch = expansionSearch;
                usearch_change_expansion_add(graph.Handle, (nuint)expansionAdd, &error);
                Check(error, $"set the insert expansion to {expansionAdd}");
                return graph;
            }
            catch
            {
                graph.Dispose();
                throw;
            }
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>Moves <paramref name="source"/> past a graph written by <see cref="SaveTo"/> without reading it.</summary>
    public static void Skip(Stream source) => source.Seek(ReadLength(source), SeekOrigin.Current);

    // The length prefix SaveTo writes before the graph's bytes.
    private static long ReadLength(Stream source)
    {
        Span<byte> prefix = stackalloc byte[sizeof(long)];
        source.ReadExactly(prefix);
        return BinaryPrimitives.ReadInt64LittleEndian(prefix);
    }

    private static string TemporaryGraphFile() => Path.Combine(Path.GetTempPath(), $"notellm-graph-{Guid.NewGuid():N}.usearch");

    /// <summary>
    /// Writes the graph to <paramref name="destination"/>: its length in bytes (8, little-endian), then USearch's own
    /// format (its vectors and links). USearch saves graphs to files, so the bytes pass through a temporary file.
    /// </summary>
    public void SaveTo(Stream destination)
    {
        string temp = TemporaryGraphFile();
        try
        {
            nint error = 0;
            usearch_save(Handle, temp, &error);
            Check(error, "save the HNSW graph");
            using var file = File.OpenRead(temp);
            Span<byte> prefix = stackalloc byte[sizeof(long)];
            BinaryPrimitives.WriteInt64LittleEndian(prefix, file.Length);
            destination.Write(prefix);
            file.CopyTo(destination, 1 << 20);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>Links per node (M) the graph was built with.</summary>
    public int Connectivity => (int)Call(&usearch_connectivity, "read the graph's connectivity");

    /// <summary>Threads that may use the graph at once: USearch sizes its per-thread scratch space by the cores it sees.</summary>
    public static int MaxThreads => Environment.ProcessorCount;

    /// <summary>Vectors in the graph.</summary>
    public int Count => (int)Call(&usearch_size, "count the graph's vectors");

    /// <summary>Vectors the graph can hold before it must grow.</summary>
    public int Capacity => (int)Call(&usearch_capacity, "read the graph's capacity");

    /// <summary>Candidate list size while searching (ef); waits for the searches under way, and takes effect at the next one.</summary>
    public int ExpansionSearch
    {
        get => (int)Call(&usearch_expansion_search, "read the search expansion");
        set
        {
            // Holding every scratch space keeps searches out while the setting changes; one change at a time, so
            // that two changes cannot each hold some of them and wait for the rest.
            lock (expansionChange)
            {
                for (int i = 0; i < MaxThreads; i++) searchSlots.Wait();
                try
                {
                    nint error = 0;
                    usearch_change_expansion_search(Handle, (nuint)value, &error);
                    Check(error, $"set the search expansion to {value}");
                }
                finally
                {
                    searchSlots.Release(MaxThreads);
                }
            }
        }
    }

    /// <summary>Makes room for <paramref name="capacity"/> vectors in all (one allocation instead of growing per insert).</summary>
    public void Reserve(int capacity)
    {
        nint error = 0;
        usearch_reserve(Handle, (nuint)capacity, &error);
        Check(error, $"reserve room for {capacity:N0} vectors");
        ReserveSearchScratch();
    }

    // USearch sizes its scratch spaces by std::thread::hardware_concurrency() whenever it reserves (init, load,
    // reserve); .NET's processor count is usually no more than that, but DOTNET_PROCESSOR_COUNT can raise it.
    private void ReserveSearchScratch()
    {
        nint error = 0;
        usearch_change_threads_search(Handle, (nuint)MaxThreads, &error);
        Check(error, $"make room for {MaxThreads} concurrent searches");
    }

    /// <summary>Inserts a vector under <paramref name="key"/>; growing the capacity first if needed is the caller's job.</summary>
    public void Add(ulong key, ReadOnlySpan<float> vector)
    {
        CheckLength(vector.Length);
        nint error = 0;
        fixed (float* data = vector) usearch_add(Handle, key, data, ScalarFloat32, &error);
        Check(error, $"add vector {key}");
    }

    /// <summary>Fills <paramref name="keys"/> and <paramref name="distances"/> (1 - dot), nearest first; returns how many were found.</summary>
    public int Search(ReadOnlySpan<float> query, Span<ulong> keys, Span<float> distances)
    {
        CheckLength(query.Length);
        if (distances.Length < keys.Length) throw new ArgumentException("distances is shorter than keys", nameof(distances));
        nint error = 0;
        nuint found;
        searchSlots.Wait();
        try
        {
            fixed (float* data = query)
            fixed (ulong* keyData = keys)
            fixed (float* distanceData = distances)
                found = usearch_search(Handle, data, ScalarFloat32, (nuint)keys.Length, keyData, distanceData, &error);
        }
        finally
        {
            searchSlots.Release();
        }
        Check(error, "search the graph");
        return (int)found;
    }

    /// <summary>Removes the vector under <paramref name="key"/>.</summary>
    public void Remove(ulong key)
    {
        nint error = 0;
        usearch_remove(Handle, key, &error);
        Check(error, $"remove vector {key}");
    }

    /// <summary>Moves the vector under <paramref name="from"/> to the key <paramref name="to"/>.</summary>
    public void Rename(ulong from, ulong to)
    {
        nint error = 0;
        usearch_rename(Handle, from, to, &error);
        Check(error, $"rename vector {from} to {to}");
    }

    public void Dispose()
    {
        handle.Dispose();
        searchSlots.Dispose();
    }

    private nint Handle => handle.IsClosed ? throw new ObjectDisposedException(nameof(HnswGraph)) : handle.DangerousGetHandle();

    private nuint Call(delegate*<nint, nint*, nuint> function, string what)
    {
        nint error = 0;
        nuint result = function(Handle, &error);
        Check(error, what);
        return result;
    }

    private void CheckLength(int length)
    {
        if (length != dimensions) throw new ArgumentException($"the graph holds {dimensions}-dimensional vectors, not {length}-dimensional ones");
    }

    // USearch reports a failure by pointing error at a static message and leaves it alone on success, so callers start it at 0.
    private static void Check(nint error, string what)
    {
        if (error != 0) throw new InvalidOperationException($"USearch could not {what}: {Marshal.PtrToStringUTF8(error)}");
    }

    // usearch_init_options_t of c/usearch.h.
    [StructLayout(LayoutKind.Sequential)]
    private struct InitOptions
    {
        public int MetricKind;
        public nint Metric; // custom metric callback; unused
        public int Quantization;
        public nuint Dimensions, Connectivity, ExpansionAdd, ExpansionSearch;
        public byte Multi; // C bool: several vectors per key; unused
    }

    private sealed class GraphHandle(nint handle) : SafeHandle(handle, ownsHandle: true)
    {
        public override bool IsInvalid => handle == 0;

        protected override bool ReleaseHandle()
        {
            nint error = 0;
            usearch_free(handle, &error);
            return error == 0;
        }
    }

    [LibraryImport(Library)] private static partial nint usearch_init(InitOptions* options, nint* error);
    [LibraryImport(Library)] private static partial void usearch_free(nint index, nint* error);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)] private static partial void usearch_save(nint index, string path, nint* error);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)] private static partial void usearch_load(nint index, string path, nint* error);
    [LibraryImport(Library)] private static partial nuint usearch_dimensions(nint index, nint* error);
    [LibraryImport(Library)] private static partial nuint usearch_connectivity(nint index, nint* error);
    [LibraryImport(Library)] private static partial nuint usearch_size(nint index, nint* error);
    [LibraryImport(Library)] private static partial nuint usearch_capacity(nint index, nint* error);
    [LibraryImport(Library)] private static partial void usearch_reserve(nint index, nuint capacity, nint* error);
    [LibraryImport(Library)] private static partial nuint usearch_expansion_search(nint index, nint* error);
    [LibraryImport(Library)] private static partial void usearch_change_expansion_add(nint index, nuint expansion, nint* error);
    [LibraryImport(Library)] private static partial void usearch_change_expansion_search(nint index, nuint expansion, nint* error);
    [LibraryImport(Library)] private static partial void usearch_change_threads_search(nint index, nuint threads, nint* error);
    [LibraryImport(Library)] private static partial void usearch_add(nint index, ulong key, float* vector, int kind, nint* error);
    [LibraryImport(Library)] private static partial nuint usearch_search(nint index, float* query, int kind, nuint count, ulong* keys, float* distances, nint* error);
    [LibraryImport(Library)] private static partial nuint usearch_remove(nint index, ulong key, nint* error);
    [LibraryImport(Library)] private static partial nuint usearch_rename(nint index, ulong from, ulong to, nint* error);
}
