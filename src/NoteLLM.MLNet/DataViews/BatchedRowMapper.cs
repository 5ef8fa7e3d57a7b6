using Microsoft.ML;
using Microsoft.ML.Data;

namespace NoteLLM.MLNet.DataViews;

/// <summary>
/// Row-to-row form of a <see cref="BatchedTransformerBase"/> (what <c>PredictionEngine</c> and chained mappers
/// use): each row computes its outputs as a batch of one, again whenever the input row moves to another
/// position (a <c>PredictionEngine</c> reuses one input row for every prediction).
/// </summary>
internal sealed class BatchedRowMapper : IRowToRowMapper
{
    private readonly BatchedTransformerBase transformer;

    public BatchedRowMapper(BatchedTransformerBase transformer, DataViewSchema inputSchema)
    {
        this.transformer = transformer;
        InputSchema = inputSchema;
        OutputSchema = transformer.GetOutputSchema(inputSchema);
    }

    public DataViewSchema InputSchema { get; }

    public DataViewSchema OutputSchema { get; }

    public IEnumerable<DataViewSchema.Column> GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns)
    {
        var dependencies = new HashSet<int>();
        foreach (var column in dependingColumns)
        {
            if (column.Index < InputSchema.Count)
                dependencies.Add(column.Index);
            else
                dependencies.UnionWith(transformer.InputColumns.Select(c => c.Check(InputSchema).Index));
        }
        return dependencies.Order().Select(i => InputSchema[i]).ToList();
    }

    public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns)
    {
        if (input.Schema != InputSchema)
            throw new ArgumentException("The row's schema is not the schema this mapper was created for.", nameof(input));
        return new BatchedRow(this, input, BatchedColumns.ActiveOutputs(transformer, InputSchema.Count, activeColumns));
    }

    private sealed class BatchedRow : DataViewRow
    {
        private readonly BatchedRowMapper mapper;
        private readonly DataViewRow input;
        private readonly BatchedColumns columns;
        private readonly Action<int>? readInputRow;

        public BatchedRow(BatchedRowMapper mapper, DataViewRow input, bool[] activeOutputs)
        {
            this.mapper = mapper;
            this.input = input;
            columns = new BatchedColumns(mapper.transformer, input, activeOutputs, capacity: 1, "row");
            readInputRow = columns.Batch?.Input.CreateRowReader(input);
        }

        public override DataViewSchema Schema => mapper.OutputSchema;

        public override long Position => input.Position;

        public override long Batch => input.Batch;

        public override ValueGetter<DataViewRowId> GetIdGetter() => input.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) => columns.IsColumnActive(column);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) => columns.GetGetter<TValue>(column, CurrentBatchRow);

        private int CurrentBatchRow()
        {
            long position = input.Position;
            var batch = columns.Batch!;
            if (batch.GetRow(position) < 0)
            {
                readInputRow!(0);
                batch.Compute(position, 1);
            }
            return 0;
        }
    }
}
