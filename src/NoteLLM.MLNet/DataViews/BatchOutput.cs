using Microsoft.ML;
using Microsoft.ML.Data;

namespace NoteLLM.MLNet.DataViews;

/// <summary>
/// The output values of one batch, filled by <see cref="BatchedTransformerBase.ComputeBatch"/>. Column indices
/// follow <see cref="BatchedTransformerBase.OutputColumns"/>. Only requested columns (<see cref="IsRequested"/>)
/// need computing and have storage; values start cleared (zeros, null strings read as empty text).
/// </summary>
public sealed class BatchOutput
{
    private readonly IReadOnlyList<OutputColumn> columns;
    private readonly int capacity;
    private readonly bool[] requested;
    private readonly float[]?[] floats;
    private readonly string?[]?[] texts;
    private readonly string[]?[]?[] textVectors;

    internal BatchOutput(IReadOnlyList<OutputColumn> columns, int capacity)
    {
        this.columns = columns;
        this.capacity = capacity;
        requested = new bool[columns.Count];
        floats = new float[]?[columns.Count];
        texts = new string?[]?[columns.Count];
        textVectors = new string[]?[]?[columns.Count];
    }

    /// <summary>The number of rows in the batch.</summary>
    public int Count { get; private set; }

    /// <summary>Whether the consumer reads output column <paramref name="column"/>; others may be skipped.</summary>
    public bool IsRequested(int column) => requested[CheckIndex(column)];

    /// <summary>The float vectors of output column <paramref name="column"/>, row after row
    /// (<see cref="Count"/> x <see cref="OutputColumn.VectorSize"/> values).</summary>
    public Span<float> GetFloatVectors(int column) =>
        floats[CheckColumn(column, OutputColumnKind.FloatVector)].AsSpan(0, Count * columns[column].VectorSize);

    /// <summary>The float vector of output column <paramref name="column"/> for batch row <paramref name="row"/>.</summary>
    public Span<float> GetFloatVector(int column, int row) =>
        GetFloatVectors(column).Slice(CheckRow(row) * columns[column].VectorSize, columns[column].VectorSize);

    /// <summary>The text values of output column <paramref name="column"/>, one per row.</summary>
    public Span<string?> GetTexts(int column) => texts[CheckColumn(column, OutputColumnKind.Text)].AsSpan(0, Count);

    /// <summary>The text vectors of output column <paramref name="column"/>, one per row.</summary>
    public Span<string[]?> GetTextVectors(int column) =>
        textVectors[CheckColumn(column, OutputColumnKind.TextVector)].AsSpan(0, Count);

    /// <summary>Starts a batch of <paramref name="count"/> rows computing the <paramref name="requested"/> columns.</summary>
    internal void Reset(int count, bool[] requested)
    {
        Count = count;
        for (int c = 0; c < columns.Count; c++)
        {
            this.requested[c] = requested[c];
            if (!requested[c])
                continue;
            switch (columns[c].Kind)
            {
                case OutputColumnKind.FloatVector:
                    (floats[c] ??= new float[capacity * columns[c].VectorSize]).AsSpan().Clear();
                    break;
                case OutputColumnKind.Text:
                    Array.Clear(texts[c] ??= new string?[capacity]);
                    break;
                default:
                    Array.Clear(textVectors[c] ??= new string[]?[capacity]);
                    break;
            }
        }
    }

    /// <summary>Creates a getter for output column <paramref name="column"/>; <paramref name="currentRow"/> makes sure
    /// the current row's batch is computed and returns the row's index in it.</summary>
    internal ValueGetter<TValue> CreateGetter<TValue>(int column, Func<int> currentRow)
    {
        var definition = columns[CheckIndex(column)];
        Delegate getter = definition.Kind switch
        {
            OutputColumnKind.FloatVector => (ValueGetter<VBuffer<float>>)((ref VBuffer<float> value) =>
            {
                int row = currentRow();
                int size = definition.VectorSize;
                var editor = VBufferEditor.Create(ref value, size);
                floats[column].AsSpan(row * size, size).CopyTo(editor.Values);
                value = editor.Commit();
            }),
            OutputColumnKind.Text => (ValueGetter<ReadOnlyMemory<char>>)((ref ReadOnlyMemory<char> value) =>
            {
                int row = currentRow();
                value = (texts[column]![row] ?? "").AsMemory();
            }),
            _ => (ValueGetter<VBuffer<ReadOnlyMemory<char>>>)((ref VBuffer<ReadOnlyMemory<char>> value) =>
            {
                int row = currentRow();
                var items = textVectors[column]![row] ?? Array.Empty<string>();
                var editor = VBufferEditor.Create(ref value, items.Length);
                for (int i = 0; i < items.Length; i++)
                    editor.Values[i] = (items[i] ?? "").AsMemory();
                value = editor.Commit();
            }),
        };
        return getter as ValueGetter<TValue> ?? throw new InvalidOperationException(
            $"Output column '{definition.Name}' has type {InputColumn.Describe(definition.Type)}; it cannot be read as {typeof(TValue).Name}.");
    }

    private int CheckIndex(int column)
    {
        if ((uint)column >= (uint)columns.Count)
            throw new ArgumentOutOfRangeException(nameof(column), column, $"The transformer has {columns.Count} output columns.");
        return column;
    }

    private int CheckRow(int row)
    {
        if ((uint)row >= (uint)Count)
            throw new ArgumentOutOfRangeException(nameof(row), row, $"The batch has {Count} rows.");
        return row;
    }

    private int CheckColumn(int column, OutputColumnKind kind)
    {
        var definition = columns[CheckIndex(column)];
        if (definition.Kind != kind)
            throw new InvalidOperationException($"Output column '{definition.Name}' is a {definition.Kind} column, not {kind}.");
        if (!requested[column])
            throw new InvalidOperationException($"Output column '{definition.Name}' is not requested in this batch (check {nameof(IsRequested)}).");
        return column;
    }
}
