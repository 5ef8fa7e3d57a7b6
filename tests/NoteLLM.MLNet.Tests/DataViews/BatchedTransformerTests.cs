using Microsoft.ML;
using Microsoft.ML.Data;
using NoteLLM.MLNet.DataViews;

namespace NoteLLM.MLNet.Tests.DataViews;

public class BatchedTransformerTests
{
    private readonly MLContext mlContext = new(seed: 1);

    private HashedNgramTransformer Fit(IDataView data, int batchSize = 16) =>
        new HashedNgramEstimator(mlContext, new HashedNgramOptions { BatchSize = batchSize }).Fit(data);

    [Fact]
    public void TransformIsLazyAndComputesWholeBatchesMatchingEachRow()
    {
        var notes = TestNotes.Create(50);
        var data = mlContext.Data.LoadFromEnumerable(notes);
        var model = Fit(data, batchSize: 16);

        var transformed = model.Transform(data);
        Assert.Empty(model.Batches);

        var outputs = TestNotes.Outputs(mlContext, transformed);
        Assert.Equal(new[] { 16, 16, 16, 2 }, model.Batches.Select(b => b.Count));
        for (int i = 0; i < notes.Count; i++)
        {
            var (embedding, category, hashtags) = model.Compute(notes[i].Title, notes[i].Hashtags);
            Assert.Equal(embedding, outputs[i].Embedding);
            Assert.Equal(category, outputs[i].GeneratedCategory);
            Assert.Equal(hashtags, outputs[i].GeneratedHashtags);
        }
        // Different notes give different outputs, so a row/batch mix-up would show above.
        Assert.True(outputs.Select(o => string.Join(",", o.Embedding)).Distinct().Count() > 40);
    }

    [Fact]
    public void OnlyTheColumnsReadAreComputedAndInputColumnsPassThrough()
    {
        var notes = TestNotes.Create(20);
        var model = Fit(mlContext.Data.LoadFromEnumerable(notes), batchSize: 8);
        var transformed = model.Transform(mlContext.Data.LoadFromEnumerable(notes));

        var ids = transformed.GetColumn<string>("Id").ToList();
        Assert.Equal(notes.Select(n => n.Id), ids);
        Assert.Empty(model.Batches); // pass-through columns never run the computation

        var embeddings = transformed.GetColumn<float[]>("Embedding").ToList();
        Assert.Equal(20, embeddings.Count);
        Assert.Equal(new[] { 8, 8, 4 }, model.Batches.Select(b => b.Count));
        Assert.All(model.Batches, b => Assert.Equal(new[] { true, false, false }, b.Requested));
    }

    [Fact]
    public void SkippedRowsAreNotMisalignedWhenAFilterReadsOutputsSparsely()
    {
        var notes = TestNotes.Create(40);
        var data = mlContext.Data.LoadFromEnumerable(notes);
        var model = Fit(data, batchSize: 4);
        // The filter reads the input column for every row but the outputs only for rows it keeps
        // (FilterByCustomPredicate drops the rows for which the predicate is true).
        var kept = mlContext.Data.FilterByCustomPredicate<TestNoteRow>(data, n => !n.Id.EndsWith('7'));
        var outputs = TestNotes.Outputs(mlContext, model.Transform(kept));
        var keptNotes = notes.Where(n => n.Id.EndsWith('7')).ToList();
        Assert.Equal(keptNotes.Count, outputs.Count);
        for (int i = 0; i < keptNotes.Count; i++)
            Assert.Equal(model.Compute(keptNotes[i].Title, keptNotes[i].Hashtags).Embedding, outputs[i].Embedding);
    }

    private sealed class NoteWithEmbedding
    {
        public string Title { get; set; } = "";
        public string[] Hashtags { get; set; } = Array.Empty<string>();
        [VectorType(8)]
        public float[] Embedding { get; set; } = Array.Empty<float>();
    }

    [Fact]
    public void ShuffledInputKeepsEachRowsOutputsWithItsRow()
    {
        // The look-ahead cursor must see the same order as the main cursor, also through ML.NET's shuffler.
        var data = mlContext.Data.LoadFromEnumerable(TestNotes.Create(50));
        var model = Fit(data, batchSize: 6);
        var shuffled = mlContext.Data.ShuffleRows(data, seed: 3, shufflePoolSize: 20);
        var rows = mlContext.Data.CreateEnumerable<NoteWithEmbedding>(model.Transform(shuffled), reuseRowObject: false).ToList();
        Assert.Equal(50, rows.Count);
        Assert.NotEqual(TestNotes.Create(50).Select(n => n.Title), rows.Select(r => r.Title));
        Assert.All(rows, r => Assert.Equal(model.Compute(r.Title, r.Hashtags).Embedding, r.Embedding));
    }

    /// <summary>Returns its views' cursors in turn: a source that does not repeat its row order.</summary>
    private sealed class AlternatingView(params IDataView[] views) : IDataView
    {
        private int calls;

        public bool CanShuffle => false;
        public DataViewSchema Schema => views[0].Schema;
        public long? GetRowCount() => null;

        public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
        {
            var view = views[calls++ % views.Length];
            return view.GetRowCursor(columnsNeeded.Select(c => view.Schema[c.Index]), rand);
        }

        public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
            new[] { GetRowCursor(columnsNeeded, rand) };
    }

    [Fact]
    public void AnInputThatChangesItsRowOrderIsDetected()
    {
        var data = mlContext.Data.LoadFromEnumerable(TestNotes.Create(30));
        var model = Fit(data);
        var unstable = new AlternatingView(mlContext.Data.ShuffleRows(data, seed: 1), mlContext.Data.ShuffleRows(data, seed: 2));
        var error = Assert.Throws<InvalidOperationException>(() => TestNotes.Outputs(mlContext, model.Transform(unstable)));
        Assert.Contains("different order on a second cursor", error.Message);
    }

    [Fact]
    public void AFailedBatchLeavesTheCursorAndTheTransformerAsUsableAsBefore()
    {
        var notes = TestNotes.Create(20);
        var data = mlContext.Data.LoadFromEnumerable(notes);
        var model = Fit(data, batchSize: 8);
        var expected = TestNotes.Outputs(mlContext, model.Transform(data));

        model.FailOnTitle = notes[10].Title; // the second batch, rows 8-15, fails
        var transformed = model.Transform(data);
        using var cursor = transformed.GetRowCursor(transformed.Schema);
        var embedding = cursor.GetGetter<VBuffer<float>>(transformed.Schema["Embedding"]);
        VBuffer<float> value = default;
        for (int row = 0; row < 8; row++)
        {
            Assert.True(cursor.MoveNext());
            embedding(ref value);
            Assert.Equal(expected[row].Embedding, value.DenseValues());
        }
        Assert.True(cursor.MoveNext());
        Assert.Throws<InvalidOperationException>(() => embedding(ref value));
        Assert.Throws<InvalidOperationException>(() => embedding(ref value)); // the same rows, computed again

        // a transient failure: once it is gone, the same cursor carries on with the rows it holds
        model.FailOnTitle = null;
        for (int row = 8; row < notes.Count; row++)
        {
            if (row > 8) Assert.True(cursor.MoveNext());
            embedding(ref value);
            Assert.Equal(expected[row].Embedding, value.DenseValues());
        }
        Assert.False(cursor.MoveNext());
        TestNotes.AssertEqual(expected, TestNotes.Outputs(mlContext, model.Transform(data)));
    }

    [Fact]
    public void SaveAndLoadInProcessGiveIdenticalOutputs()
    {
        var notes = TestNotes.Create(30);
        var data = mlContext.Data.LoadFromEnumerable(notes);
        var model = Fit(data);
        var expected = TestNotes.Outputs(mlContext, model.Transform(data));

        using var stream = new MemoryStream();
        mlContext.Model.Save(model, data.Schema, stream);
        stream.Position = 0;
        var loaded = new MLContext(seed: 2).Model.Load(stream, out var inputSchema);

        Assert.IsType<HashedNgramTransformer>(loaded);
        Assert.NotNull(inputSchema.GetColumnOrNull("Hashtags"));
        TestNotes.AssertEqual(expected, TestNotes.Outputs(mlContext, loaded.Transform(data)));
    }

    [Fact]
    public void PredictionEngineOnALoadedModelMatchesTransform()
    {
        var notes = TestNotes.Create(12);
        var data = mlContext.Data.LoadFromEnumerable(notes);
        using var stream = new MemoryStream();
        mlContext.Model.Save(Fit(data), data.Schema, stream);
        stream.Position = 0;
        var loaded = mlContext.Model.Load(stream, out _);

        var expected = TestNotes.Outputs(mlContext, loaded.Transform(data));
        var engine = mlContext.Model.CreatePredictionEngine<TestNoteRow, TestNoteOutputs>(loaded);
        // One engine, one reused input row: each prediction must recompute for the new note.
        var predicted = notes.Select(n => engine.Predict(n)).ToList();
        TestNotes.AssertEqual(expected, predicted);
        Assert.NotEqual(predicted[0].Embedding, predicted[1].Embedding);
    }

    [Fact]
    public void ChainWithBuiltInTransformsBeforeAndAfterSavesAndLoads()
    {
        var notes = TestNotes.Create(25);
        var data = mlContext.Data.LoadFromEnumerable(notes);
        var pipeline = mlContext.Transforms.Text.NormalizeText("Title")
            .Append(new HashedNgramEstimator(mlContext, new HashedNgramOptions()))
            .Append(mlContext.Transforms.NormalizeLpNorm("Embedding"));
        var chain = pipeline.Fit(data);
        var expected = TestNotes.Outputs(mlContext, chain.Transform(data));
        Assert.All(expected, o => Assert.Equal(1.0, Math.Sqrt(o.Embedding.Sum(v => (double)v * v)), 5));

        string path = Path.Combine(Path.GetTempPath(), $"mlnet-chain-{Guid.NewGuid():N}.zip");
        try
        {
            mlContext.Model.Save(chain, data.Schema, path);
            var loaded = new MLContext().Model.Load(path, out _);
            TestNotes.AssertEqual(expected, TestNotes.Outputs(mlContext, loaded.Transform(data)));
            var engine = mlContext.Model.CreatePredictionEngine<TestNoteRow, TestNoteOutputs>(loaded);
            TestNotes.AssertEqual(expected, notes.Select(n => engine.Predict(n)).ToList(), tolerance: 1e-6f);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private sealed class WithoutTitle
    {
        public string[] Hashtags { get; set; } = Array.Empty<string>();
    }

    private sealed class MistypedHashtags
    {
        public string Title { get; set; } = "";
        public float Hashtags { get; set; }
    }

    private sealed class DelimitedHashtags
    {
        public string Title { get; set; } = "";
        public string Hashtags { get; set; } = "";
    }

    [Fact]
    public void MissingOrMistypedColumnsAreNamedUpFront()
    {
        var good = mlContext.Data.LoadFromEnumerable(TestNotes.Create(3));
        var model = Fit(good);
        var estimator = new HashedNgramEstimator(mlContext, new HashedNgramOptions());

        var missing = mlContext.Data.LoadFromEnumerable(new[] { new WithoutTitle() });
        const string missingMessage = "Column 'Title' not found; expected Text.";
        Assert.Contains(missingMessage, Assert.Throws<ArgumentOutOfRangeException>(() => model.Transform(missing)).Message);
        Assert.Contains(missingMessage, Assert.Throws<ArgumentOutOfRangeException>(() => estimator.Fit(missing)).Message);
        Assert.Contains(missingMessage, Assert.Throws<ArgumentOutOfRangeException>(() => model.GetRowToRowMapper(missing.Schema)).Message);
        Assert.Contains(missingMessage, Assert.Throws<ArgumentOutOfRangeException>(
            () => estimator.GetOutputSchema(SchemaShape.Create(missing.Schema))).Message);

        var mistyped = mlContext.Data.LoadFromEnumerable(new[] { new MistypedHashtags() });
        const string mistypedMessage = "Column 'Hashtags' has type Single but expected a vector of Text or Text.";
        Assert.Contains(mistypedMessage, Assert.Throws<ArgumentOutOfRangeException>(() => model.Transform(mistyped)).Message);
        Assert.Contains(mistypedMessage, Assert.Throws<ArgumentOutOfRangeException>(
            () => estimator.GetOutputSchema(SchemaShape.Create(mistyped.Schema))).Message);
    }

    [Fact]
    public void HashtagsAsADelimitedStringReadLikeAVector()
    {
        var model = Fit(mlContext.Data.LoadFromEnumerable(TestNotes.Create(3)));
        var delimited = mlContext.Data.LoadFromEnumerable(new[] { new DelimitedHashtags { Title = "t", Hashtags = " Apt, kernel;;vim\n" } });
        var vector = mlContext.Data.LoadFromEnumerable(new[] { new TestNoteRow { Title = "t", Hashtags = new[] { "Apt", "kernel", "vim" } } });

        var fromDelimited = TestNotes.Outputs(mlContext, model.Transform(delimited));
        TestNotes.AssertEqual(TestNotes.Outputs(mlContext, model.Transform(vector)), fromDelimited);
        Assert.Equal(new[] { "apt", "kernel", "vim", "len1" }, fromDelimited[0].GeneratedHashtags);
    }

    [Fact]
    public void NullStringsReachTheComputationAsEmpty()
    {
        // An IDataView cannot tell a null string from an empty one: LoadFromEnumerable turns null into empty text
        // (and a null string[] into an empty vector), so a transformer must reject empty values, not nulls.
        var model = Fit(mlContext.Data.LoadFromEnumerable(TestNotes.Create(3)));
        var data = mlContext.Data.LoadFromEnumerable(new[] { new TestNoteRow { Title = null!, Hashtags = null! } });
        var output = Assert.Single(TestNotes.Outputs(mlContext, model.Transform(data)));
        Assert.Equal(model.Compute("", Array.Empty<string>()).Embedding, output.Embedding);
        Assert.Equal(new[] { "len0" }, output.GeneratedHashtags);
    }

    [Fact]
    public void CursorsOnSeveralThreadsGetTheirOwnRowsOutputs()
    {
        var notes = TestNotes.Create(60);
        var data = mlContext.Data.LoadFromEnumerable(notes);
        var model = Fit(data, batchSize: 7);
        var expected = notes.Select(n => model.Compute(n.Title, n.Hashtags).Embedding).ToList();
        var transformed = model.Transform(data);

        var results = new List<float[]>[4];
        Parallel.For(0, results.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 },
            i => results[i] = transformed.GetColumn<float[]>("Embedding").ToList());
        Assert.All(results, r => Assert.Equal(expected, r));
        Assert.Equal(4 * 9, model.Batches.Count); // ceil(60 / 7) batches per cursor
    }

    [Fact]
    public void ADisposedTransformerRefusesToSaveInsteadOfWritingEmptyWeights()
    {
        var data = mlContext.Data.LoadFromEnumerable(TestNotes.Create(5));
        var model = Fit(data);
        // PredictionEngine owns (and on Dispose disposes) its transformer by default.
        using (var engine = mlContext.Model.CreatePredictionEngine<TestNoteRow, TestNoteOutputs>(model))
            engine.Predict(TestNotes.Create(1)[0]);

        using var stream = new MemoryStream();
        var error = Assert.Throws<ObjectDisposedException>(() => mlContext.Model.Save(model, data.Schema, stream));
        Assert.Contains("save the model before disposing", error.Message);
        Assert.Throws<ObjectDisposedException>(() => model.Transform(data));

        var chain = new TransformerChain<ITransformer>(Fit(data));
        chain.Dispose();
        Assert.Throws<ObjectDisposedException>(() => mlContext.Model.Save(chain, data.Schema, new MemoryStream()));
    }

    [Fact]
    public void AnOpenCursorFailsClearlyAfterDisposal()
    {
        var data = mlContext.Data.LoadFromEnumerable(TestNotes.Create(40));
        var model = Fit(data, batchSize: 8);
        var transformed = model.Transform(data);
        using var cursor = transformed.GetRowCursor(transformed.Schema.Where(c => c.Name == "Embedding"));
        var getter = cursor.GetGetter<VBuffer<float>>(transformed.Schema["Embedding"]);
        VBuffer<float> value = default;
        Assert.True(cursor.MoveNext());
        getter(ref value);
        model.Dispose();
        for (int i = 0; i < 8; i++)
            Assert.True(cursor.MoveNext());
        Assert.Throws<ObjectDisposedException>(() => getter(ref value));
    }
}
