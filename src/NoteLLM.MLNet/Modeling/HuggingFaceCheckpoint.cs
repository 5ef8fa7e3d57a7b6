using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using NoteLLM.MLNet.Data;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Modeling;

/// <summary>
/// Reads and writes Hugging Face checkpoint folders: <c>config.json</c> plus <c>model.safetensors</c>, or shards
/// <c>model-0000x-of-0000y.safetensors</c> listed in <c>model.safetensors.index.json</c>; tensors in F32, F16 or BF16
/// under HF parameter names. Tensor bytes are read by TorchSharp.PyBridge; this class checks names, shapes and
/// dtypes against the model before any data is read, and loads a bounded number of bytes at a time, so loading
/// needs the model's own memory plus at most <see cref="LoadChunkBytes"/> (plus the largest single tensor).
/// </summary>
public static class HuggingFaceCheckpoint
{
    public const string ConfigFile = "config.json";
    public const string SingleFile = "model.safetensors";
    public const string IndexFile = "model.safetensors.index.json";

    /// <summary>Upper bound of tensor bytes staged in memory at once while loading (default 256 MiB).</summary>
    public static long LoadChunkBytes { get; set; } = 256L << 20;

    /// <summary>Reads <c>config.json</c> of a checkpoint folder.</summary>
    public static DecoderConfig ReadConfig(string folder)
    {
        string path = Path.Combine(folder, ConfigFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"No {ConfigFile} in checkpoint folder '{folder}'.", path);
        return DecoderConfig.FromHuggingFaceJson(File.ReadAllText(path), path);
    }

    /// <summary>Builds the model described by the folder's config.json and loads its weights, converted to <paramref name="dtype"/>.</summary>
    public static LlamaForCausalLM Load(string folder, ScalarType dtype = ScalarType.Float32)
    {
        var model = new LlamaForCausalLM(ReadConfig(folder));
        try
        {
            if (dtype != ScalarType.Float32) model.to(dtype);
            LoadWeights(model, folder);
            return model;
        }
        catch { model.Dispose(); throw; }
    }

    /// <summary>
    /// Copies the folder's tensors into <paramref name="model"/>'s parameters. Every model tensor must be present
    /// with the same shape; a checkpoint tensor the model does not have is an error (except <c>lm_head.weight</c>
    /// when the model ties it to the embedding, and rotary frequency buffers, which HF does not persist).
    /// </summary>
    public static void LoadWeights(nn.Module model, string folder) => LoadShards(model, ListShards(folder), $"Checkpoint '{folder}'");

    /// <summary>
    /// Loads every tensor of one safetensors file into <paramref name="model"/> (same checks as <see cref="LoadWeights"/>);
    /// errors name the file <paramref name="shownAs"/> (the name it has for the user: a zip entry staged in a temp file).
    /// </summary>
    internal static void LoadSafetensorsFile(nn.Module model, string file, string description, string shownAs)
    {
        using var s = File.OpenRead(file);
        LoadShards(model, [(file, ReadHeader(s, shownAs).Keys.ToList())], description, shownAs);
    }

    private static void LoadShards(nn.Module model, List<(string File, List<string> Names)> shards, string description, string? shownAs = null)
    {
        var target = model.state_dict();
        bool tied = model is LlamaForCausalLM lm && lm.Config.TieWordEmbeddings;
        var loaded = new HashSet<string>();

        foreach (var (path, names) in shards)
        {
            string file = shownAs ?? path;
            using var stream = File.OpenRead(path);
            var header = ReadHeader(stream, file);
            var wanted = new List<(string Name, long Bytes)>();
            foreach (string name in names)
            {
                if (!header.TryGetValue(name, out var entry))
                    throw new InvalidDataException($"Tensor '{name}' is listed for '{Path.GetFileName(file)}' in {IndexFile} but that file does not contain it.");
                if (!target.TryGetValue(name, out var param))
                {
                    if ((tied && name == "lm_head.weight") || name.EndsWith("rotary_emb.inv_freq")) continue;
                    throw new InvalidDataException($"Unexpected tensor '{name}' in '{Path.GetFileName(file)}': the model has no parameter of that name (is config.json the checkpoint's own?).");
                }
                if (!entry.Shape.SequenceEqual(param.shape))
                    throw new InvalidDataException($"Tensor '{name}' in '{Path.GetFileName(file)}' has shape [{string.Join(", ", entry.Shape)}] but the model expects [{string.Join(", ", param.shape)}].");
                if (entry.DType is not ("F32" or "F16" or "BF16"))
                    throw new InvalidDataException($"Tensor '{name}' in '{Path.GetFileName(file)}' has dtype {entry.DType}; supported are F32, F16 and BF16.");
                if (!loaded.Add(name))
                    throw new InvalidDataException($"Tensor '{name}' appears in more than one shard.");
                wanted.Add((name, entry.Bytes));
            }

            foreach (var chunk in Chunk(wanted))
            {
                stream.Position = 0;
                var tensors = Safetensors.LoadStateDict(stream, leaveOpen: true, keysToKeep: chunk);
                using (no_grad())
                    foreach (var (name, t) in tensors)
                    {
                        target[name].copy_(t); // converts dtype (and device) as needed
                        t.Dispose();
                    }
            }
        }

        var missing = target.Keys.Where(k => !loaded.Contains(k)).ToList();
        if (missing.Count > 0)
            throw new InvalidDataException($"{description} is missing {missing.Count} tensor(s) the model needs, first: '{missing[0]}'" +
                (missing.Count > 1 ? $" (also: {string.Join(", ", missing.Skip(1).Take(4))}{(missing.Count > 5 ? ", ..." : "")})." : "."));
    }

    /// <summary>Writes <paramref name="tensors"/> as one safetensors stream (CPU, contiguous; converted to <paramref name="dtype"/> if given).</summary>
    internal static void WriteSafetensors(Stream stream, IEnumerable<KeyValuePair<string, Tensor>> tensors, ScalarType? dtype = null)
    {
        using var scope = NewDisposeScope();
        var dict = tensors.ToDictionary(kv => kv.Key, kv => (dtype is { } d ? kv.Value.to(d) : kv.Value).detach().cpu().contiguous());
        Safetensors.SaveStateDict(stream, dict, leaveOpen: true);
    }

    /// <summary>
    /// Writes a checkpoint folder in HF layout: config.json and the weights as one safetensors file, or as shards
    /// of at most <paramref name="maxShardBytes"/> with an index when that is positive. Files are written to a
    /// staging folder beside it first, flushed to disk and moved into place, so a failure leaves no half-written checkpoint.
    /// </summary>
    public static void Save(LlamaForCausalLM model, string folder, ScalarType? dtype = null, long maxShardBytes = 0)
    {
        AtomicFile.WriteFolder(folder, staging =>
        {
            File.WriteAllText(Path.Combine(staging, ConfigFile), model.Config.ToHuggingFaceJson());
            var state = model.state_dict().Where(kv => !kv.Key.Contains("lora_")).ToList();
            var shards = new List<List<KeyValuePair<string, Tensor>>> { new() };
            long size = 0, total = 0;
            foreach (var kv in state)
            {
                long bytes = kv.Value.NumberOfElements * ElementSize(dtype ?? kv.Value.dtype);
                if (maxShardBytes > 0 && size > 0 && size + bytes > maxShardBytes) { shards.Add(new()); size = 0; }
                shards[^1].Add(kv); size += bytes; total += bytes;
            }

            var weightMap = new JsonObject();
            for (int i = 0; i < shards.Count; i++)
            {
                string name = shards.Count == 1 ? SingleFile : $"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
                using (var f = File.Create(Path.Combine(staging, name)))
                    WriteSafetensors(f, shards[i], dtype);
                foreach (var kv in shards[i]) weightMap[kv.Key] = name;
            }
            if (shards.Count > 1)
            {
                var index = new JsonObject { ["metadata"] = new JsonObject { ["total_size"] = total }, ["weight_map"] = weightMap };
                File.WriteAllText(Path.Combine(staging, IndexFile), index.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            }
        }, staging =>
        {
            // Other files in the folder (a tokenizer, a README) stay; the weights of an earlier save go.
            Directory.CreateDirectory(folder);
            foreach (string stale in new[] { SingleFile, IndexFile }.Select(f => Path.Combine(folder, f)).Concat(Directory.GetFiles(folder, "model-*-of-*.safetensors")))
                if (File.Exists(stale)) File.Delete(stale);
            foreach (string file in Directory.GetFiles(staging))
                File.Move(file, Path.Combine(folder, Path.GetFileName(file)), overwrite: true);
        });
    }

    // (file, tensor names in it) for a single-file or sharded checkpoint.
    private static List<(string File, List<string> Names)> ListShards(string folder)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Checkpoint folder '{folder}' does not exist.");
        string index = Path.Combine(folder, IndexFile), single = Path.Combine(folder, SingleFile);
        if (File.Exists(index))
        {
            JsonObject map;
            try { map = JsonNode.Parse(File.ReadAllText(index))?["weight_map"]?.AsObject() ?? throw new JsonException("no 'weight_map'"); }
            catch (JsonException e) { throw new InvalidDataException($"{index} is not a valid safetensors index: {e.Message}", e); }
            return map.GroupBy(kv => kv.Value!.GetValue<string>(), kv => kv.Key)
                .Select(g =>
                {
                    string path = Path.Combine(folder, g.Key);
                    if (!File.Exists(path)) throw new FileNotFoundException($"Shard '{g.Key}' named in {IndexFile} is missing from '{folder}' (needed for tensor '{g.First()}').", path);
                    return (path, g.ToList());
                }).ToList();
        }
        if (File.Exists(single))
        {
            using var s = File.OpenRead(single);
            return [(single, ReadHeader(s, single).Keys.ToList())];
        }
        string found = string.Join(", ", Directory.GetFiles(folder).Select(Path.GetFileName).Take(10));
        throw new FileNotFoundException($"Checkpoint folder '{folder}' has neither {SingleFile} nor {IndexFile} (found: {(found.Length > 0 ? found : "no files")}). " +
            "Only safetensors weights are read; convert pytorch_model.bin with Hugging Face's safetensors tools first.");
    }

    private sealed record HeaderEntry(string DType, long[] Shape, long Bytes);

    // The safetensors header: an 8-byte little-endian length, then JSON {name: {dtype, shape, data_offsets}}.
    private static Dictionary<string, HeaderEntry> ReadHeader(Stream stream, string file)
    {
        var lengthBytes = new byte[8];
        if (stream.Read(lengthBytes, 0, 8) != 8) throw new InvalidDataException($"'{file}' is too short to be a safetensors file.");
        long length = BitConverter.ToInt64(lengthBytes, 0);
        if (length <= 0 || length > 100_000_000 || length > stream.Length - 8)
            throw new InvalidDataException($"'{file}' has an invalid safetensors header length ({length}); the file is truncated or not safetensors.");
        var json = new byte[length];
        stream.ReadExactly(json);
        JsonObject root;
        try { root = JsonNode.Parse(Encoding.UTF8.GetString(json))!.AsObject(); }
        catch (Exception e) when (e is JsonException or InvalidOperationException) { throw new InvalidDataException($"'{file}' has a corrupt safetensors header: {e.Message}", e); }
        long dataLength = stream.Length - 8 - length;
        var result = new Dictionary<string, HeaderEntry>();
        var spans = new List<(long Begin, long End, string Name)>();
        foreach (var (name, node) in root)
        {
            if (name == "__metadata__") continue;
            InvalidDataException Bad(string what) => new($"Tensor '{name}' in '{file}' {what}; the file is damaged or not safetensors.");
            string dtype;
            long[] shape, offsets;
            try
            {
                dtype = node!["dtype"]!.GetValue<string>();
                shape = node["shape"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
                offsets = node["data_offsets"]!.AsArray().Select(o => o!.GetValue<long>()).ToArray();
            }
            catch (Exception e) when (e is NullReferenceException or InvalidOperationException or FormatException)
            {
                throw Bad("lacks a string \"dtype\", an integer array \"shape\" or \"data_offsets\"");
            }
            if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0])
                throw Bad($"has data_offsets [{string.Join(", ", offsets)}], not [begin, end] with 0 <= begin <= end");
            if (offsets[1] > dataLength)
                throw new InvalidDataException($"Tensor '{name}' in '{file}' extends past the end of the file; the file is truncated.");
            if (shape.Any(d => d < 0)) throw Bad($"has a negative dimension in shape [{string.Join(", ", shape)}]");
            // the bytes must be what the shape and dtype say; otherwise torch copies a wrong-sized buffer or a neighbour's bytes
            long bytes = offsets[1] - offsets[0];
            if (SafetensorsElementSize(dtype) is long elementSize && (bytes % elementSize != 0 || bytes / elementSize != Elements(shape)))
                throw Bad($"holds {bytes:N0} bytes where its shape [{string.Join(", ", shape)}] of {dtype} takes {Elements(shape) * elementSize:N0}");
            spans.Add((offsets[0], offsets[1], name));
            result[name] = new HeaderEntry(dtype, shape, bytes);
        }
        spans.Sort((a, b) => a.Begin.CompareTo(b.Begin));
        for (int i = 1; i < spans.Count; i++)
            if (spans[i].Begin < spans[i - 1].End)
                throw new InvalidDataException($"Tensors '{spans[i - 1].Name}' and '{spans[i].Name}' in '{file}' share bytes; the file is damaged or not safetensors.");
        return result;
    }

    // Elements of a shape; a product past long's range cannot match any file, so it saturates.
    private static long Elements(long[] shape)
    {
        long n = 1;
        foreach (long d in shape) n = d != 0 && n > long.MaxValue / d ? long.MaxValue : n * d;
        return n;
    }

    // Bytes per element of the safetensors dtypes (the format's own names), or null for one this reader does not know.
    private static long? SafetensorsElementSize(string dtype) => dtype switch
    {
        "F64" or "I64" or "U64" => 8,
        "F32" or "I32" or "U32" => 4,
        "F16" or "BF16" or "I16" or "U16" => 2,
        "I8" or "U8" or "BOOL" or "F8_E4M3" or "F8_E5M2" => 1,
        _ => null,
    };

    private static IEnumerable<List<string>> Chunk(List<(string Name, long Bytes)> tensors)
    {
        var chunk = new List<string>();
        long bytes = 0;
        foreach (var (name, size) in tensors)
        {
            if (chunk.Count > 0 && bytes + size > LoadChunkBytes) { yield return chunk; chunk = new(); bytes = 0; }
            chunk.Add(name); bytes += size;
        }
        if (chunk.Count > 0) yield return chunk;
    }

    private static long ElementSize(ScalarType t) => t switch
    {
        ScalarType.Float32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 => 2,
        ScalarType.Float64 => 8,
        _ => throw new NotSupportedException($"Cannot save tensors of dtype {t} in a checkpoint."),
    };
}
