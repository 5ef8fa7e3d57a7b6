using Microsoft.Extensions.AI;
using Microsoft.ML.Data;
using NoteLLM.MLNet.DataViews;
using NoteLLM.MLNet.Prompting;

namespace NoteLLM.MLNet.AI;

/// <summary>
/// A fitted or loaded NoteLLM transformer as a Microsoft.Extensions.AI <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/>:
/// each string is embedded as the content of a note without title or hashtags, all strings of a call in one
/// <c>Transform</c> (batched <c>InferenceBatchSize</c> notes per forward pass). The vectors
/// are unit length, so a dot product is the cosine similarity that ranks related notes.
/// </summary>
/// <remarks>
/// Calls are safe from any thread: they wait (asynchronously) for the transformer, which the embedding generator and
/// the <see cref="INoteAnnotator"/> of one transformer use one call at a time. The generator does not own the
/// transformer: disposing it leaves the transformer alone. Create it with
/// <see cref="NoteLLMAIExtensions.AsEmbeddingGenerator"/>.
/// </remarks>
public sealed class NoteEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    private readonly NoteLLMTransformer transformer;
    private readonly NoteTransformerRunner runner;
    private readonly string embeddingColumn;

    /// <exception cref="ArgumentException">The transformer does not output embeddings (<see cref="NoteLLMOptions.Outputs"/>).</exception>
    public NoteEmbeddingGenerator(NoteLLMTransformer transformer)
    {
        ArgumentNullException.ThrowIfNull(transformer);
        this.transformer = transformer;
        runner = new NoteTransformerRunner(transformer);
        embeddingColumn = runner.OutputColumn(OutputColumnKind.FloatVector)
            ?? throw new ArgumentException($"The NoteLLM transformer computes no embedding; fit it with {nameof(NoteLLMOptions)}.{nameof(NoteLLMOptions.Outputs)} including Embedding.", nameof(transformer));
        Metadata = new EmbeddingGeneratorMetadata("NoteLLM.MLNet", defaultModelDimensions: transformer.EmbeddingDimension);
    }

    /// <summary>The provider name and the embedding size.</summary>
    public EmbeddingGeneratorMetadata Metadata { get; }

    /// <inheritdoc />
    /// <exception cref="ArgumentException"><see cref="EmbeddingGenerationOptions.Dimensions"/> asks for another size than the model's.</exception>
    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (options?.Dimensions is int dimensions && dimensions != transformer.EmbeddingDimension)
            throw new ArgumentException($"This NoteLLM model embeds into {transformer.EmbeddingDimension} dimensions, not {dimensions}.", nameof(options));
        var notes = values.Select(v => NoteText.Of(null, v)).ToList();
        var vectors = await runner.RunAsync<float[]>(notes, [embeddingColumn], cursor =>
        {
            var getter = cursor.GetGetter<VBuffer<float>>(cursor.Schema[embeddingColumn]);
            VBuffer<float> vector = default;
            return () =>
            {
                getter(ref vector);
                return vector.DenseValues().ToArray();
            };
        }, cancellationToken).ConfigureAwait(false);
        var created = DateTimeOffset.UtcNow;
        return new GeneratedEmbeddings<Embedding<float>>(vectors.Select(v => new Embedding<float>(v) { CreatedAt = created }));
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(EmbeddingGeneratorMetadata) ? Metadata
            : serviceType.IsInstanceOfType(this) ? this
            : serviceType.IsInstanceOfType(transformer) ? transformer
            : null;
    }

    /// <summary>Does nothing: the transformer belongs to the caller.</summary>
    public void Dispose()
    {
    }
}
