using NoteLLM.MLNet.Prompting;
using NoteLLM.MLNet.Training;

namespace NoteLLM.MLNet.Tests.TestSupport;

/// <summary>
/// A synthetic related-pairs task: pair i relates a note about made-up word x_i to a note about another
/// made-up word y_i. Nothing on the surface links the two (an untrained model ranks partners at chance); the
/// relation exists only in the pairs, as with co-occurrence data. The category follows from i.
/// </summary>
public static class SyntheticNotes
{
    public static readonly string[] Categories = ["games", "science", "editors", "networking"];
    private static readonly string[] Syllables = ["ka", "zu", "mi", "tor", "len", "vo", "pra", "qui", "dex", "lum", "nor", "sab"];
    private static readonly string[] Filler = ["the", "a", "new", "tool", "for", "with", "small", "fast", "and", "simple", "data", "user"];

    public static List<NotePair> Pairs(int count, int seed = 1)
    {
        var random = new Random(seed);
        var words = new HashSet<string>();
        while (words.Count < 2 * count)
            words.Add(string.Concat(Enumerable.Range(0, 3).Select(_ => Syllables[random.Next(Syllables.Length)])));
        string Noise() => string.Join(" ", Enumerable.Range(0, 4).Select(_ => Filler[random.Next(Filler.Length)]));
        var list = words.ToList();
        return Enumerable.Range(0, count).Select(i =>
        {
            string category = Categories[i % Categories.Length];
            NoteText Note(string word) => new($"{word} {Noise()}", $"{Noise()} {word} {Noise()}", [$"tag::{category}"], category);
            return new NotePair($"n{i}a", Note(list[2 * i]), $"n{i}b", Note(list[2 * i + 1]));
        }).ToList();
    }
}
