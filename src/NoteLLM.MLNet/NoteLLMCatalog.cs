using Microsoft.ML;
using Microsoft.ML.Data;
using NoteLLM.MLNet.Evaluation;
using NoteLLM.MLNet.Generation;
using NoteLLM.MLNet.Modeling;

namespace NoteLLM.MLNet;

/// <summary>Entry points: <c>mlContext.Transforms.NoteLLM(...)</c>.</summary>
public static class NoteLLMCatalog
{
    /// <summary>NoteLLM with every option spelled out.</summary>
    public static NoteLLMEstimator NoteLLM(this TransformsCatalog catalog, NoteLLMOptions options) =>
        new(catalog.GetEnvironment(), options);

    /// <summary>
    /// NoteLLM with the common arguments: the note columns, an optional Hugging Face checkpoint folder to fine-tune
    /// (else the pretrained all-MiniLM-L6-v2 encoder, whose package the application references), the embedding size
    /// and the outputs. Training takes the backbone's preset.
    /// </summary>
    public static NoteLLMEstimator NoteLLM(this TransformsCatalog catalog,
        string titleColumnName = "Title", string contentColumnName = "Content", string? hashtagsColumnName = "Hashtags",
        string? categoryColumnName = "Category", string? huggingFaceCheckpoint = null, int embeddingDimension = 128,
        NoteOutputs outputs = NoteOutputs.All)
    {
        var training = Training.NoteLLMTrainerOptions.For(huggingFaceCheckpoint is null ? NoteLLMBackbone.PretrainedEncoder : NoteLLMBackbone.HuggingFaceCheckpoint);
        return NoteLLM(catalog, new NoteLLMOptions
        {
            TitleColumnName = titleColumnName,
            ContentColumnName = contentColumnName,
            HashtagsColumnName = hashtagsColumnName,
            CategoryColumnName = categoryColumnName,
            HuggingFaceCheckpoint = huggingFaceCheckpoint,
            Outputs = outputs,
            Training = training with { EmbeddingDimension = embeddingDimension },
        });
    }

    /// <summary>
    /// The paper's evaluation (paper section 4.1) of notes transformed by NoteLLM (or any model that adds an embedding
    /// column): I2I Recall@k with the authors' protocol on <paramref name="testPairs"/> (columns Id, RelatedId),
    /// overall and by exposure when a high-exposure column is named; category accuracy and illegal rate against the
    /// categories <paramref name="model"/> was trained on; hashtag BLEU-4 and ROUGE.
    /// </summary>
    public static NoteLLMMetrics EvaluateNoteLLM(this TransformsCatalog catalog, IDataView transformedNotes, IDataView testPairs,
        NoteLLMTransformer? model = null, NoteLLMEvaluatorOptions? options = null)
    {
        options ??= new NoteLLMEvaluatorOptions();
        if (model is not null && options.LegalCategories is null) options = options.WithLegalCategories(model.Categories.ToArray());
        return NoteLLMEvaluator.Evaluate(transformedNotes, testPairs, options);
    }
}
