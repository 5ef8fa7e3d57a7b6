using System.Runtime.InteropServices;
using Google.Protobuf;

namespace NoteLLM.MLNet.Modeling;

/// <summary>
/// Reads the weights of a BERT encoder exported to ONNX, under Hugging Face <c>BertModel</c> names
/// (<c>embeddings.word_embeddings.weight</c>, <c>encoder.layer.0.attention.self.query.weight</c>, ...), as
/// [out, in] matrices like <c>nn.Linear</c> stores them.
/// </summary>
/// <remarks>
/// An ONNX file is a protobuf <c>ModelProto</c> (onnx/onnx.proto). Exporters keep the Hugging Face names of
/// embeddings, biases and LayerNorms, but name the projection matrices anonymously (<c>onnx::MatMul_1234</c>,
/// <c>927</c>) and store them [in, out]. Each such matrix is read by a <c>MatMul</c> node whose output feeds an
/// <c>Add</c> with the named bias, so <c>...query.bias</c> names its matrix <c>...query.weight</c>.
/// Only the handful of fields this needs are decoded, with Google.Protobuf's wire-format reader.
/// </remarks>
public static class BertOnnxWeights
{
    // Field numbers from onnx.proto.
    private const int ModelGraph = 7;
    private const int GraphNode = 1, GraphInitializer = 5;
    private const int NodeInput = 1, NodeOutput = 2, NodeOpType = 4;
    private const int TensorDims = 1, TensorDataType = 2, TensorFloatData = 4, TensorName = 8, TensorRawData = 9;
    private const int DataTypeFloat = 1;

    private sealed record Node(string OpType, List<string> Inputs, List<string> Outputs);

    /// <summary>Every float tensor of the graph under its Hugging Face name (matrices renamed and transposed).</summary>
    /// <exception cref="InvalidDataException">The stream is not an ONNX model, or a projection matrix cannot be named.</exception>
    public static IReadOnlyDictionary<string, (long[] Shape, float[] Data)> Read(Stream onnx)
    {
        ArgumentNullException.ThrowIfNull(onnx);
        ByteString? graph = null;
        try
        {
            var model = new CodedInputStream(onnx, leaveOpen: true);
            for (uint tag; (tag = model.ReadTag()) != 0;)
                if (WireFormat.GetTagFieldNumber(tag) == ModelGraph && WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
                    graph = model.ReadBytes();
                else model.SkipLastField();
        }
        catch (InvalidProtocolBufferException e) { throw new InvalidDataException("Not an ONNX model: " + e.Message, e); }
        if (graph is null) throw new InvalidDataException("The ONNX model has no graph.");

        var tensors = new Dictionary<string, (long[] Shape, float[] Data)>();
        var nodes = new List<Node>();
        var reader = graph.CreateCodedInput();
        for (uint tag; (tag = reader.ReadTag()) != 0;)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case GraphNode: nodes.Add(ReadNode(reader.ReadBytes())); break;
                case GraphInitializer:
                    if (ReadFloatTensor(reader.ReadBytes()) is { } t) tensors[t.Name] = (t.Shape, t.Data);
                    break;
                default: reader.SkipLastField(); break;
            }
        }
        NameProjectionMatrices(tensors, nodes);
        return tensors;
    }

    private static Node ReadNode(ByteString bytes)
    {
        var node = new Node("", [], []);
        var reader = bytes.CreateCodedInput();
        for (uint tag; (tag = reader.ReadTag()) != 0;)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case NodeInput: node.Inputs.Add(reader.ReadString()); break;
                case NodeOutput: node.Outputs.Add(reader.ReadString()); break;
                case NodeOpType: node = node with { OpType = reader.ReadString() }; break;
                default: reader.SkipLastField(); break;
            }
        }
        return node;
    }

    // A float32 initializer, or null for other types (exporters add int64 shape constants).
    private static (string Name, long[] Shape, float[] Data)? ReadFloatTensor(ByteString bytes)
    {
        string name = "";
        var dims = new List<long>();
        int dataType = 0;
        ByteString? raw = null;
        var floats = new List<float>();
        var reader = bytes.CreateCodedInput();
        for (uint tag; (tag = reader.ReadTag()) != 0;)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case TensorDims:
                    if (WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited) // packed
                    {
                        var packed = reader.ReadBytes().CreateCodedInput();
                        while (!packed.IsAtEnd) dims.Add(packed.ReadInt64());
                    }
                    else dims.Add(reader.ReadInt64());
                    break;
                case TensorDataType: dataType = reader.ReadInt32(); break;
                case TensorName: name = reader.ReadString(); break;
                case TensorRawData: raw = reader.ReadBytes(); break;
                case TensorFloatData:
                    if (WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
                        floats.AddRange(MemoryMarshal.Cast<byte, float>(reader.ReadBytes().Span).ToArray());
                    else floats.Add(reader.ReadFloat());
                    break;
                default: reader.SkipLastField(); break;
            }
        }
        if (dataType != DataTypeFloat) return null;
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw tensor data is little-endian; this machine is not.");
        float[] data = raw is not null ? MemoryMarshal.Cast<byte, float>(raw.Span).ToArray() : floats.ToArray();
        long expected = dims.Aggregate(1L, (a, d) => a * d);
        if (data.Length != expected)
            throw new InvalidDataException($"ONNX tensor '{name}' has {data.Length} values but its shape [{string.Join(", ", dims)}] needs {expected}.");
        return (name, dims.ToArray(), data);
    }

    // MatMul(x, W) -> Add(., *.bias): W is *.weight, stored [in, out]; transpose it to [out, in].
    private static void NameProjectionMatrices(Dictionary<string, (long[] Shape, float[] Data)> tensors, List<Node> nodes)
    {
        var addsByInput = nodes.Where(n => n.OpType == "Add")
            .SelectMany(n => n.Inputs.Select(input => (input, n)))
            .ToLookup(p => p.input, p => p.n);
        foreach (var matMul in nodes.Where(n => n.OpType == "MatMul"))
        {
            var matrix = matMul.Inputs.FirstOrDefault(i => tensors.ContainsKey(i) && tensors[i].Shape.Length == 2);
            if (matrix is null || matrix.EndsWith(".weight", StringComparison.Ordinal)) continue;
            var bias = addsByInput[matMul.Outputs[0]]
                .SelectMany(add => add.Inputs)
                .FirstOrDefault(i => i.EndsWith(".bias", StringComparison.Ordinal) && tensors.ContainsKey(i))
                ?? throw new InvalidDataException($"ONNX graph: the MatMul that reads matrix '{matrix}' does not feed an Add with a named bias, so the matrix cannot be named.");
            var (shape, data) = tensors[matrix];
            tensors.Remove(matrix);
            tensors[bias[..^".bias".Length] + ".weight"] = ([shape[1], shape[0]], Transpose(data, (int)shape[0], (int)shape[1]));
        }
    }

    private static float[] Transpose(float[] data, int rows, int columns)
    {
        var result = new float[data.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
                result[c * rows + r] = data[r * columns + c];
        return result;
    }
}
