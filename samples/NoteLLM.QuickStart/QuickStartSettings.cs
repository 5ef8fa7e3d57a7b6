using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace NoteLLM.QuickStart;

/// <summary>Command-line options of the quick start; every one has a default that runs on a 2-core CPU in minutes.</summary>
public sealed class QuickStartSettings : CommandSettings
{
    [CommandOption("--data <FOLDER>")]
    [Description("Dataset folder with notes.jsonl.gz, train-pairs.csv.gz and test-pairs.csv.gz (default: the repository's data/debian-notes-subset; data/debian-notes is the full set).")]
    public string? Data { get; init; }

    [CommandOption("--backbone <NAME>")]
    [Description("minilm (default: the pretrained all-MiniLM-L6-v2 encoder), arctic (snowflake-arctic-embed-xs) or scratch (a small decoder from random weights).")]
    [DefaultValue("minilm")]
    public string Backbone { get; init; } = "minilm";

    [CommandOption("--checkpoint <FOLDER>")]
    [Description("A Hugging Face checkpoint folder (config.json, *.safetensors, tokenizer files) to fine-tune instead of --backbone.")]
    public string? Checkpoint { get; init; }

    [CommandOption("--steps <N>")]
    [Description("Optimizer steps at most (default: 100 for a pretrained encoder, all epochs otherwise).")]
    public int? Steps { get; init; }

    [CommandOption("--learning-rate <LR>")]
    [Description("Peak learning rate (default: the backbone's preset).")]
    public double? LearningRate { get; init; }

    [CommandOption("--pretrained-lr-share <X>")]
    [Description("Learning rate of the backbone's pretrained weights as a share of the peak rate; the parts NoteLLM adds train at the full rate (default: the preset's, 1).")]
    public double? PretrainedLearningRateShare { get; init; }

    [CommandOption("--seed <N>")]
    [Description("Seed of the training run (data order, prompt variants, new weights; default 1).")]
    [DefaultValue(1)]
    public int Seed { get; init; } = 1;

    [CommandOption("--cuda")]
    [Description("Train and infer on CUDA device 0 (needs the TorchSharp-cuda backend: build with -p:TorchBackend=cuda-linux).")]
    public bool Cuda { get; init; }

    [CommandOption("--readout <NAME>")]
    [Description("Embedding read-out: token-before-emb (the paper's), emb-token, mean or first (default: the encoder's own pooling; token-before-emb from scratch).")]
    public string? Readout { get; init; }

    [CommandOption("--batch <N>")]
    [Description("Related-note pairs per training step (default: 16 for a pretrained encoder, 8 from scratch).")]
    public int? Batch { get; init; }

    [CommandOption("--epochs <N>")]
    [Description("Training epochs over the sampled pairs (default: 1 for a pretrained encoder, 2 from scratch).")]
    public int? Epochs { get; init; }

    [CommandOption("--output <FOLDER>")]
    [Description("Where model.zip, the note index and the charts go (default ./quickstart-output).")]
    [DefaultValue("quickstart-output")]
    public string Output { get; init; } = "quickstart-output";

    [CommandOption("--generate <N>")]
    [Description("Test notes whose hashtags and category are generated for the metrics (default 100; generation is slow on a CPU).")]
    [DefaultValue(100)]
    public int GenerateNotes { get; init; } = 100;

    [CommandOption("--train-pairs <N>")]
    [Description("Training pairs sampled for training (default 0 = all).")]
    [DefaultValue(0)]
    public int TrainPairs { get; init; }

    [CommandOption("--postgres <CONNECTION-STRING>")]
    [Description("Also write the indexed notes to a PostgreSQL table with pgvector (an Npgsql connection string, e.g. \"Host=localhost;Database=notes;Username=app\"), replacing the embeddings of notes already there; the serving samples read it with the same option.")]
    public string? Postgres { get; init; }

    [CommandOption("--postgres-table <NAME>")]
    [Description("The table --postgres writes (default note_embeddings; created with its HNSW index when missing).")]
    public string? PostgresTable { get; init; }

    public override ValidationResult Validate() =>
        Backbone is not ("minilm" or "arctic" or "scratch") ? ValidationResult.Error("--backbone must be minilm, arctic or scratch.")
        : Steps is < 1 ? ValidationResult.Error("--steps must be at least 1.")
        : LearningRate is <= 0 ? ValidationResult.Error("--learning-rate must be positive.")
        : PretrainedLearningRateShare is <= 0 ? ValidationResult.Error("--pretrained-lr-share must be positive.")
        : Readout is not (null or "token-before-emb" or "emb-token" or "mean" or "first") ? ValidationResult.Error("--readout must be token-before-emb, emb-token, mean or first.")
        : Batch is < 2 ? ValidationResult.Error("--batch must be at least 2 (the contrastive loss needs in-batch negatives).")
        : Epochs is < 1 ? ValidationResult.Error("--epochs must be at least 1.")
        : GenerateNotes < 0 ? ValidationResult.Error("--generate must be 0 or more.")
        : TrainPairs < 0 ? ValidationResult.Error("--train-pairs must be 0 (all) or more.")
        : PostgresTable is not null && Postgres is null ? ValidationResult.Error("--postgres-table names the table of --postgres: give --postgres <connection string> too.")
        : ValidationResult.Success();
}
