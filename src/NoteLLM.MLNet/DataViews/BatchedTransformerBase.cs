using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace NoteLLM.MLNet.DataViews;

/// <summary>
/// Base of a transformer that adds columns computed a batch of rows at a time (an LLM forward pass), with the
/// ML.NET plumbing done: up-front schema checks, a lazy <see cref="IDataView"/> whose cursors pass input columns
/// through and compute outputs on demand in batches of <see cref="BatchSize"/>, a row-to-row mapper for
/// <c>PredictionEngine</c>, saving through <see cref="ModelFormat"/>, and disposal.
/// </summary>
/// <remarks>
/// <para>A derived class supplies <see cref="InputColumns"/>, <see cref="OutputColumns"/>, <see cref="BatchSize"/>,
/// <see cref="ComputeBatch"/>, <see cref="Format"/> and <see cref="SaveModel"/>; for loading it registers itself with
/// <c>[assembly: LoadableClass(typeof(T), null, typeof(SignatureLoadModel), "user name", T.LoaderSignature)]</c>
/// and has <c>static T Create(IHostEnvironment env, ModelLoadContext ctx) => Format.Load(env, ctx, reader => ...)</c>.</para>
/// <para>Disposal: <c>PredictionEngine</c> (which owns its transformer by default) and <c>TransformerChain.Dispose</c>
/// dispose the transformer. After that, <see cref="ICanSaveModel.Save"/>, <see cref="Transform"/> and cursors throw
/// <see cref="ObjectDisposedException"/>, so a disposed transformer can never write a model without its weights.</para>
/// </remarks>
public abstract class BatchedTransformerBase : ITransformer, IDisposable
{
    // Computing and saving hold the read side; Dispose holds the write side, so it never releases state in use.
    private readonly ReaderWriterLockSlim lifetimeLock = new(LockRecursionPolicy.SupportsRecursion);
    private readonly object computeLock = new();
    private volatile bool disposed;

    /// <summary>Creates the transformer, registering a host named <paramref name="name"/> for logging and errors.</summary>
    protected BatchedTransformerBase(IHostEnvironment env, string name)
    {
        ArgumentNullException.ThrowIfNull(env);
        Host = env.Register(name);
    }

    /// <summary>The host this transformer logs and reports errors through.</summary>
    protected IHost Host { get; }

    /// <summary>The input columns <see cref="ComputeBatch"/> reads, in the order of <see cref="BatchInput"/>'s indices.</summary>
    public abstract IReadOnlyList<InputColumn> InputColumns { get; }

    /// <summary>The columns the transformer adds, in the order of <see cref="BatchOutput"/>'s indices.</summary>
    public abstract IReadOnlyList<OutputColumn> OutputColumns { get; }

    /// <summary>The most rows <see cref="ComputeBatch"/> receives at once when a data view is transformed.</summary>
    public abstract int BatchSize { get; }

    /// <summary>The model format (signature, version, loader) written by <see cref="ICanSaveModel.Save"/>.</summary>
    protected abstract ModelFormat Format { get; }

    /// <summary>Always true: <c>PredictionEngine</c> works with this transformer.</summary>
    public bool IsRowToRowMapper => true;

    /// <summary>
    /// Computes the requested outputs (<see cref="BatchOutput.IsRequested"/>) for the <see cref="BatchInput.Count"/>
    /// rows of <paramref name="input"/>, writing them into <paramref name="output"/>. Calls never overlap: the base
    /// class runs them one at a time.
    /// </summary>
    protected abstract void ComputeBatch(BatchInput input, BatchOutput output);

    /// <summary>Writes the transformer's state (options, weights, tokenizer files) after the model header.</summary>
    protected abstract void SaveModel(ModelWriter writer);

    /// <summary>Releases what the transformer holds (native tensors, sessions). Called once, by <see cref="Dispose()"/>,
    /// never while <see cref="ComputeBatch"/> runs.</summary>
    protected virtual void ReleaseResources()
    {
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException">An input column is missing or has the wrong type.</exception>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        foreach (var column in InputColumns)
            column.Check(inputSchema);
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(inputSchema);
        foreach (var column in OutputColumns)
            builder.AddColumn(column.Name, column.Type);
        return builder.ToSchema();
    }

    /// <summary>Returns a lazy view of <paramref name="input"/> with the output columns added; outputs are computed
    /// in batches while a cursor reads them.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An input column is missing or has the wrong type.</exception>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        ThrowIfDisposed();
        return new BatchedDataView(this, input);
    }

    /// <inheritdoc/>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        ThrowIfDisposed();
        return new BatchedRowMapper(this, inputSchema);
    }

    void ICanSaveModel.Save(ModelSaveContext ctx)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        lifetimeLock.EnterReadLock();
        try
        {
            ThrowIfDisposed();
            Format.Save(ctx, SaveModel);
        }
        finally
        {
            lifetimeLock.ExitReadLock();
        }
    }

    /// <summary>
    /// Runs <see cref="ComputeBatch"/>, one call at a time; after <c>mlContext.CancelExecution()</c> on the context the
    /// transformer was fitted or loaded with, it throws <see cref="OperationCanceledException"/> instead, so that a
    /// long transform (an evaluation, an index build) stops within one batch.
    /// </summary>
    internal void RunBatch(BatchInput input, BatchOutput output)
    {
        lifetimeLock.EnterReadLock();
        try
        {
            ThrowIfDisposed();
            Host.CheckAlive();
            lock (computeLock)
                ComputeBatch(input, output);
        }
        finally
        {
            lifetimeLock.ExitReadLock();
        }
    }

    /// <summary>Releases the transformer's resources; afterwards it can no longer transform or be saved.</summary>
    public void Dispose()
    {
        lifetimeLock.EnterWriteLock();
        try
        {
            if (disposed)
                return;
            disposed = true;
            ReleaseResources();
        }
        finally
        {
            lifetimeLock.ExitWriteLock();
        }
        GC.SuppressFinalize(this);
    }

    /// <summary>Throws <see cref="ObjectDisposedException"/> if the transformer was disposed.</summary>
    protected void ThrowIfDisposed()
    {
        if (disposed)
            throw new ObjectDisposedException(GetType().Name,
                $"This {GetType().Name} was disposed, so it can no longer transform data or be saved. " +
                "PredictionEngine (which owns its transformer unless created with PredictionEngineOptions.OwnsTransformer = false) " +
                "and TransformerChain.Dispose dispose the transformers they hold: save the model before disposing them.");
    }
}
