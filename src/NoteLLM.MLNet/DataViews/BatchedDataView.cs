using Microsoft.ML;
using Microsoft.ML.Data;

namespace NoteLLM.MLNet.DataViews;

/// <summary>
/// The lazy result of <see cref="BatchedTransformerBase.Transform"/>: the input's columns followed by the
/// transformer's output columns. Nothing is computed until a cursor reads an output column; then the outputs are
/// computed for a whole batch of rows at a time, read through a second, look-ahead cursor over the input.
/// </summary>
/// <remarks>
/// The main cursor serves the input columns untouched (any type, no copies); the look-ahead cursor reads only
/// the transformer's input columns, so an upstream transform feeding both is evaluated twice for those columns
/// (cheap next to an LLM forward pass). Row ids of the two cursors are compared, so an input that does not repeat
/// its row order fails with a clear error instead of mismatching outputs (positional ids cannot reveal a reorder;
/// ML.NET's own sources and shufflers repeat their order).
/// </remarks>
internal sealed class BatchedDataView : IDataView
{
    private readonly BatchedTransformerBase transformer;
    private readonly IDataView source;

    public BatchedDataView(BatchedTransformerBase transformer, IDataView source)
    {
        this.transformer = transformer;
        this.source = source;
        Schema = transformer.GetOutputSchema(source.Schema);
    }

    public bool CanShuffle => source.CanShuffle;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => source.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        int inputCount = source.Schema.Count;
        var needed = columnsNeeded.ToList();
        var passThrough = needed.Where(c => c.Index < inputCount).Select(c => source.Schema[c.Index]).ToList();
        var activeOutputs = BatchedColumns.ActiveOutputs(transformer, inputCount, needed);

        // Both cursors must see the rows in the same order: give them equal random sources.
        int? seed = rand?.Next();
        var main = source.GetRowCursor(passThrough, seed is int s1 ? new Random(s1) : null);
        if (!activeOutputs.Contains(true))
            return new BatchedCursor(this, main, null, activeOutputs, transformer);

        var inputColumns = transformer.InputColumns.Select(c => c.Check(source.Schema));
        var lookAhead = source.GetRowCursor(inputColumns, seed is int s2 ? new Random(s2) : null);
        return new BatchedCursor(this, main, lookAhead, activeOutputs, transformer);
    }

    /// <summary>Returns a single cursor: the batched computation already uses every core, and batching needs
    /// consecutive rows.</summary>
    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        new[] { GetRowCursor(columnsNeeded, rand) };

    private sealed class BatchedCursor : DataViewRowCursor
    {
        private readonly BatchedDataView view;
        private readonly DataViewRowCursor main;
        private readonly DataViewRowCursor? lookAhead;
        private readonly BatchedColumns columns;
        private readonly RowBatch? batch;
        private readonly Action<int>? readLookAheadRow;
        private readonly ValueGetter<DataViewRowId> mainId;
        private readonly ValueGetter<DataViewRowId>? lookAheadId;
        private readonly DataViewRowId[] batchIds;
        private bool disposed;

        public BatchedCursor(BatchedDataView view, DataViewRowCursor main, DataViewRowCursor? lookAhead,
            bool[] activeOutputs, BatchedTransformerBase transformer)
        {
            this.view = view;
            this.main = main;
            this.lookAhead = lookAhead;
            columns = new BatchedColumns(transformer, main, activeOutputs, transformer.BatchSize, "cursor");
            mainId = main.GetIdGetter();
            batchIds = Array.Empty<DataViewRowId>();
            if (lookAhead != null)
            {
                // GetRowCursor opens a look-ahead cursor exactly when an output is active, that is when there is a batch.
                batch = columns.Batch!;
                readLookAheadRow = batch.Input.CreateRowReader(lookAhead);
                lookAheadId = lookAhead.GetIdGetter();
                batchIds = new DataViewRowId[batch.Capacity];
            }
        }

        public override DataViewSchema Schema => view.Schema;

        public override long Position => main.Position;

        public override long Batch => main.Batch;

        public override ValueGetter<DataViewRowId> GetIdGetter() => main.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) => columns.IsColumnActive(column);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) => columns.GetGetter<TValue>(column, CurrentBatchRow);

        public override bool MoveNext() => main.MoveNext();

        /// <summary>Makes sure the batch holding the current row is computed; returns the row's index in it.</summary>
        private int CurrentBatchRow()
        {
            long position = main.Position;
            if (position < 0)
                throw new InvalidOperationException("The cursor is not on a row: call MoveNext first.");
            int row = batch!.GetRow(position);
            if (row < 0)
            {
                ComputeBatchAt(position);
                row = 0;
            }

            DataViewRowId id = default;
            mainId(ref id);
            if (!id.Equals(batchIds[row]))
                throw new InvalidOperationException(
                    "The input view returned its rows in a different order on a second cursor, so batched outputs " +
                    "cannot be matched to rows. Cache the input (mlContext.Data.Cache) before this transform.");
            return row;
        }

        private void ComputeBatchAt(long position)
        {
            var lookAhead = this.lookAhead!;
            // Rows the consumer skipped without reading outputs are skipped here too, without computing.
            while (lookAhead.Position < position - 1)
            {
                if (!lookAhead.MoveNext())
                    throw RowCountMismatch();
            }
            int count = 0;
            while (count < batch!.Capacity && lookAhead.MoveNext())
            {
                if (count == 0 && lookAhead.Position != position)
                    throw RowCountMismatch();
                readLookAheadRow!(count);
                lookAheadId!(ref batchIds[count]);
                count++;
            }
            if (count == 0)
                throw RowCountMismatch();
            batch.Compute(position, count);
        }

        private static InvalidOperationException RowCountMismatch() => new(
            "The input view returned fewer rows on a second cursor, so batched outputs cannot be matched to rows. " +
            "Cache the input (mlContext.Data.Cache) before this transform.");

        protected override void Dispose(bool disposing)
        {
            if (disposed)
                return;
            if (disposing)
            {
                main.Dispose();
                lookAhead?.Dispose();
            }
            disposed = true;
            base.Dispose(disposing);
        }
    }
}
