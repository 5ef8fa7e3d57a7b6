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
    private readonly BatchedTransformerBase _transformer;

    public BatchedRowMapper(BatchedTransformerBase transformer, DataViewSchema inputSchema)
    {
        _transformer = transformer;
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
                dependencies.UnionWith(_transformer.InputColumns.Select(c => c.Check(InputSchema).Index));
        }
        return dependencies.Order().Select(i => InputSchema[i]).ToList();
    }

    public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns)
    {
        if (input.Schema != InputSchema)
            throw new ArgumentException("The row's schema is not the schema this mapper was created for.", nameof(input));
        return new BatchedRow(this, input, BatchedColumns.ActiveOutputs(_transformer, InputSchema.Count, activeColumns));
    }

    private sealed class BatchedRow : DataViewRow
    {
        private readonly BatchedRowMapper _mapper;
        private readonly DataViewRow _input;
        private readonly BatchedColumns _columns;
        private readonly Action<int>? _readInputRow;

        public BatchedRow(BatchedRowMapper mapper, DataViewRow input, bool[] activeOutputs)
        {
            _mapper = mapper;
            _input = input;
            _columns = new BatchedColumns(mapper._transformer, input, activeOutputs, capacity: 1, "row");
            _readInputRow = _columns.Batch?.Input.CreateRowReader(input);
        }

        public override DataViewSchema Schema => _mapper.OutputSchema;

        public override long Position => _input.Position;

        public override long Batch => _input.Batch;

        public override ValueGetter<DataViewRowId> GetIdGetter() => _input.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) => _columns.IsColumnActive(column);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) => _columns.GetGetter<TValue>(column, CurrentBatchRow);

        private int CurrentBatchRow()
        {
            long position = _input.Position;
            var batch = _columns.Batch!;
            if (batch.GetRow(position) < 0)
            {
                _readInputRow!(0);
                batch.Compute(position, 1);
            }
            return 0;
        }
    }
}
