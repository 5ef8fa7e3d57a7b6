using NoteLLM.MLNet.Prompting;

namespace NoteLLM.MLNet.AI;

/// <summary>What NoteLLM generates for a note (the paper's collaborative supervised fine-tuning task).</summary>
/// <param name="Hashtags">The generated hashtags (topics), possibly none.</param>
/// <param name="Category">The generated category; empty when nothing was generated.</param>
public sealed record NoteAnnotation(IReadOnlyList<string> Hashtags, string Category);

/// <summary>
/// Generates hashtags and a category for notes, in the style of Microsoft.Extensions.AI's generators: asynchronous,
/// batched (all notes of a call in one pass of the model) and cancellable.
/// </summary>
public interface INoteAnnotator
{
    /// <summary>Generates the hashtags and category of each note, in the notes' order.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    Task<IReadOnlyList<NoteAnnotation>> AnnotateAsync(IEnumerable<NoteText> notes, CancellationToken cancellationToken = default);
}
