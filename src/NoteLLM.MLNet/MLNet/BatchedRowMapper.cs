using Microsoft.ML;
using Microsoft.ML.Data;

namespace NoteLLM.MLNet.MLNet;

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
        var activeOutputs = new bool[_transformer.OutputColumns.Count];
        foreach (var column in activeColumns.Where(c => c.Index >= InputSchema.Count))
            activeOutputs[column.Index - InputSchema.Count] = true;
        return new BatchedRow(this, input, activeOutputs);
    }

    private sealed class BatchedRow : DataViewRow
    {
        private readonly BatchedRowMapper _mapper;
        private readonly DataViewRow _input;
        private readonly bool[] _activeOutputs;
        private readonly OutputBatch? _batch;
        private readonly Action<int>? _readInputRow;

        public BatchedRow(BatchedRowMapper mapper, DataViewRow input, bool[] activeOutputs)
        {
            _mapper = mapper;
            _input = input;
            _activeOutputs = activeOutputs;
            if (activeOutputs.Contains(true))
            {
                _batch = new OutputBatch(mapper._transformer, capacity: 1);
                _readInputRow = _batch.Input.CreateRowReader(input);
            }
        }

        public override DataViewSchema Schema => _mapper.OutputSchema;

        public override long Position => _input.Position;

        public override long Batch => _input.Batch;

        public override ValueGetter<DataViewRowId> GetIdGetter() => _input.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) =>
            column.Index < _input.Schema.Count
                ? _input.IsColumnActive(_input.Schema[column.Index])
                : _activeOutputs[column.Index - _input.Schema.Count];

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (column.Index < _input.Schema.Count)
                return _input.GetGetter<TValue>(_input.Schema[column.Index]);
            int output = column.Index - _input.Schema.Count;
            if (!_activeOutputs[output] || _batch == null)
                throw new InvalidOperationException($"Column '{column.Name}' is not active in this row.");
            _batch.Request(output);
            return _batch.Output.CreateGetter<TValue>(output, CurrentBatchRow);
        }

        private int CurrentBatchRow()
        {
            long position = _input.Position;
            if (_batch!.GetRow(position) < 0)
            {
                _readInputRow!(0);
                _batch.Compute(position, 1);
            }
            return 0;
        }
    }
}
