using Microsoft.ML;
using Microsoft.ML.Data;
using NoteLLM.MLNet.Generation;
using NoteLLM.MLNet.Modeling;
using NoteLLM.MLNet.Tests.TestSupport;
using NoteLLM.MLNet.Training;

namespace NoteLLM.MLNet.Tests.Integration;

/// <summary>A pair row with the conventional column names.</summary>
public sealed class PairRow
{
    public string Id { get; set; } = "";
    public string? Title { get; set; }
    public string? Content { get; set; }
    public string[] Hashtags { get; set; } = [];
    public string? Category { get; set; }
    public string RelatedId { get; set; } = "";
    public string? RelatedTitle { get; set; }
    public string? RelatedContent { get; set; }
    public string[] RelatedHashtags { get; set; } = [];
    public string? RelatedCategory { get; set; }
}

/// <summary>A note row.</summary>
public sealed class NoteRow
{
    public string Id { get; set; } = "";
    public string? Title { get; set; }
    public string? Content { get; set; }
    public string[] Hashtags { get; set; } = [];
}

/// <summary>What the NoteLLM transformer adds (embedding size of <see cref="NoteLLMFixture"/>).</summary>
public sealed class NoteLLMOutput
{
    public string Id { get; set; } = "";
    [VectorType(NoteLLMFixture.EmbeddingDimension)]
    public float[] Embedding { get; set; } = [];
    public string[] GeneratedHashtags { get; set; } = [];
    public string GeneratedCategory { get; set; } = "";
}

/// <summary>One tiny NoteLLM fitted through ML.NET, shared by the integration tests (fitting takes seconds).</summary>
public sealed class NoteLLMFixture : IDisposable
{
    public const int EmbeddingDimension = 16;

    public MLContext MLContext { get; } = new(seed: 3);
    public List<PairRow> Pairs { get; } = CreatePairs();

    public static List<PairRow> CreatePairs() => SyntheticNotes.Pairs(12).Select(p => new PairRow
    {
        Id = p.FirstId!,
        Title = p.First.Title,
        Content = p.First.Content,
        Hashtags = p.First.Hashtags.ToArray(),
        Category = p.First.Category,
        RelatedId = p.SecondId!,
        RelatedTitle = p.Second.Title,
        RelatedContent = p.Second.Content,
        RelatedHashtags = p.Second.Hashtags.ToArray(),
        RelatedCategory = p.Second.Category,
    }).ToList();
    public List<NoteRow> Notes => Pairs.SelectMany(p => new[]
    {
        new NoteRow { Id = p.Id, Title = p.Title, Content = p.Content, Hashtags = p.Hashtags },
        new NoteRow { Id = p.RelatedId, Title = p.RelatedTitle, Content = p.RelatedContent, Hashtags = p.RelatedHashtags },
    }).ToList();
    public List<string> Log { get; } = [];
    public NoteLLMTransformer Model { get; }

    public NoteLLMFixture()
    {
        MLContext.Log += (_, e) => { lock (Log) Log.Add(e.Message); };
        Model = MLContext.Transforms.NoteLLM(Options()).Fit(MLContext.Data.LoadFromEnumerable(Pairs));
    }

    public static NoteLLMOptions Options(NoteOutputs outputs = NoteOutputs.All) => new()
    {
        Outputs = outputs,
        Backbone = NoteLLMBackbone.DecoderFromScratch,
        FromScratch = TinyModels.Config(hidden: 64, layers: 2, tied: true),
        Training = NoteLLMTrainerOptions.ForSmallModelFromScratch with { EmbeddingDimension = EmbeddingDimension, BatchSize = 4, Epochs = 3, ValidationFraction = 0 },
        InferenceBatchSize = 8,
        MaxNewTokens = 6,
    };

    public void Dispose() => Model.Dispose();
}
