using NoteLLM.MLNet.Tests.TestSupport;
using NoteLLM.MLNet.Tokenization;

namespace NoteLLM.MLNet.Tests.Tokenization;

public class NoteTokenizerTests
{
    private static void AssertRoundTripWithSpecialTokens(NoteTokenizer tokenizer, string text)
    {
        var plain = tokenizer.Encode(text);
        Assert.Equal(text, tokenizer.Decode(plain));

        var ids = tokenizer.Encode($"{text} The compression word is:\"{NoteTokenizer.EmbToken}\".");
        Assert.Single(ids, id => id == tokenizer.EmbTokenId);
        Assert.DoesNotContain(tokenizer.PadTokenId, ids);
        Assert.Equal($"{text} The compression word is:\"\".", tokenizer.Decode(ids)); // special tokens are dropped
        Assert.Equal(tokenizer.EmbTokenId, tokenizer.Encode(NoteTokenizer.EmbToken).Single());
        Assert.True(tokenizer.EmbTokenId < tokenizer.VocabularySize && tokenizer.PadTokenId < tokenizer.VocabularySize);
        Assert.NotEqual(tokenizer.EmbTokenId, tokenizer.PadTokenId);
    }

    [Fact]
    public void WordPieceAddsEmbAfterTheVocabularyAndUsesBertsOwnSpecialTokens()
    {
        string[] vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "compression", "word", "is", ":", "\"", ".", "vim", "text", "edit", "##or", "##s", "role", "program", ",", "-", "美", "食"];
        var t = NoteTokenizer.FromFiles("wordpiece", new Dictionary<string, byte[]> { ["vocab.txt"] = System.Text.Encoding.UTF8.GetBytes(string.Join("\n", vocab) + "\n") });
        Assert.Equal(vocab.Length, t.BaseVocabularySize);
        Assert.Equal(vocab.Length, t.EmbTokenId);              // a new row after the vocabulary
        Assert.Equal(vocab.Length + 1, t.VocabularySize);
        Assert.Equal((2, 3, 0), (t.BosTokenId!.Value, t.EosTokenId, t.PadTokenId)); // [CLS], [SEP], [PAD]

        var ids = t.Encode("Vim text Editors The compression word is:\"[EMB]\".");
        Assert.Equal([12, 13, 14, 15, 16, 5, 6, 7, 8, 9, 10, t.EmbTokenId, 10, 11], ids); // lower-cased, no [CLS]/[SEP] added
        Assert.Equal("vim text editors the compression word is:\"\".", t.Decode(ids)); // no space next to punctuation
        Assert.Equal("role::program,role-program,美食", t.Decode([17, 9, 9, 18, 19, 17, 20, 18, 19, 21, 22])); // hashtags come back whole
        Assert.Equal(t.Encode("editors"), t.EncodeContinuation("editors"));
        Assert.Equal(8, t.CharactersWithin("vim text editors", 2)); // "vim text"
    }

    [Fact]
    public void Gpt2DefaultRoundTripsAndAddsTwoTokens()
    {
        var t = NoteTokenizer.CreateGpt2();
        Assert.Equal(50257, t.BaseVocabularySize);
        Assert.Equal(50259, t.VocabularySize);
        Assert.Equal(50256, t.EosTokenId);
        AssertRoundTripWithSpecialTokens(t, "Vim: a highly configurable text editor, ünïcödé and 123 numbers!");
    }

    [Fact]
    public void ByteLevelBpeFromVocabAndMergesRoundTrips()
    {
        using var dir = new TempFolder();
        int baseSize = TokenizerFiles.WriteByteLevelBpe(dir.Path);
        var t = NoteTokenizer.FromHuggingFaceFolder(dir.Path);
        Assert.Equal("bpe", t.Kind);
        Assert.Equal(baseSize, t.BaseVocabularySize);
        Assert.Equal(baseSize + 2, t.VocabularySize);
        Assert.Equal(266, t.EosTokenId);
        Assert.Equal(2, t.Encode(" hello world").Count); // merged into "Ġhello" and "Ġworld"
        AssertRoundTripWithSpecialTokens(t, "hello world, héllo wörld 42");
        Assert.Equal(266, t.Encode("<|endoftext|>").Single());
    }

    [Fact]
    public void SentencePieceModelRoundTrips()
    {
        using var dir = new TempFolder();
        int pieces = TokenizerFiles.WriteSentencePiece(Path.Combine(dir.Path, "tokenizer.model"));
        var t = NoteTokenizer.FromHuggingFaceFolder(dir.Path);
        Assert.Equal("sentencepiece", t.Kind);
        Assert.Equal(pieces, t.BaseVocabularySize);
        Assert.Equal(pieces + 2, t.VocabularySize);
        Assert.Equal(2, t.EosTokenId);
        Assert.Equal(1, t.BosTokenId);
        Assert.Equal(2, t.Encode("hello world").Count); // "▁hello", "▁world"
        AssertRoundTripWithSpecialTokens(t, "hello world, jolly zebra");
        // characters outside the pieces fall back to bytes and still round-trip
        Assert.Equal("hello ✓", t.Decode(t.Encode("hello ✓")));
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("bpe")]
    [InlineData("sentencepiece")]
    public void SpecialTokensStaySingleIdsAfterATextOfManyDistinctWords(string kind)
    {
        using var dir = new TempFolder();
        NoteTokenizer t;
        if (kind == "gpt2") t = NoteTokenizer.CreateGpt2();
        else
        {
            if (kind == "bpe") TokenizerFiles.WriteByteLevelBpe(dir.Path); else TokenizerFiles.WriteSentencePiece(dir.File("tokenizer.model"));
            t = NoteTokenizer.FromHuggingFaceFolder(dir.Path);
        }
        // more distinct words than a word cache holds (TiktokenTokenizer's keeps 8,192), then [EMB]
        string many = string.Join(", ", Enumerable.Range(0, 10_000).Select(i => $"tag{i}"));
        Assert.Single(t.Encode($"{many} \"{NoteTokenizer.EmbToken}\"."), id => id == t.EmbTokenId);
        Assert.Single(t.Encode($"vim \"{NoteTokenizer.EmbToken}\"."), id => id == t.EmbTokenId);
    }

    [Fact]
    public void RebuildsFromSavedFiles()
    {
        using var dir = new TempFolder();
        TokenizerFiles.WriteSentencePiece(Path.Combine(dir.Path, "tokenizer.model"));
        var original = NoteTokenizer.FromHuggingFaceFolder(dir.Path);
        var rebuilt = NoteTokenizer.FromFiles(original.Kind, original.Files);
        const string text = "hello [EMB] world";
        Assert.Equal(original.Encode(text), rebuilt.Encode(text));
        Assert.Equal(original.VocabularySize, rebuilt.VocabularySize);
    }

    [Theory]
    [InlineData("lfs", "The tokenizer file tokenizer.model is a Git LFS pointer, not the file itself: fetch it with 'git lfs pull'.")]
    [InlineData("empty config", "The tokenizer file tokenizer_config.json is empty.")]
    [InlineData("bad config", "The tokenizer file tokenizer_config.json is not valid JSON")]
    [InlineData("empty vocab", "vocab.json holds no tokens.")]
    [InlineData("no merges", "merges.txt holds no merges.")]
    public void DamagedCheckpointTokenizerFilesAreNamed(string damage, string expected)
    {
        // a clone without git-lfs, a truncated download: raw protobuf and JSON errors or "Sequence contains no
        // elements" named no file, and a BPE without merges trained silently on single bytes
        using var dir = new TempFolder();
        if (damage == "lfs")
            File.WriteAllText(dir.File("tokenizer.model"), "version https://git-lfs.github.com/spec/v1\noid sha256:4d5f...\nsize 499723\n");
        else
            TokenizerFiles.WriteByteLevelBpe(dir.Path);
        switch (damage)
        {
            case "empty config": File.WriteAllText(dir.File("tokenizer_config.json"), ""); break;
            case "bad config": File.WriteAllText(dir.File("tokenizer_config.json"), "{\"eos_token\": "); break;
            case "empty vocab": File.WriteAllText(dir.File("vocab.json"), "{}"); break;
            case "no merges": File.WriteAllText(dir.File("merges.txt"), "#version: 0.2\n"); break;
        }
        var error = Assert.Throws<InvalidDataException>(() => NoteTokenizer.FromHuggingFaceFolder(dir.Path));
        Assert.StartsWith(expected, error.Message);
    }

    [Fact]
    public void FolderWithoutTokenizerFilesSaysWhatIsExpected()
    {
        using var dir = new TempFolder();
        File.WriteAllText(dir.File("tokenizer.json"), "{}");
        var e = Assert.Throws<FileNotFoundException>(() => NoteTokenizer.FromHuggingFaceFolder(dir.Path));
        Assert.Contains("tokenizer.model", e.Message);
        Assert.Contains("vocab.json", e.Message);
    }
}
