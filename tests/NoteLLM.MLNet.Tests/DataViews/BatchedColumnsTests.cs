using Microsoft.ML;
using Microsoft.ML.Data;

namespace NoteLLM.MLNet.Tests.DataViews;

/// <summary>The columns a cursor of the batched view and a row of the row mapper serve (one shared implementation).</summary>
public class BatchedColumnsTests
{
    private readonly MLContext mlContext = new(seed: 1);

    [Fact]
    public void CursorAndRowServeTheSameOutputsAndRefuseInactiveOutputColumnsAlike()
    {
        var notes = TestNotes.Create(3);
        var data = mlContext.Data.LoadFromEnumerable(notes);
        var model = new HashedNgramEstimator(mlContext, new HashedNgramOptions { BatchSize = 2 }).Fit(data);
        var transformed = model.Transform(data);
        var schema = transformed.Schema;

        using var cursor = transformed.GetRowCursor([schema["Id"], schema["Embedding"]]);
        using var inputCursor = data.GetRowCursor(data.Schema);
        var mapper = model.GetRowToRowMapper(data.Schema);
        using var row = mapper.GetRow(inputCursor, [mapper.OutputSchema["Id"], mapper.OutputSchema["Embedding"]]);

        foreach (DataViewRow served in new DataViewRow[] { cursor, row })
        {
            Assert.True(served.IsColumnActive(served.Schema["Embedding"]));
            Assert.False(served.IsColumnActive(served.Schema["GeneratedCategory"]));
        }
        Assert.Equal("Column 'GeneratedCategory' is not active in this cursor.",
            Assert.Throws<InvalidOperationException>(() => cursor.GetGetter<ReadOnlyMemory<char>>(schema["GeneratedCategory"])).Message);
        Assert.Equal("Column 'GeneratedCategory' is not active in this row.",
            Assert.Throws<InvalidOperationException>(() => row.GetGetter<ReadOnlyMemory<char>>(mapper.OutputSchema["GeneratedCategory"])).Message);

        var fromCursor = cursor.GetGetter<VBuffer<float>>(schema["Embedding"]);
        var fromRow = row.GetGetter<VBuffer<float>>(mapper.OutputSchema["Embedding"]);
        var id = cursor.GetGetter<ReadOnlyMemory<char>>(schema["Id"]);
        for (int i = 0; i < notes.Count; i++)
        {
            Assert.True(cursor.MoveNext());
            Assert.True(inputCursor.MoveNext());
            VBuffer<float> a = default, b = default;
            ReadOnlyMemory<char> noteId = default;
            fromCursor(ref a);
            fromRow(ref b);
            id(ref noteId);
            Assert.Equal(notes[i].Id, noteId.ToString());
            Assert.Equal(model.Compute(notes[i].Title, notes[i].Hashtags).Embedding, a.DenseValues());
            Assert.Equal(a.DenseValues(), b.DenseValues());
        }
    }
}
