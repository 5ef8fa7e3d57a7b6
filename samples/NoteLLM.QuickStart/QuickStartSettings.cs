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

    [CommandOption("--checkpoint <FOLDER>")]
    [Description("A Hugging Face checkpoint folder (config.json, *.safetensors, tokenizer files) to fine-tune instead of training a small decoder from scratch.")]
    public string? Checkpoint { get; init; }

    [CommandOption("--cuda")]
    [Description("Train and infer on CUDA device 0 (needs the TorchSharp-cuda backend: build with -p:TorchBackend=cuda-linux).")]
    public bool Cuda { get; init; }

    [CommandOption("--epochs <N>")]
    [Description("Training epochs over the sampled pairs (default 2).")]
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
    [Description("Training pairs sampled for training (default 0 = all; with 2 epochs the default run takes about 2.5 minutes on 2 idle CPU cores).")]
    [DefaultValue(0)]
    public int TrainPairs { get; init; }

    public override ValidationResult Validate() =>
        Epochs is < 1 ? ValidationResult.Error("--epochs must be at least 1.")
        : GenerateNotes < 0 ? ValidationResult.Error("--generate must be 0 or more.")
        : TrainPairs < 0 ? ValidationResult.Error("--train-pairs must be 0 (all) or more.")
        : ValidationResult.Success();
}
