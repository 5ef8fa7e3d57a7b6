using System.Text.Json.Nodes;
using NoteLLM.MLNet.Bundle;
using NoteLLM.MLNet.Tests.TestSupport;

namespace NoteLLM.MLNet.Tests.Bundle;

/// <summary>
/// A model folder whose notellm.json or weights were edited by hand or come from elsewhere: every field is checked
/// before anything is built from it, and errors name the file the user has, not a temporary copy.
/// </summary>
public class NoteLLMModelFilesTests
{
    private static TempFolder SavedModel()
    {
        var dir = new TempFolder();
        using var model = TinyModels.NoteLLM();
        NoteLLMModelFiles.Save(model, dir.Path);
        return dir;
    }

    private static void EditManifest(TempFolder dir, Action<JsonObject> edit)
    {
        var manifest = JsonNode.Parse(File.ReadAllText(dir.File("notellm.json")))!.AsObject();
        edit(manifest);
        File.WriteAllText(dir.File("notellm.json"), manifest.ToJsonString());
    }

    [Theory]
    [InlineData("traversal", "lists the tokenizer file '../../../../etc/hostname', which is not a plain file name")]
    [InlineData("no tokenizer files", "notellm.json lacks its list of tokenizer files.")]
    [InlineData("integer dtype", "gives the weights' dtype as 'Int64'; expected Float32, BFloat16 or Float16")]
    [InlineData("unknown read-out", "gives an unknown embedding read-out (7)")]
    [InlineData("negative dimension", "gives an embedding dimension of -3; expected 1 to 65,536")]
    [InlineData("zero note tokens", "has invalid prompt limits: Limits.MaxNoteTokens is 0; expected 1 or more.")]
    public void AnEditedManifestIsNamedBeforeAnythingIsBuiltFromIt(string edit, string expected)
    {
        // these read a file outside the model's folder, built an integer network, fell back to mean pooling without a
        // word, or failed deep inside with an exception that named no file
        using var dir = SavedModel();
        EditManifest(dir, manifest =>
        {
            switch (edit)
            {
                case "traversal": manifest["TokenizerFiles"] = new JsonArray("../../../../etc/hostname"); break;
                case "no tokenizer files": manifest.Remove("TokenizerFiles"); break;
                case "integer dtype": manifest["Dtype"] = "Int64"; break;
                case "unknown read-out": manifest["Readout"] = 7; break;
                case "negative dimension": manifest["EmbeddingDimension"] = -3; break;
                default: manifest["Limits"]!["MaxNoteTokens"] = 0; break;
            }
        });
        var error = Assert.Throws<InvalidDataException>(() => NoteLLMModelFiles.Load(dir.Path));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void ASaveThatFailsLeavesTheEarlierModelAsItWas()
    {
        using var dir = SavedModel();
        var before = Directory.GetFiles(dir.Path, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.ReadAllBytes);
        // another model whose tokenizer holds a file that cannot be written (a NUL in its name): saving fails after
        // notellm.json and config.json
        var vocabulary = TokenizerFiles.WordPieceOf(["games science"]).Files["vocab.txt"];
        var tokenizer = NoteLLM.MLNet.Tokenization.NoteTokenizer.FromFiles("wordpiece", new Dictionary<string, byte[]> { ["vocab.txt"] = vocabulary, ["bad\0name"] = [1] });
        using (var other = NoteLLMModel.CreateFromScratch(TinyModels.Config(), embeddingDimension: 8, tokenizer: tokenizer))
        {
            other.Categories = ["games"];
            Assert.ThrowsAny<ArgumentException>(() => NoteLLMModelFiles.Save(other, dir.Path));
        }

        // before, its new notellm.json (with the category) stood beside the earlier weights, and loaded
        Assert.Equal(before.Keys.Order(), Directory.GetFiles(dir.Path, "*", SearchOption.AllDirectories).Order());
        Assert.All(before, file => Assert.Equal(file.Value, File.ReadAllBytes(file.Key)));
        Assert.False(Directory.Exists(dir.Path + ".partial"));
        using var loaded = NoteLLMModelFiles.Load(dir.Path);
        Assert.Empty(loaded.Categories);
    }

    [Fact]
    public void WeightsOfAnotherModelAreReportedUnderTheirOwnFileName()
    {
        using var dir = SavedModel();
        using (var other = new TempFolder())
        {
            using (var wider = NoteLLMModel.CreateFromScratch(TinyModels.Config(hidden: 48, layers: 2, heads: 4, kvHeads: 2, tied: true), embeddingDimension: 32))
                NoteLLMModelFiles.Save(wider, other.Path);
            File.Copy(other.File("model.safetensors"), dir.File("model.safetensors"), overwrite: true);
        }
        var error = Assert.Throws<InvalidDataException>(() => NoteLLMModelFiles.Load(dir.Path));
        Assert.Contains("in 'model.safetensors' has shape", error.Message);
        Assert.DoesNotContain("notellm-weights-", error.Message); // the temporary copy it was read from, deleted since
    }
}
