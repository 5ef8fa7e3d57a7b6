using System.Runtime.CompilerServices;
using Microsoft.ML;
using Microsoft.ML.Data;
using NoteLLM.MLNet.DataViews;
using NoteLLM.MLNet.Prompting;

namespace NoteLLM.MLNet.AI;

/// <summary>
/// Runs a batch of notes through one <c>Transform</c> call off the caller's thread and reads
/// the requested output columns. Every runner over the same transformer shares one gate, so the adapters of one model
/// use it one call at a time and wait for it asynchronously; the token is checked before the call and between rows
/// (the transformer computes <c>InferenceBatchSize</c> rows per forward pass).
/// </summary>
internal sealed class NoteTransformerRunner
{
    private static readonly ConditionalWeakTable<NoteLLMTransformer, SemaphoreSlim> Gates = new();

    private readonly NoteLLMTransformer transformer;
    private readonly SemaphoreSlim gate;
    private readonly MLContext mlContext = new();
    private readonly SchemaDefinition inputSchema = SchemaDefinition.Create(typeof(NoteRow));

    public NoteTransformerRunner(NoteLLMTransformer transformer)
    {
        ArgumentNullException.ThrowIfNull(transformer);
        this.transformer = transformer;
        gate = Gates.GetValue(transformer, _ => new SemaphoreSlim(1, 1));
        // the transformer's inputs, in its order: title, content and, when it reads hashtags, hashtags
        var inputs = transformer.InputColumns;
        inputSchema[nameof(NoteRow.Title)].ColumnName = inputs[0].Name;
        inputSchema[nameof(NoteRow.Content)].ColumnName = inputs[1].Name;
        if (inputs.Count > 2) inputSchema[nameof(NoteRow.Hashtags)].ColumnName = inputs[2].Name;
        else inputSchema.RemoveAll(c => c.MemberName == nameof(NoteRow.Hashtags));
    }

    /// <summary>The name of the output column of that kind, or <see langword="null"/> when the model does not produce it.</summary>
    public string? OutputColumn(OutputColumnKind kind) => transformer.OutputColumns.FirstOrDefault(c => c.Kind == kind)?.Name;

    /// <summary>Transforms <paramref name="notes"/> and reads each output row with the reader <paramref name="open"/>
    /// makes for the cursor over <paramref name="columns"/>.</summary>
    public async Task<List<T>> RunAsync<T>(IReadOnlyList<NoteText> notes, string[] columns, Func<DataViewRowCursor, Func<T>> open,
        CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (notes.Count == 0) return [];
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await Task.Run(() => Run(notes, columns, open, cancellationToken), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }
    }

    private List<T> Run<T>(IReadOnlyList<NoteText> notes, string[] columns, Func<DataViewRowCursor, Func<T>> open, CancellationToken cancellationToken)
    {
        var rows = notes.Select(n => new NoteRow { Title = n.Title, Content = n.Content, Hashtags = n.Hashtags.ToArray() });
        IDataView output = transformer.Transform(mlContext.Data.LoadFromEnumerable(rows, inputSchema));
        using var cursor = output.GetRowCursor(columns.Select(c => output.Schema[c]));
        var read = open(cursor);
        var results = new List<T>(notes.Count);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!cursor.MoveNext()) return results;
            results.Add(read());
        }
    }

    private sealed class NoteRow
    {
        public string Title { get; set; } = "";
        public string Content { get; set; } = "";
        public string[] Hashtags { get; set; } = [];
    }
}
