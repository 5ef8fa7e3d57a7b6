namespace NoteLLM.MLNet.DataViews;

/// <summary>
/// One batch of consecutive rows owned by a single cursor or row: their input values, their computed outputs,
/// and which output columns the owner reads. Recomputes when the owner starts reading another column.
/// </summary>
internal sealed class RowBatch
{
    private readonly BatchedTransformerBase transformer;
    private readonly bool[] requested;
    private readonly bool[] computed;

    public RowBatch(BatchedTransformerBase transformer, int capacity)
    {
        this.transformer = transformer;
        Input = new BatchInput(transformer.InputColumns, capacity);
        Output = new BatchOutput(transformer.OutputColumns, capacity);
        requested = new bool[transformer.OutputColumns.Count];
        computed = new bool[transformer.OutputColumns.Count];
    }

    public BatchInput Input { get; }

    public BatchOutput Output { get; }

    /// <summary>The position of the batch's first row; -1 before the first batch.</summary>
    public long FirstPosition { get; private set; } = -1;

    public int Capacity => Input.Capacity;

    /// <summary>Marks output column <paramref name="column"/> as read by the owner.</summary>
    public void Request(int column) => requested[column] = true;

    /// <summary>Returns the index in the batch of the row at <paramref name="position"/>, or -1 when the batch does
    /// not hold it. Recomputes the batch first if a newly requested column is missing from it.</summary>
    public int GetRow(long position)
    {
        if (FirstPosition < 0 || position < FirstPosition || position >= FirstPosition + Input.Count)
            return -1;
        if (!requested.AsSpan().SequenceEqual(computed))
            Compute();
        return (int)(position - FirstPosition);
    }

    /// <summary>Computes the requested outputs for the <paramref name="count"/> rows just read into
    /// <see cref="Input"/>, the first of which is at <paramref name="firstPosition"/>. When the computation fails,
    /// the batch keeps its rows with no outputs, so reading one of them computes them again: the input cursor has
    /// moved past them and cannot give them twice.</summary>
    public void Compute(long firstPosition, int count)
    {
        FirstPosition = firstPosition;
        Input.Count = count;
        Compute();
    }

    private void Compute()
    {
        Array.Clear(computed);
        Output.Reset(Input.Count, requested);
        transformer.RunBatch(Input, Output);
        requested.CopyTo(computed, 0);
    }
}
