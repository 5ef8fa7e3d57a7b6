using Microsoft.Extensions.AI;

namespace NoteLLM.MLNet.AI;

/// <summary>Microsoft.Extensions.AI-style views of a fitted or loaded <see cref="NoteLLMTransformer"/>.</summary>
public static class NoteLLMAIExtensions
{
    /// <summary>The transformer's embeddings as an <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> (see
    /// <see cref="NoteEmbeddingGenerator"/>).</summary>
    public static IEmbeddingGenerator<string, Embedding<float>> AsEmbeddingGenerator(this NoteLLMTransformer transformer) =>
        new NoteEmbeddingGenerator(transformer);

    /// <summary>The transformer's generated hashtags and category as an <see cref="INoteAnnotator"/> (see
    /// <see cref="NoteAnnotator"/>).</summary>
    public static INoteAnnotator AsNoteAnnotator(this NoteLLMTransformer transformer) => new NoteAnnotator(transformer);
}
