using Microsoft.ML;

namespace NoteLLM.MLNet.DataViews;

/// <summary>
/// The input values of one batch of consecutive rows, column by column, as handed to
/// <see cref="BatchedTransformerBase.ComputeBatch"/>. Column indices follow
/// <see cref="BatchedTransformerBase.InputColumns"/>. Valid only during that call.
/// </summary>
public sealed class BatchInput
{
    private readonly IReadOnlyList<InputColumn> _columns;
    private readonly string[]?[] _texts;
    private readonly string[][]?[] _textLists;

    internal BatchInput(IReadOnlyList<InputColumn> columns, int capacity)
    {
        _columns = columns;
        Capacity = capacity;
        _texts = new string[]?[columns.Count];
        _textLists = new string[][]?[columns.Count];
        for (int i = 0; i < columns.Count; i++)
        {
            if (columns[i].Kind == InputColumnKind.Text)
                _texts[i] = new string[capacity];
            else
                _textLists[i] = new string[capacity][];
        }
    }

    /// <summary>The number of rows in the batch.</summary>
    public int Count { get; internal set; }

    /// <summary>The most rows a batch holds.</summary>
    internal int Capacity { get; }

    /// <summary>The batch's values of the <see cref="InputColumnKind.Text"/> input column <paramref name="column"/>.</summary>
    public ReadOnlySpan<string> GetTexts(int column) =>
        (_texts[CheckColumn(column, InputColumnKind.Text)] ?? throw new InvalidOperationException()).AsSpan(0, Count);

    /// <summary>The batch's item lists of the <see cref="InputColumnKind.TextList"/> input column <paramref name="column"/>.</summary>
    public ReadOnlySpan<string[]> GetTextLists(int column) =>
        (_textLists[CheckColumn(column, InputColumnKind.TextList)] ?? throw new InvalidOperationException()).AsSpan(0, Count);

    /// <summary>Creates an action that copies <paramref name="row"/>'s current input values into batch row
    /// <c>i</c>. <paramref name="row"/> must have every input column active.</summary>
    internal Action<int> CreateRowReader(DataViewRow row)
    {
        var readers = new Action<int>[_columns.Count];
        for (int c = 0; c < _columns.Count; c++)
        {
            if (_columns[c].Kind == InputColumnKind.Text)
            {
                var getter = _columns[c].CreateTextGetter(row);
                var target = _texts[c]!;
                readers[c] = i => target[i] = getter();
            }
            else
            {
                var getter = _columns[c].CreateTextListGetter(row);
                var target = _textLists[c]!;
                readers[c] = i => target[i] = getter();
            }
        }
        return i =>
        {
            foreach (var read in readers)
                read(i);
        };
    }

    private int CheckColumn(int column, InputColumnKind kind)
    {
        if ((uint)column >= (uint)_columns.Count)
            throw new ArgumentOutOfRangeException(nameof(column), column, $"The transformer has {_columns.Count} input columns.");
        if (_columns[column].Kind != kind)
            throw new InvalidOperationException($"Input column '{_columns[column].Name}' is a {_columns[column].Kind} column, not {kind}.");
        return column;
    }
}
