using NoteLLM.MLNet.Prompting;
using NoteLLM.MLNet.Tokenization;

namespace NoteLLM.MLNet.Tests.Prompting;

public class NotePromptBuilderTests
{
    private static readonly NoteTokenizer Tokenizer = NoteTokenizer.CreateGpt2();
    private static readonly NoteText Vim = new("Vi IMproved - enhanced vi editor", "Vim is an almost compatible version of the UNIX editor Vi.",
        ["use::editing", "works-with::text"], "editors");

    [Fact]
    public void CategoryPromptHasThePaperShape()
    {
        var builder = new NotePromptBuilder(Tokenizer);
        var (text, truncated) = builder.PromptText(Vim, PromptTask.Category);
        Assert.False(truncated);
        Assert.Equal(
            "Extract the note information in json format, compress it into one word for recommendation, and generate the category of the note. " +
            "{'title': Vi IMproved - enhanced vi editor, 'topic': use::editing, works-with::text, 'content': Vim is an almost compatible version of the UNIX editor Vi.} " +
            "The compression word is:\"[EMB]\". The category is:", text);
        var (hashtagText, _) = builder.PromptText(Vim, PromptTask.Hashtags(2));
        Assert.Contains("and generate 2 topics of the note.", hashtagText);
        Assert.DoesNotContain("use::editing", hashtagText); // the hashtags to generate are not shown
        Assert.EndsWith("The 2 topics are:", hashtagText);
    }

    [Fact]
    public void ZeroCharactersLeaveAFieldOutAndOutOfRangeLimitsAreNamed()
    {
        // a limit of 0 read the character before the string's start
        var builder = new NotePromptBuilder(Tokenizer, limits: new NotePromptLimits { MaxTitleCharacters = 0, MaxContentCharacters = 0 });
        var (text, truncated) = builder.PromptText(Vim, PromptTask.Category);
        Assert.True(truncated);
        Assert.DoesNotContain("Vi IMproved", text);
        Assert.DoesNotContain("compatible", text);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new NotePromptBuilder(Tokenizer, limits: new NotePromptLimits { MaxNoteTokens = -5 }));
        Assert.Contains("NotePromptLimits.MaxNoteTokens is -5; expected 1 or more", error.Message);
    }

    [Fact]
    public void EmbeddingPositionIsTheTokenBeforeEmb()
    {
        var prompt = new NotePromptBuilder(Tokenizer).Build(Vim, PromptTask.Category, "editors");
        Assert.Equal(Tokenizer.EmbTokenId, prompt.Ids[prompt.EmbeddingPosition + 1]);
        Assert.EndsWith("The compression word is:\"", Tokenizer.Decode(prompt.Ids[..(prompt.EmbeddingPosition + 1)]));
        Assert.Equal(1, prompt.Ids.Count(id => id == Tokenizer.EmbTokenId));
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("wordpiece")]
    public void NoteSpanIsExactlyTheFilledNoteTemplate(string kind)
    {
        var tokenizer = kind == "gpt2" ? Tokenizer : MiniLMTokenizer();
        foreach (var task in new[] { PromptTask.Category, PromptTask.Hashtags(2) })
        {
            var prompt = new NotePromptBuilder(tokenizer).Build(Vim, task, output: null);
            string note = tokenizer.Decode(prompt.Ids[prompt.NoteStart..prompt.NoteEnd]).Trim();
            Assert.StartsWith(kind == "gpt2" ? "{'title': Vi IMproved" : "{'title':vi improved", note);
            Assert.EndsWith(kind == "gpt2" ? "the UNIX editor Vi.}" : "the unix editor vi.}", note);
        }
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("wordpiece")]
    public void ANoteWithoutTokensSpansThePromptBeforeEmb(string kind)
    {
        // mean pooling reads the span from a pass that stops at EmbeddingPosition: an empty span, or one holding only
        // [EMB], would be 0 / 0. The paper's template frames the note with field names, which are tokens of the note.
        var tokenizer = kind == "gpt2" ? Tokenizer : MiniLMTokenizer();
        NoteText[] tokenless = kind == "gpt2" ? [NoteText.Of("", "")] : [NoteText.Of("", ""), NoteText.Of("\u200B", "\0\u0001\uFEFF")];
        foreach (var templates in new[] { new NotePromptTemplates(), NotePromptTemplates.ForSentenceEncoder })
            foreach (var note in tokenless)
                foreach (var task in new[] { PromptTask.Category, PromptTask.Hashtags(2) })
                {
                    var prompt = new NotePromptBuilder(tokenizer, templates).Build(note, task, output: null);
                    Assert.InRange(prompt.NoteStart, 0, prompt.NoteEnd - 1);
                    Assert.InRange(prompt.NoteEnd, 1, prompt.EmbeddingPosition + 1);
                    if (kind == "wordpiece" && templates == NotePromptTemplates.ForSentenceEncoder) // no frame, no token: the span is [CLS]
                        Assert.Equal((0, prompt.EmbeddingPosition + 1), (prompt.NoteStart, prompt.NoteEnd));
                }
    }

    [Fact]
    public void SentenceEncoderPromptIsThePlainNoteThenEmbAndGuidance()
    {
        var tokenizer = MiniLMTokenizer();
        var builder = new NotePromptBuilder(tokenizer, NotePromptTemplates.ForSentenceEncoder);
        Assert.Equal(" Vi IMproved - enhanced vi editor use::editing, works-with::text Vim is an almost compatible version of the UNIX editor Vi. " +
            "[EMB] The category is:", builder.PromptText(Vim, PromptTask.Category).Text);
        foreach (var task in new[] { PromptTask.Category, PromptTask.Hashtags(2) })
        {
            var prompt = builder.Build(Vim, task, output: null);
            // the bidirectional prompt is [CLS] and the note, nothing else: the note's tokens are read as the encoder reads a sentence
            Assert.Equal(1, prompt.NoteStart);
            Assert.Equal(prompt.EmbeddingPosition + 1, prompt.NoteEnd);
            Assert.StartsWith("vi improved-enhanced vi editor", tokenizer.Decode(prompt.Ids[prompt.NoteStart..prompt.NoteEnd]).Trim());
            Assert.Equal(tokenizer.EmbTokenId, prompt.Ids[prompt.EmbeddingPosition + 1]);
            Assert.EndsWith(task.IsCategory ? "the category is:" : "the 2 topics are:", tokenizer.Decode(prompt.Ids).Trim());
        }
    }

    private static NoteTokenizer MiniLMTokenizer()
    {
        var (backbone, tokenizer) = NoteLLM.MLNet.Modeling.PretrainedEncoder.MiniLM.Load();
        backbone.Dispose();
        return tokenizer;
    }

    [Fact]
    public void OutputIsTheTargetThenEosAndInferencePromptIsItsExactPrefix()
    {
        var builder = new NotePromptBuilder(Tokenizer);
        var training = builder.Build(Vim, PromptTask.Hashtags(2), builder.TargetOutput(Vim, PromptTask.Hashtags(2)));
        var inference = builder.Build(Vim, PromptTask.Hashtags(2), output: null);
        Assert.Equal(inference.Ids, training.Ids[..training.OutputStart]);
        Assert.Equal(inference.Ids.Length, inference.OutputStart);
        Assert.Equal(Tokenizer.EosTokenId, training.Ids[^1]);
        Assert.Equal(" use::editing, works-with::text", Tokenizer.Decode(training.Ids[training.OutputStart..^1]));
    }

    [Fact]
    public void TruncatesTitleAndContentByCharactersAndTheNoteByTokens()
    {
        var longNote = new NoteText(new string('t', 100), string.Join(" ", Enumerable.Repeat("word", 400)), ["a"], "c");
        var builder = new NotePromptBuilder(Tokenizer, limits: new NotePromptLimits { MaxTitleCharacters = 10, MaxContentCharacters = 10_000, MaxNoteTokens = 60 });
        var (text, truncated) = builder.PromptText(longNote, PromptTask.Category);
        Assert.True(truncated);
        Assert.Contains("'title': tttttttttt,", text);
        string notePart = text[text.IndexOf("{'title'", StringComparison.Ordinal)..(text.LastIndexOf('}') + 1)];
        int tokens = Tokenizer.Encode(notePart).Count;
        Assert.InRange(tokens, 50, 61); // the content was cut to the token budget (token boundaries may shift by one)
    }

    [Fact]
    public void ManyHashtagsTakeAtMostHalfTheRoomBesideTheTitleAndTheContentTheRest()
    {
        var note = NoteText.Of("vim", string.Join(" ", Enumerable.Repeat("word", 100)), Enumerable.Range(0, 10).Select(i => $"works-with::format{i}"));
        var builder = new NotePromptBuilder(Tokenizer, limits: new NotePromptLimits { MaxNoteTokens = 60 });
        var (text, truncated) = builder.PromptText(note, PromptTask.Category);
        Assert.True(truncated);
        string Field(string name, string next) => text[(text.IndexOf($"'{name}': ", StringComparison.Ordinal) + name.Length + 4)..text.IndexOf(next, StringComparison.Ordinal)];
        int room = 60 - Tokenizer.Encode("{'title': vim, 'topic': , 'content': }").Count;
        int hashtagTokens = Tokenizer.Encode(Field("topic", ", 'content'")).Count, contentTokens = Tokenizer.Encode(Field("content", "}")).Count;
        Assert.InRange(hashtagTokens, room / 2 - 8, room / 2); // whole hashtags only, one of them is about 7 tokens
        Assert.InRange(contentTokens, room - hashtagTokens - 2, room - hashtagTokens + 1);

        // short content leaves its room to the hashtags
        var (shortText, _) = builder.PromptText(note with { Content = "Vi IMproved" }, PromptTask.Category);
        static int Shown(string prompt) => prompt.Split("works-with::").Length - 1;
        Assert.Contains("'content': Vi IMproved}", shortText);
        Assert.True(Shown(shortText) > Shown(text), shortText);
    }

    // Every variant of the prompt keeps [EMB] once, right after EmbeddingPosition, and ends with its output guidance.
    private static void AssertCompletePrompts(NotePromptBuilder builder, NoteText note)
    {
        foreach (var task in new[] { PromptTask.Category, PromptTask.Hashtags(1), PromptTask.Hashtags(3), PromptTask.Hashtags(5) })
        {
            var prompt = builder.Build(note, task, output: null);
            Assert.Single(prompt.Ids, id => id == Tokenizer.EmbTokenId);
            Assert.Equal(Tokenizer.EmbTokenId, prompt.Ids[prompt.EmbeddingPosition + 1]);
            string guidance = task.IsCategory ? builder.Templates.CategoryGuidance : builder.Templates.HashtagGuidance.Replace("{j}", task.HashtagCount.ToString());
            string text = Tokenizer.Decode(prompt.Ids);
            Assert.EndsWith(guidance, text);
            string notePart = text[text.IndexOf("{'title'", StringComparison.Ordinal)..(text.LastIndexOf('}') + 1)];
            Assert.InRange(Tokenizer.Encode(notePart).Count, 1, builder.Limits.MaxNoteTokens + 1); // token boundaries may shift by one
        }
    }

    [Fact]
    public void HashtagsAloneOverTheTokenBudgetLeaveEmbAndGuidanceInEveryVariant()
    {
        var builder = new NotePromptBuilder(Tokenizer, limits: new NotePromptLimits { MaxNoteTokens = 60 });
        AssertCompletePrompts(builder, NoteText.Of("vim", "Vi IMproved text editor", Enumerable.Range(0, 10_000).Select(i => $"tag{i}")));
        AssertCompletePrompts(builder, NoteText.Of("vim", "Vi IMproved text editor", Enumerable.Range(0, 3).Select(i => string.Concat(Enumerable.Repeat($"topic{i} ", 500)))));
    }

    [Fact]
    public void TitleContentAndHashtagsTogetherOverTheTokenBudgetLeaveEmbAndGuidanceInEveryVariant()
    {
        // each field alone fits in 60 tokens, the three together do not
        string Words(string w, int n) => string.Join(" ", Enumerable.Repeat(w, n));
        var builder = new NotePromptBuilder(Tokenizer, limits: new NotePromptLimits { MaxTitleCharacters = 1000, MaxContentCharacters = 1000, MaxNoteTokens = 60 });
        AssertCompletePrompts(builder, NoteText.Of(Words("title", 40), Words("content", 40), Enumerable.Range(0, 10).Select(i => $"tag {i}")));
        AssertCompletePrompts(builder, NoteText.Of(Words("title", 200), "", ["a"]));
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("wordpiece")]
    public void EmbWrittenInANoteIsTextAndTheReadOutStaysAtTheTemplatesEmb(string kind)
    {
        var tokenizer = kind == "gpt2" ? Tokenizer : MiniLMTokenizer();
        var templates = kind == "gpt2" ? new NotePromptTemplates() : NotePromptTemplates.ForSentenceEncoder;
        var builder = new NotePromptBuilder(tokenizer, templates);
        // removing "[EMB]" once from "[E[EMB]MB]" leaves "[EMB]"; BERT's tokenizer lower-cases before it looks for special
        // tokens, so "[emb]" is [EMB] to it
        var note = NoteText.Of("[EMB]vim[E[EMB]MB]", "[E[E[EMB]MB]MB]editor [emb] [EMB]", ["[EMB]", "[E[EMB]MB]", "use::editing"]);
        var clean = NoteText.Of("vim", "editor", ["use::editing"]);
        foreach (var task in new[] { PromptTask.Category, PromptTask.Hashtags(1) })
        {
            var prompt = builder.Build(note, task, output: null);
            Assert.Single(prompt.Ids, id => id == tokenizer.EmbTokenId);
            Assert.Equal(tokenizer.EmbTokenId, prompt.Ids[prompt.EmbeddingPosition + 1]);
            var expected = builder.Build(clean, task, output: null);
            // WordPiece reads "[emb]" as [EMB] too, and it is dropped as a token; GPT-2's BPE reads it as text
            if (kind == "wordpiece")
            {
                Assert.Equal(expected.Ids, prompt.Ids);
                Assert.Equal((expected.EmbeddingPosition, expected.NoteStart, expected.NoteEnd), (prompt.EmbeddingPosition, prompt.NoteStart, prompt.NoteEnd));
            }
            else Assert.Equal(expected.NoteStart, prompt.NoteStart);
        }
        Assert.Equal(["use::editing"], builder.Hashtags(note));
    }

    [Fact]
    public void AtMostTenHashtagsAreShownOrTrained()
    {
        var builder = new NotePromptBuilder(Tokenizer);
        var note = NoteText.Of("vim", "Vi IMproved", Enumerable.Range(0, 12).Select(i => $"t{i}"), "editors");
        var (text, truncated) = builder.PromptText(note, PromptTask.Category);
        Assert.Contains("'topic': t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, 'content'", text);
        Assert.True(truncated);
        Assert.Equal(10, builder.Hashtags(note).Count);
    }

    [Fact]
    public void ANotesOwnTextCannotMoveTheEmbeddingReadOut()
    {
        var builder = new NotePromptBuilder(Tokenizer);
        var prompt = builder.Build(NoteText.Of("about [EMB]", "the [EMB] token", ["[EMB]"]), PromptTask.Category, output: null);
        Assert.Single(prompt.Ids, id => id == Tokenizer.EmbTokenId);
        Assert.EndsWith("The compression word is:\"", Tokenizer.Decode(prompt.Ids[..(prompt.EmbeddingPosition + 1)]));
    }

    [Fact]
    public void NotesWithoutTargetsHaveNoOutput()
    {
        var builder = new NotePromptBuilder(Tokenizer);
        var bare = new NoteText("t", "c", [], null);
        Assert.Null(builder.TargetOutput(bare, PromptTask.Category));
        Assert.Null(builder.TargetOutput(bare, PromptTask.Hashtags(1)));
        var prompt = builder.Build(bare, PromptTask.Category, null);
        Assert.Equal(0, prompt.OutputLength);
    }

    [Fact]
    public void InvalidTemplatesAreRefused()
    {
        Assert.Throws<ArgumentException>(() => new NotePromptBuilder(Tokenizer, new NotePromptTemplates { Compression = "no token here" }));
        Assert.Throws<ArgumentException>(() => new NotePromptBuilder(Tokenizer, new NotePromptTemplates { HashtagNote = "{title} {content} {hashtags}" }));
    }

    [Fact]
    public void ParsesGeneratedHashtags() =>
        Assert.Equal(["use::editing", "works-with::text"], new NotePromptBuilder(Tokenizer).ParseHashtags(" use::editing, works-with::text, use::editing,"));
}
