using Microsoft.ML;
using Microsoft.ML.Data;

namespace NoteLLM.MLNet.DataViews;

/// <summary>What an output column holds.</summary>
public enum OutputColumnKind
{
    /// <summary>A fixed-size vector of <see cref="float"/> (POCO <c>[VectorType(size)] float[]</c>).</summary>
    FloatVector,

    /// <summary>A text scalar (POCO <see cref="string"/>).</summary>
    Text,

    /// <summary>A variable-size vector of text (POCO <c>string[]</c>).</summary>
    TextVector,
}

/// <summary>An output column a batched transformer adds to its input.</summary>
public sealed class OutputColumn
{
    private OutputColumn(string name, OutputColumnKind kind, int vectorSize, DataViewType type)
    {
        if (string.IsNullOrEmpty(name))
            throw new ArgumentException("An output column needs a name.", nameof(name));
        Name = name;
        Kind = kind;
        VectorSize = vectorSize;
        Type = type;
    }

    /// <summary>A fixed-size float vector column of <paramref name="size"/> values per row.</summary>
    public static OutputColumn FloatVector(string name, int size)
    {
        if (size <= 0)
            throw new ArgumentOutOfRangeException(nameof(size), size, "A float vector column needs a positive size.");
        return new(name, OutputColumnKind.FloatVector, size, new VectorDataViewType(NumberDataViewType.Single, size));
    }

    /// <summary>A text column.</summary>
    public static OutputColumn Text(string name) => new(name, OutputColumnKind.Text, 0, TextDataViewType.Instance);

    /// <summary>A variable-size text vector column.</summary>
    public static OutputColumn TextVector(string name) =>
        new(name, OutputColumnKind.TextVector, 0, new VectorDataViewType(TextDataViewType.Instance));

    /// <summary>The column's name in the output schema.</summary>
    public string Name { get; }

    /// <summary>What the column holds.</summary>
    public OutputColumnKind Kind { get; }

    /// <summary>For <see cref="OutputColumnKind.FloatVector"/>: the number of values per row; otherwise 0.</summary>
    public int VectorSize { get; }

    /// <summary>The column's ML.NET type.</summary>
    public DataViewType Type { get; }

    /// <summary>The column as an estimator's <see cref="SchemaShape"/> column.</summary>
    public SchemaShape.Column ToSchemaShapeColumn() => Kind switch
    {
        OutputColumnKind.FloatVector => new SchemaShape.Column(Name, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false),
        OutputColumnKind.Text => new SchemaShape.Column(Name, SchemaShape.Column.VectorKind.Scalar, TextDataViewType.Instance, false),
        _ => new SchemaShape.Column(Name, SchemaShape.Column.VectorKind.VariableVector, TextDataViewType.Instance, false),
    };

    /// <summary>An estimator's output <see cref="SchemaShape"/>: <paramref name="inputSchema"/> after checking
    /// <paramref name="inputs"/>, plus <paramref name="outputs"/> (replacing input columns of the same name).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An input column is missing or has the wrong type.</exception>
    public static SchemaShape GetOutputSchema(SchemaShape inputSchema, IEnumerable<InputColumn> inputs, IEnumerable<OutputColumn> outputs)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        foreach (var input in inputs)
            input.Check(inputSchema);
        var columns = inputSchema.ToDictionary(c => c.Name);
        foreach (var output in outputs)
            columns[output.Name] = output.ToSchemaShapeColumn();
        return new SchemaShape(columns.Values);
    }
}
