using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using NoteLLM.MLNet.Prompting;
using NoteLLM.MLNet.Tokenization;

namespace NoteLLM.MLNet.Tests.TestSupport;

/// <summary>Writes small tokenizer files in the exact formats Hugging Face checkpoints ship.</summary>
public static class TokenizerFiles
{
    /// <summary>
    /// An uncased WordPiece tokenizer whose vocabulary is BERT's special tokens plus every word, number and punctuation
    /// mark of <paramref name="texts"/> and of the default prompt templates: a few hundred tokens, so a model on it
    /// trains in milliseconds per step where GPT-2's 50,257 rows would dominate the time.
    /// </summary>
    public static NoteTokenizer WordPieceOf(IEnumerable<string> texts)
    {
        var t = new NotePromptTemplates();
        string[] templates = [t.CategoryInstruction, t.HashtagInstruction, t.CategoryNote, t.HashtagNote, t.Compression.Replace(NoteTokenizer.EmbToken, ""),
            t.CategoryGuidance, t.HashtagGuidance, t.HashtagSeparator, "0 1 2 3 4 5 6 7 8 9"];
        var words = texts.Concat(templates).SelectMany(text => Regex.Matches(text.ToLowerInvariant(), @"[\p{L}\p{N}]+|[^\p{L}\p{N}\s]").Select(m => m.Value))
            .Distinct().Order(StringComparer.Ordinal);
        string vocabulary = string.Join("\n", new[] { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]" }.Concat(words)) + "\n";
        return NoteTokenizer.FromFiles("wordpiece", new Dictionary<string, byte[]> { ["vocab.txt"] = Encoding.UTF8.GetBytes(vocabulary) });
    }

    /// <summary>GPT-2's byte-to-character map: printable bytes map to themselves, the rest to U+0100 onwards.</summary>
    public static Dictionary<byte, char> ByteToChar()
    {
        var printable = Enumerable.Range('!', '~' - '!' + 1).Concat(Enumerable.Range('¡', '¬' - '¡' + 1)).Concat(Enumerable.Range('®', 'ÿ' - '®' + 1)).ToHashSet();
        var map = new Dictionary<byte, char>();
        int next = 256;
        for (int b = 0; b < 256; b++) map[(byte)b] = printable.Contains(b) ? (char)b : (char)next++;
        return map;
    }

    /// <summary>
    /// A byte-level BPE (vocab.json + merges.txt): the 256 byte symbols plus merges building "Ġhello", "Ġworld"
    /// and "<|endoftext|>" as an added token; returns the vocabulary size.
    /// </summary>
    public static int WriteByteLevelBpe(string folder)
    {
        var chars = ByteToChar();
        var vocab = new Dictionary<string, int>();
        foreach (var c in chars.Values) vocab[c.ToString()] = vocab.Count;
        string[] merges = ["Ġ h", "e l", "Ġh el", "l o", "Ġhel lo", "Ġ w", "o r", "Ġw or", "l d", "Ġwor ld"];
        foreach (var m in merges) vocab[m.Replace(" ", "")] = vocab.Count;
        vocab["<|endoftext|>"] = vocab.Count;
        File.WriteAllText(Path.Combine(folder, "vocab.json"), JsonSerializer.Serialize(vocab));
        File.WriteAllText(Path.Combine(folder, "merges.txt"), "#version: 0.2\n" + string.Join("\n", merges) + "\n");
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), """
            {"eos_token": "<|endoftext|>", "added_tokens_decoder": {"266": {"content": "<|endoftext|>", "special": true}}}
            """);
        return vocab.Count;
    }

    /// <summary>
    /// A SentencePiece BPE <c>tokenizer.model</c> (protobuf ModelProto, field numbers of sentencepiece_model.proto):
    /// &lt;unk&gt;, &lt;s&gt;, &lt;/s&gt;, 256 byte-fallback pieces, then letters and a few merged words. Returns the piece count.
    /// </summary>
    public static int WriteSentencePiece(string path)
    {
        var pieces = new List<(string Piece, float Score, int Type)> { ("<unk>", 0, 2), ("<s>", 0, 3), ("</s>", 0, 3) };
        for (int b = 0; b < 256; b++) pieces.Add(($"<0x{b:X2}>", 0, 6));
        string[] merged = ["▁h", "el", "lo", "▁hel", "▁hello", "▁w", "or", "ld", "▁wor", "▁world"];
        float score = -1;
        foreach (var m in merged) pieces.Add((m, score--, 1));
        foreach (char c in "▁abcdefghijklmnopqrstuvwxyz.,!") pieces.Add((c.ToString(), score--, 1));

        var model = new MemoryStream();
        foreach (var (piece, s, type) in pieces)
        {
            var p = new MemoryStream();
            WriteBytes(p, 1, Encoding.UTF8.GetBytes(piece));
            WriteTag(p, 2, 5); p.Write(BitConverter.GetBytes(s));
            WriteVarintField(p, 3, (ulong)type);
            WriteBytes(model, 1, p.ToArray());
        }
        var trainer = new MemoryStream();
        WriteVarintField(trainer, 3, 2);      // model_type = BPE
        WriteVarintField(trainer, 35, 1);     // byte_fallback
        WriteVarintField(trainer, 40, 0);     // unk_id
        WriteVarintField(trainer, 41, 1);     // bos_id
        WriteVarintField(trainer, 42, 2);     // eos_id
        WriteBytes(model, 2, trainer.ToArray());
        var normalizer = new MemoryStream();
        WriteBytes(normalizer, 1, Encoding.UTF8.GetBytes("identity"));
        WriteVarintField(normalizer, 3, 1);   // add_dummy_prefix
        WriteVarintField(normalizer, 4, 0);   // remove_extra_whitespaces
        WriteVarintField(normalizer, 5, 1);   // escape_whitespaces
        WriteBytes(model, 3, normalizer.ToArray());
        File.WriteAllBytes(path, model.ToArray());
        return pieces.Count;
    }

    private static void WriteVarint(Stream s, ulong v)
    {
        while (v >= 0x80) { s.WriteByte((byte)(v | 0x80)); v >>= 7; }
        s.WriteByte((byte)v);
    }
    private static void WriteTag(Stream s, int field, int wire) => WriteVarint(s, (ulong)(field << 3 | wire));
    private static void WriteVarintField(Stream s, int field, ulong v) { WriteTag(s, field, 0); WriteVarint(s, v); }
    private static void WriteBytes(Stream s, int field, byte[] bytes) { WriteTag(s, field, 2); WriteVarint(s, (ulong)bytes.Length); s.Write(bytes); }
}
