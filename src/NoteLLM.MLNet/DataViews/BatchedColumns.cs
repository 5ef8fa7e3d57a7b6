using Microsoft.ML;
using Microsoft.ML.Data;

namespace NoteLLM.MLNet.DataViews;

/// <summary>
/// The columns of a row of a <see cref="BatchedTransformerBase"/>'s output, served the same way by a
/// <see cref="BatchedDataView"/> cursor and a <see cref="BatchedRowMapper"/> row: the input's columns by the input
/// row untouched, the transformer's output columns from a <see cref="RowBatch"/> that the owner keeps computed
/// for its current row. The owners differ only in how they fill that batch.
/// </summary>
internal sealed class BatchedColumns
{
    private readonly DataViewRow input;
    private readonly bool[] activeOutputs;
    private readonly string owner;

    /// <param name="transformer">the transformer whose outputs are served</param>
    /// <param name="input">the row or cursor that serves the input's columns</param>
    /// <param name="activeOutputs">which output columns may be read (<see cref="ActiveOutputs"/>)</param>
    /// <param name="capacity">the most rows the batch holds</param>
    /// <param name="owner">"cursor" or "row": how errors name the owner</param>
    public BatchedColumns(BatchedTransformerBase transformer, DataViewRow input, bool[] activeOutputs, int capacity, string owner)
    {
        this.input = input;
        this.activeOutputs = activeOutputs;
        this.owner = owner;
        if (activeOutputs.Contains(true))
            Batch = new RowBatch(transformer, capacity);
    }

    /// <summary>The batch the output columns are read from; null when no output column is active.</summary>
    public RowBatch? Batch { get; }

    /// <summary>Which of the transformer's output columns are among <paramref name="columns"/>, columns of an
    /// output schema whose first <paramref name="inputCount"/> columns are the input's.</summary>
    public static bool[] ActiveOutputs(BatchedTransformerBase transformer, int inputCount, IEnumerable<DataViewSchema.Column> columns)
    {
        var activeOutputs = new bool[transformer.OutputColumns.Count];
        foreach (var column in columns.Where(c => c.Index >= inputCount))
            activeOutputs[column.Index - inputCount] = true;
        return activeOutputs;
    }

    public bool IsColumnActive(DataViewSchema.Column column)
    {
        int inputCount = input.Schema.Count;
        return column.Index < inputCount
            ? input.IsColumnActive(input.Schema[column.Index])
            : activeOutputs[column.Index - inputCount];
    }

    /// <summary>A getter of <paramref name="column"/>; an output column's reads the row of the batch that
    /// <paramref name="currentBatchRow"/> returns after making sure the batch holds the owner's current row.</summary>
    public ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column, Func<int> currentBatchRow)
    {
        int inputCount = input.Schema.Count;
        if (column.Index < inputCount)
            return input.GetGetter<TValue>(input.Schema[column.Index]);
        int output = column.Index - inputCount;
        if (!activeOutputs[output] || Batch == null)
            throw new InvalidOperationException($"Column '{column.Name}' is not active in this {owner}.");
        Batch.Request(output);
        return Batch.Output.CreateGetter<TValue>(output, currentBatchRow);
    }
}
