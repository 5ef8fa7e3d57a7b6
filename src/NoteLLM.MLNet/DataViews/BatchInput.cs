using Microsoft.ML;

namespace NoteLLM.MLNet.DataViews;

/// <summary>
/// The input values of one batch of consecutive rows, column by column, as handed to
/// <see cref="BatchedTransformerBase.ComputeBatch"/>. Column indices follow
/// <see cref="BatchedTransformerBase.InputColumns"/>. Valid only during that call.
/// </summary>
public sealed class BatchInput
{
    private readonly IReadOnlyList<InputColumn> columns;
    private readonly string[]?[] texts;
    private readonly string[][]?[] textLists;

    internal BatchInput(IReadOnlyList<InputColumn> columns, int capacity)
    {
        this.columns = columns;
        Capacity = capacity;
        texts = new string[]?[columns.Count];
        textLists = new string[][]?[columns.Count];
        for (int i = 0; i < columns.Count; i++)
        {
            if (columns[i].Kind == InputColumnKind.Text)
                texts[i] = new string[capacity];
            else
                textLists[i] = new string[capacity][];
        }
    }

    /// <summary>The number of rows in the batch.</summary>
    public int Count { get; internal set; }

    /// <summary>The most rows a batch holds.</summary>
    internal int Capacity { get; }

    /// <summary>The batch's values of the <see cref="InputColumnKind.Text"/> input column <paramref name="column"/>.</summary>
    public ReadOnlySpan<string> GetTexts(int column) =>
        (texts[CheckColumn(column, InputColumnKind.Text)] ?? throw new InvalidOperationException()).AsSpan(0, Count);

    /// <summary>The batch's item lists of the <see cref="InputColumnKind.TextList"/> input column <paramref name="column"/>.</summary>
    public ReadOnlySpan<string[]> GetTextLists(int column) =>
        (textLists[CheckColumn(column, InputColumnKind.TextList)] ?? throw new InvalidOperationException()).AsSpan(0, Count);

    /// <summary>Creates an action that copies <paramref name="row"/>'s current input values into batch row
    /// <c>i</c>. <paramref name="row"/> must have every input column active.</summary>
    internal Action<int> CreateRowReader(DataViewRow row)
    {
        var readers = new Action<int>[columns.Count];
        for (int c = 0; c < columns.Count; c++)
        {
            if (columns[c].Kind == InputColumnKind.Text)
            {
                var getter = columns[c].CreateTextGetter(row);
                var target = texts[c]!;
                readers[c] = i => target[i] = getter();
            }
            else
            {
                var getter = columns[c].CreateTextListGetter(row);
                var target = textLists[c]!;
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
        if ((uint)column >= (uint)columns.Count)
            throw new ArgumentOutOfRangeException(nameof(column), column, $"The transformer has {columns.Count} input columns.");
        if (columns[column].Kind != kind)
            throw new InvalidOperationException($"Input column '{columns[column].Name}' is a {columns[column].Kind} column, not {kind}.");
        return column;
    }
}
