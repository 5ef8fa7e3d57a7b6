using Microsoft.ML;
using Microsoft.ML.Data;
using NoteLLM.MLNet.Generation;

namespace NoteLLM.MLNet;

/// <summary>Entry points: <c>mlContext.Transforms.NoteLLM(...)</c>.</summary>
public static class NoteLLMCatalog
{
    /// <summary>NoteLLM with every option spelled out.</summary>
    public static NoteLLMEstimator NoteLLM(this TransformsCatalog catalog, NoteLLMOptions options) =>
        new(catalog.GetEnvironment(), options);

    /// <summary>
    /// NoteLLM with the common arguments: the note columns, an optional Hugging Face checkpoint folder to fine-tune
    /// (else a small decoder is trained from scratch with values suited to that), the embedding size and the outputs.
    /// </summary>
    public static NoteLLMEstimator NoteLLM(this TransformsCatalog catalog,
        string titleColumnName = "Title", string contentColumnName = "Content", string? hashtagsColumnName = "Hashtags",
        string? categoryColumnName = "Category", string? huggingFaceCheckpoint = null, int embeddingDimension = 128,
        NoteOutputs outputs = NoteOutputs.All)
    {
        var training = huggingFaceCheckpoint is null ? Training.NoteLLMTrainerOptions.ForSmallModelFromScratch : new Training.NoteLLMTrainerOptions();
        return NoteLLM(catalog, new NoteLLMOptions
        {
            TitleColumnName = titleColumnName, ContentColumnName = contentColumnName, HashtagsColumnName = hashtagsColumnName,
            CategoryColumnName = categoryColumnName, HuggingFaceCheckpoint = huggingFaceCheckpoint, Outputs = outputs,
            Training = training with { EmbeddingDimension = embeddingDimension },
        });
    }
}
