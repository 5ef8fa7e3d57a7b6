using NoteLLM.MLNet.Retrieval;

namespace NoteLLM.MLNet.Tests.Retrieval;

/// <summary>Vectors, ids and comparisons shared by the index tests.</summary>
internal static class IndexTestData
{
    public static float[][] RandomUnitVectors(int count, int dimensions, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ =>
        {
            var v = Enumerable.Range(0, dimensions).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
            float norm = MathF.Sqrt(v.Sum(x => x * x));
            return v.Select(x => x / norm).ToArray();
        }).ToArray();
    }

    public static string[] Ids(int count) => Enumerable.Range(0, count).Select(i => $"note{i}").ToArray();

    public static float Dot(float[] a, float[] b) => a.Zip(b, (x, y) => x * y).Sum();

    // Same ids in the same order; scores equal up to float rounding (the matrix product may pick another
    // kernel for differently aligned buffers, which changes the last bit). A tolerance, not a number of
    // decimal places: rounding both sides to 5 places fails when a last-bit change crosses a rounding boundary.
    public static void AssertSameResults(IReadOnlyList<RelatedNote> expected, IReadOnlyList<RelatedNote> actual)
    {
        Assert.Equal(expected.Select(r => r.Id), actual.Select(r => r.Id));
        for (int i = 0; i < expected.Count; i++) Assert.Equal(expected[i].Score, actual[i].Score, 1e-5f);
    }

    public static double RecallAt(IReadOnlyList<RelatedNote>[] truth, IReadOnlyList<RelatedNote>[] found) =>
        truth.Zip(found, (t, f) => t.Select(r => r.Id).Intersect(f.Select(r => r.Id)).Count()).Sum() /
        (double)truth.Sum(t => t.Count);
}
