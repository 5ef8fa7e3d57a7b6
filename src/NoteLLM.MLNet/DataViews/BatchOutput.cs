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
    private readonly IReadOnlyList<OutputColumn> _columns;
    private readonly int _capacity;
    private readonly bool[] _requested;
    private readonly float[]?[] _floats;
    private readonly string?[]?[] _texts;
    private readonly string[]?[]?[] _textVectors;

    internal BatchOutput(IReadOnlyList<OutputColumn> columns, int capacity)
    {
        _columns = columns;
        _capacity = capacity;
        _requested = new bool[columns.Count];
        _floats = new float[]?[columns.Count];
        _texts = new string?[]?[columns.Count];
        _textVectors = new string[]?[]?[columns.Count];
    }

    /// <summary>The number of rows in the batch.</summary>
    public int Count { get; private set; }

    /// <summary>Whether the consumer reads output column <paramref name="column"/>; others may be skipped.</summary>
    public bool IsRequested(int column) => _requested[CheckIndex(column)];

    /// <summary>The float vectors of output column <paramref name="column"/>, row after row
    /// (<see cref="Count"/> x <see cref="OutputColumn.VectorSize"/> values).</summary>
    public Span<float> GetFloatVectors(int column) =>
        _floats[CheckColumn(column, OutputColumnKind.FloatVector)].AsSpan(0, Count * _columns[column].VectorSize);

    /// <summary>The float vector of output column <paramref name="column"/> for batch row <paramref name="row"/>.</summary>
    public Span<float> GetFloatVector(int column, int row) =>
        GetFloatVectors(column).Slice(CheckRow(row) * _columns[column].VectorSize, _columns[column].VectorSize);

    /// <summary>The text values of output column <paramref name="column"/>, one per row.</summary>
    public Span<string?> GetTexts(int column) => _texts[CheckColumn(column, OutputColumnKind.Text)].AsSpan(0, Count);

    /// <summary>The text vectors of output column <paramref name="column"/>, one per row.</summary>
    public Span<string[]?> GetTextVectors(int column) =>
        _textVectors[CheckColumn(column, OutputColumnKind.TextVector)].AsSpan(0, Count);

    /// <summary>Starts a batch of <paramref name="count"/> rows computing the <paramref name="requested"/> columns.</summary>
    internal void Reset(int count, bool[] requested)
    {
        Count = count;
        for (int c = 0; c < _columns.Count; c++)
        {
            _requested[c] = requested[c];
            if (!requested[c])
                continue;
            switch (_columns[c].Kind)
            {
                case OutputColumnKind.FloatVector:
                    (_floats[c] ??= new float[_capacity * _columns[c].VectorSize]).AsSpan().Clear();
                    break;
                case OutputColumnKind.Text:
                    Array.Clear(_texts[c] ??= new string?[_capacity]);
                    break;
                default:
                    Array.Clear(_textVectors[c] ??= new string[]?[_capacity]);
                    break;
            }
        }
    }

    /// <summary>Creates a getter for output column <paramref name="column"/>; <paramref name="currentRow"/> makes sure
    /// the current row's batch is computed and returns the row's index in it.</summary>
    internal ValueGetter<TValue> CreateGetter<TValue>(int column, Func<int> currentRow)
    {
        var definition = _columns[CheckIndex(column)];
        Delegate getter = definition.Kind switch
        {
            OutputColumnKind.FloatVector => (ValueGetter<VBuffer<float>>)((ref VBuffer<float> value) =>
            {
                int row = currentRow();
                int size = definition.VectorSize;
                var editor = VBufferEditor.Create(ref value, size);
                _floats[column].AsSpan(row * size, size).CopyTo(editor.Values);
                value = editor.Commit();
            }),
            OutputColumnKind.Text => (ValueGetter<ReadOnlyMemory<char>>)((ref ReadOnlyMemory<char> value) =>
            {
                int row = currentRow();
                value = (_texts[column]![row] ?? "").AsMemory();
            }),
            _ => (ValueGetter<VBuffer<ReadOnlyMemory<char>>>)((ref VBuffer<ReadOnlyMemory<char>> value) =>
            {
                int row = currentRow();
                var items = _textVectors[column]![row] ?? Array.Empty<string>();
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
        if ((uint)column >= (uint)_columns.Count)
            throw new ArgumentOutOfRangeException(nameof(column), column, $"The transformer has {_columns.Count} output columns.");
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
        var definition = _columns[CheckIndex(column)];
        if (definition.Kind != kind)
            throw new InvalidOperationException($"Output column '{definition.Name}' is a {definition.Kind} column, not {kind}.");
        if (!_requested[column])
            throw new InvalidOperationException($"Output column '{definition.Name}' is not requested in this batch (check {nameof(IsRequested)}).");
        return column;
    }
}
