using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Text;

namespace NoteLLM.MLNet.Evaluation;

/// <summary>Options of <see cref="TfIdfEmbedder"/>.</summary>
public sealed class TfIdfEmbedderOptions
{
    /// <summary>
    /// Largest vocabulary kept (ML.NET's <c>MaximumNgramsCount</c>); it is also the embedding length, so the
    /// evaluated notes take notes x this x 4 bytes densely. Default: 16,384.
    /// </summary>
    public int MaximumTerms { get; set; } = 16_384;

    /// <summary>Longest word n-gram counted (1 = single words; 2 adds word pairs). Default: 1.</summary>
    public int NgramLength { get; set; } = 1;

    /// <summary>Drop English stop words before counting. Default: true.</summary>
    public bool RemoveStopWords { get; set; } = true;
}

/// <summary>
/// The classical content baseline of the results table: TF-IDF word vectors through ML.NET's
/// <c>Text.FeaturizeText</c>, L2-normalised, so the dot product the evaluator ranks by is TF-IDF cosine.
/// Text is lower-cased, diacritics and punctuation dropped, numbers kept. The vocabulary and IDF weights are
/// learnt from the texts given to the constructor (usually the training notes).
/// </summary>
public sealed class TfIdfEmbedder
{
    private sealed class Row
    {
        public string Text { get; set; } = "";
    }

    private sealed class Features
    {
        public float[] Embedding { get; set; } = Array.Empty<float>();
    }

    private readonly MLContext context;
    private readonly ITransformer featurizer;

    /// <summary>Learns the vocabulary and document frequencies from <paramref name="fitTexts"/>.</summary>
    public TfIdfEmbedder(MLContext context, IEnumerable<string> fitTexts, TfIdfEmbedderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(fitTexts);
        options ??= new TfIdfEmbedderOptions();
        if (options.MaximumTerms < 1) throw new ArgumentOutOfRangeException(nameof(options), options.MaximumTerms, "MaximumTerms must be at least 1");
        if (options.NgramLength < 1) throw new ArgumentOutOfRangeException(nameof(options), options.NgramLength, "NgramLength must be at least 1");
        this.context = context;
        var featurizing = new TextFeaturizingEstimator.Options
        {
            CaseMode = TextNormalizingEstimator.CaseMode.Lower,
            KeepDiacritics = false,
            KeepPunctuations = false,
            KeepNumbers = true,
            StopWordsRemoverOptions = options.RemoveStopWords ? new StopWordsRemovingEstimator.Options() : null,
            WordFeatureExtractor = new WordBagEstimator.Options
            {
                NgramLength = options.NgramLength,
                UseAllLengths = true,
                MaximumNgramsCount = new[] { options.MaximumTerms },
                Weighting = NgramExtractingEstimator.WeightingCriteria.TfIdf,
            },
            CharFeatureExtractor = null,
            Norm = TextFeaturizingEstimator.NormFunction.L2,
        };
        var data = context.Data.LoadFromEnumerable(fitTexts.Select(t => new Row { Text = t ?? "" }));
        featurizer = context.Transforms.Text.FeaturizeText(nameof(Features.Embedding), featurizing, nameof(Row.Text)).Fit(data);
    }

    /// <summary>
    /// The L2-normalised TF-IDF vector of each note, in order. A note with no known word gets the zero vector
    /// (it then ties with every other such note at score 0).
    /// </summary>
    public IReadOnlyList<(string Id, float[] Embedding)> Embed(IReadOnlyList<(string Id, string Text)> notes)
    {
        ArgumentNullException.ThrowIfNull(notes);
        var data = context.Data.LoadFromEnumerable(notes.Select(n => new Row { Text = n.Text ?? "" }));
        var transformed = featurizer.Transform(data);
        var column = transformed.Schema[nameof(Features.Embedding)];
        using var cursor = transformed.GetRowCursor(new[] { column });
        var getter = cursor.GetGetter<VBuffer<float>>(column);
        var result = new List<(string, float[])>(notes.Count);
        VBuffer<float> vector = default;
        while (cursor.MoveNext())
        {
            getter(ref vector);
            result.Add((notes[result.Count].Id, vector.DenseValues().ToArray()));
        }
        return result;
    }
}
