using Microsoft.ML.Data;
using NoteLLM.MLNet.DataViews;
using NoteLLM.MLNet.Prompting;

namespace NoteLLM.MLNet.AI;

/// <summary>
/// A fitted or loaded NoteLLM transformer as an <see cref="INoteAnnotator"/>: the notes of a call go through one
/// <c>Transform</c>, reading only the generated hashtags and category (no embedding).
/// Thread safety and ownership as for <see cref="NoteEmbeddingGenerator"/>. Create it with
/// <see cref="NoteLLMAIExtensions.AsNoteAnnotator"/>.
/// </summary>
public sealed class NoteAnnotator : INoteAnnotator
{
    private readonly NoteTransformerRunner runner;
    private readonly string hashtagsColumn, categoryColumn;

    /// <exception cref="ArgumentException">The transformer does not generate both hashtags and category
    /// (<see cref="NoteLLMOptions.Outputs"/>).</exception>
    public NoteAnnotator(NoteLLMTransformer transformer)
    {
        runner = new NoteTransformerRunner(transformer);
        string? hashtags = runner.OutputColumn(OutputColumnKind.TextVector), category = runner.OutputColumn(OutputColumnKind.Text);
        if (hashtags is null || category is null)
            throw new ArgumentException($"The NoteLLM transformer does not generate both hashtags and category; fit it with {nameof(NoteLLMOptions)}.{nameof(NoteLLMOptions.Outputs)} including Hashtags and Category.", nameof(transformer));
        (hashtagsColumn, categoryColumn) = (hashtags, category);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<NoteAnnotation>> AnnotateAsync(IEnumerable<NoteText> notes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(notes);
        return await runner.RunAsync<NoteAnnotation>(notes.ToList(), [hashtagsColumn, categoryColumn], cursor =>
        {
            var hashtagsGetter = cursor.GetGetter<VBuffer<ReadOnlyMemory<char>>>(cursor.Schema[hashtagsColumn]);
            var categoryGetter = cursor.GetGetter<ReadOnlyMemory<char>>(cursor.Schema[categoryColumn]);
            VBuffer<ReadOnlyMemory<char>> hashtags = default;
            ReadOnlyMemory<char> category = default;
            return () =>
            {
                hashtagsGetter(ref hashtags);
                categoryGetter(ref category);
                return new NoteAnnotation(hashtags.DenseValues().Select(h => h.ToString()).ToArray(), category.ToString());
            };
        }, cancellationToken).ConfigureAwait(false);
    }
}
