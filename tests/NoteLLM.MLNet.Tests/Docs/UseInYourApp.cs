// The code of docs/use-in-your-app.md (and of the package README), compiled by the test suite and, against the packed
// package, by a fresh console app (Packaging/ConsumerProjectTests); DocsSnippetTests checks the docs show exactly this.
using Microsoft.Extensions.AI;
using Microsoft.ML;
using NoteLLM.MLNet;
using NoteLLM.MLNet.AI;
using NoteLLM.MLNet.Prompting;

namespace NoteApp;

#region use-in-your-app-classes
// The columns the model reads, named as in training (NoteLLMOptions.TitleColumnName, ...)
public sealed class Note
{
    public string Title { get; set; } = "";
    public string Content { get; set; } = "";
    public string[] Hashtags { get; set; } = [];
}

// The columns the model adds
public sealed class NotePrediction
{
    public float[] Embedding { get; set; } = [];
    public string[] GeneratedHashtags { get; set; } = [];
    public string GeneratedCategory { get; set; } = "";
}
#endregion

public static class NoteService
{
    public static NotePrediction Predict(string modelPath, Note note)
    {
        #region use-in-your-app-predict
        var ml = new MLContext();
        ITransformer model = ml.Model.Load(modelPath, out _);
        using var engine = ml.Model.CreatePredictionEngine<Note, NotePrediction>(model); // one per thread
        NotePrediction prediction = engine.Predict(note);
        #endregion
        return prediction;
    }

    public static NotePrediction[] PredictInParallel(MLContext ml, ITransformer model, IReadOnlyList<Note> notes)
    {
        #region use-in-your-app-threads
        var predictions = new NotePrediction[notes.Count];
        var shared = new PredictionEngineOptions { OwnsTransformer = false }; // the engines must not dispose the shared model
        Parallel.For(0, notes.Count,
            () => ml.Model.CreatePredictionEngine<Note, NotePrediction>(model, shared), // one engine per worker thread
            (i, _, engine) => { predictions[i] = engine.Predict(notes[i]); return engine; },
            engine => engine.Dispose());
        #endregion
        return predictions;
    }

    public static async Task<(float[] Vector, NoteAnnotation Annotation)> EmbedAndAnnotateAsync(string modelPath, string text,
        CancellationToken cancellationToken)
    {
        #region use-in-your-app-ai
        var ml = new MLContext();
        using var model = (NoteLLMTransformer)ml.Model.Load(modelPath, out _);
        IEmbeddingGenerator<string, Embedding<float>> generator = model.AsEmbeddingGenerator();
        ReadOnlyMemory<float> vector = await generator.GenerateVectorAsync(text, cancellationToken: cancellationToken);
        INoteAnnotator annotator = model.AsNoteAnnotator();
        IReadOnlyList<NoteAnnotation> annotations = await annotator.AnnotateAsync([NoteText.Of(title: "", content: text)], cancellationToken);
        #endregion
        return (vector.ToArray(), annotations[0]);
    }
}
