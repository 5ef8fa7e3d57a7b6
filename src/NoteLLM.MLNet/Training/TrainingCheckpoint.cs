using System.Text.Json;
using NoteLLM.MLNet.Data;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Training;

/// <summary>
/// A resumable training checkpoint in a folder: <c>weights.bin</c> (the network), <c>optimizer.bin</c> (AdamW
/// moments and step counts), <c>masters.bin</c> (the float32 master weights, when the network is not float32),
/// <c>state.json</c> (step, history, best validation, and a fingerprint of the data and options so a checkpoint is
/// never resumed on different ones). The learning rate and data position are functions
/// of the step. A new checkpoint is written beside the old one and swapped in, so a kill at any moment leaves one
/// complete checkpoint.
/// </summary>
internal static class TrainingCheckpoint
{
    public sealed record State(int Step, string Fingerprint, double? BestValidationLoss, int? BestValidationStep, List<TrainingProgress> History);

    private const string Current = "checkpoint", Previous = "checkpoint.previous", BestWeights = "best-weights.bin", MastersFile = "masters.bin";

    public static void Save(string directory, nn.Module network, OptimizerHelper optimizer, MasterWeights masters, State state)
    {
        Directory.CreateDirectory(directory);
        string current = Path.Combine(directory, Current), previous = Path.Combine(directory, Previous);
        AtomicFile.WriteFolder(current, staging =>
        {
            using (var w = new BinaryWriter(File.Create(Path.Combine(staging, "weights.bin")))) network.save(w);
            using (var w = new BinaryWriter(File.Create(Path.Combine(staging, "optimizer.bin")))) optimizer.save_state_dict(w);
            if (masters.AreCopies)
                using (var w = new BinaryWriter(File.Create(Path.Combine(staging, MastersFile)))) masters.Save(w);
            File.WriteAllText(Path.Combine(staging, "state.json"), JsonSerializer.Serialize(state));
        }, staging =>
        {
            // The old checkpoint stays, as the previous one, until the new one is in place (TryLoad falls back to it).
            if (Directory.Exists(previous)) Directory.Delete(previous, true);
            if (Directory.Exists(current)) Directory.Move(current, previous);
            Directory.Move(staging, current);
            if (Directory.Exists(previous)) Directory.Delete(previous, true);
        });
    }

    /// <summary>Loads the newest complete checkpoint into the network, optimizer and master weights; null when there is none.</summary>
    public static State? TryLoad(string directory, nn.Module network, OptimizerHelper optimizer, MasterWeights masters, string fingerprint)
    {
        string? folder = new[] { Current, Previous }.Select(n => Path.Combine(directory, n)).FirstOrDefault(f => File.Exists(Path.Combine(f, "state.json")));
        if (folder is null) return null;
        State state;
        try
        {
            state = JsonSerializer.Deserialize<State>(File.ReadAllText(Path.Combine(folder, "state.json"))) ?? throw new JsonException("it holds null");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The checkpoint in '{folder}' has a damaged state.json ({e.Message}); delete the folder to train from the start.", e);
        }
        if (state.Fingerprint != fingerprint)
            throw new InvalidOperationException(
                $"The checkpoint in '{directory}' was written for other training data, options or starting model (step {state.Step}); " +
                "resuming it would not continue the same run. Use another CheckpointDirectory or delete this one.");
        try
        {
            using (var r = new BinaryReader(File.OpenRead(Path.Combine(folder, "weights.bin")))) network.load(r);
            using (var r = new BinaryReader(File.OpenRead(Path.Combine(folder, "optimizer.bin")))) optimizer.load_state_dict(r);
            if (masters.AreCopies)
                using (var r = new BinaryReader(File.OpenRead(Path.Combine(folder, MastersFile)))) masters.Load(r);
        }
        catch (Exception e) when (e is IOException or ArgumentException or InvalidDataException or InvalidOperationException)
        {
            // EndOfStreamException (a truncated file) is an IOException; TorchSharp reports mismatched tensors as ArgumentException
            throw new InvalidDataException($"The checkpoint in '{folder}' could not be read ({e.Message}): a file of it is damaged or missing; delete the folder to train from the start.", e);
        }
        return state;
    }

    /// <summary>
    /// Holds <paramref name="directory"/> for one training run (null: no folder, nothing to hold): two fits sharing a
    /// folder would write over each other's checkpoints and best weights. The lock is a file opened unshared, which
    /// .NET enforces between processes too, and goes with the process.
    /// </summary>
    /// <exception cref="InvalidOperationException">Another run holds the folder.</exception>
    public static IDisposable? Lock(string? directory)
    {
        if (directory is null) return null;
        Directory.CreateDirectory(directory);
        try
        {
            return new FileStream(Path.Combine(directory, "training.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
        }
        catch (IOException e)
        {
            throw new InvalidOperationException($"Another training run is using the checkpoint folder '{directory}': give each run its own CheckpointDirectory.", e);
        }
    }

    public static void SaveBest(string directory, nn.Module network)
    {
        Directory.CreateDirectory(directory); // validation can keep best weights before the first checkpoint creates the folder
        AtomicFile.Write(Path.Combine(directory, BestWeights), file =>
        {
            using var w = new BinaryWriter(file);
            network.save(w);
        });
    }

    public static bool TryLoadBest(string directory, nn.Module network)
    {
        string path = Path.Combine(directory, BestWeights);
        if (!File.Exists(path)) return false;
        using var r = new BinaryReader(File.OpenRead(path));
        network.load(r);
        return true;
    }
}
