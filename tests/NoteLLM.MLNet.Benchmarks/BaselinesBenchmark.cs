using System.Diagnostics;
using Microsoft.ML;
using NoteLLM.MLNet.Benchmarks.Baselines;
using NoteLLM.MLNet.Evaluation;

namespace NoteLLM.MLNet.Benchmarks;

/// <summary>
/// Smoke check and speed of the two baseline embedders of the results table (TF-IDF cosine, zero-shot MiniLM) on a
/// few hand-made notes: each note's hand-picked related note must be its nearest neighbour.
/// </summary>
public sealed class BaselinesBenchmark : IBenchmark
{
    public string Name => "baselines";
    public string Description => "TF-IDF and zero-shot MiniLM baseline embedders: nearest-neighbour sanity check and notes/s";

    // Pairs of related notes (a package description and one of a related package); every pair is about another topic.
    private static readonly (string Id, string Text)[] Notes =
    {
        ("python3-lxml", "pythonic binding for the libxml2 and libxslt libraries: parse XML and HTML documents"),
        ("python3-bs4", "error-tolerant HTML parser for Python: parse and scrape HTML documents"),
        ("supertux", "classic 2D jump and run side-scroller game with penguin Tux"),
        ("supertuxkart", "3D arcade kart racing game with Tux the penguin and friends"),
        ("postgresql", "object-relational SQL database server"),
        ("mariadb-server", "MariaDB SQL database server, a drop-in replacement for MySQL"),
        ("gimp", "GNU Image Manipulation Program for photo retouching and image editing"),
        ("krita", "pressure-sensitive digital painting and image editing program"),
    };

    public int Run(string[] args)
    {
        bool allMet = true;
        var tfIdf = new TfIdfEmbedder(new MLContext(seed: 1), Notes.Select(n => n.Text));
        allMet &= Check("TF-IDF", () => tfIdf.Embed(Notes));
        using var miniLm = new MiniLMEmbedder();
        allMet &= Check("MiniLM (zero-shot)", () => miniLm.Embed(Notes));

        // Speed on a larger synthetic batch (text length of a typical package description).
        var many = Enumerable.Range(0, 512).Select(i => ($"n{i}", $"{Notes[i % Notes.Length].Text} variant {i}")).ToArray();
        foreach (var (name, embed) in new (string, Func<IReadOnlyList<(string Id, float[] Embedding)>>)[]
                 { ("TF-IDF", () => tfIdf.Embed(many)), ("MiniLM", () => miniLm.Embed(many)) })
        {
            var watch = Stopwatch.StartNew();
            embed();
            Console.WriteLine($"{name}: {many.Length / watch.Elapsed.TotalSeconds:F0} notes/s");
        }
        Console.WriteLine($"target: every note's related note is its nearest neighbour under both baselines: {(allMet ? "MET" : "MISSED")}");
        return allMet ? 0 : 1;
    }

    private static bool Check(string name, Func<IReadOnlyList<(string Id, float[] Embedding)>> embed)
    {
        var embedded = embed();
        int correct = 0;
        for (int i = 0; i < embedded.Count; i++)
        {
            float norm = embedded[i].Embedding.Sum(x => x * x);
            if (Math.Abs(norm - 1) > 1e-3) Console.WriteLine($"  {name}: {embedded[i].Id} has squared norm {norm}, expected 1");
            int nearest = Enumerable.Range(0, embedded.Count).Where(j => j != i)
                .MaxBy(j => embedded[i].Embedding.Zip(embedded[j].Embedding, (a, b) => a * b).Sum());
            if (nearest == (i ^ 1)) correct++;
            else Console.WriteLine($"  {name}: nearest to {embedded[i].Id} is {embedded[nearest].Id}, expected {embedded[i ^ 1].Id}");
        }
        Console.WriteLine($"{name}: {correct}/{embedded.Count} notes have their related note nearest ({embedded[0].Embedding.Length} dimensions)");
        return correct == embedded.Count;
    }
}
