using System.IO.Compression;
using Microsoft.ML;

namespace NoteLLM.MLNet.Tests.DataViews;

/// <summary>Damaged model zips fail to load with an exception naming the damage, and never yield a model.</summary>
public sealed class ModelFileCorruptionTests : IDisposable
{
    private readonly MLContext mlContext = new(seed: 1);
    private readonly string directory = Directory.CreateTempSubdirectory("mlnet-corruption-").FullName;
    private readonly string modelPath;

    public ModelFileCorruptionTests()
    {
        var data = mlContext.Data.LoadFromEnumerable(TestNotes.Create(10));
        var chain = mlContext.Transforms.Text.NormalizeText("Title")
            .Append(new HashedNgramEstimator(mlContext, new HashedNgramOptions()))
            .Fit(data);
        modelPath = Path.Combine(directory, "model.zip");
        mlContext.Model.Save(chain, data.Schema, modelPath);
    }

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void TheUndamagedModelLoads() => Assert.NotNull(mlContext.Model.Load(modelPath, out _));

    [Fact]
    public void ATruncatedZipIsRejected()
    {
        string path = Path.Combine(directory, "truncated.zip");
        byte[] bytes = File.ReadAllBytes(modelPath);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        // Without its central directory the file is not a zip at all: ML.NET says so before any loader runs.
        var error = Assert.Throws<FormatException>(() => mlContext.Model.Load(path, out _));
        Assert.Equal("Failed to open a zip archive", error.Message);
        Assert.Contains("End of Central Directory record could not be found", Assert.IsType<InvalidDataException>(error.InnerException).Message);
    }

    [Fact]
    public void ACorruptedWeightsFileIsNamed()
    {
        string path = Rewrite("weights/embedding.bin", bytes => bytes[5] ^= 0x40);
        AssertLoadFails(path, "File 'weights/embedding.bin' in the entry", "is corrupted (SHA-256 mismatch)");
    }

    [Fact]
    public void ATruncatedWeightsFileIsNamed()
    {
        string path = Rewrite("weights/embedding.bin", null, truncateTo: 100);
        AssertLoadFails(path, "File 'weights/embedding.bin' in the entry", "has 100 bytes but 2048 were saved");
    }

    [Fact]
    public void DamagedCompressedBytesOfAFileAreNamed()
    {
        // Flip bytes inside the deflated data of the weights entry, as a bad disk or transfer would.
        string path = Path.Combine(directory, "bitrot.zip");
        byte[] zip = File.ReadAllBytes(modelPath);
        byte[] name = System.Text.Encoding.UTF8.GetBytes(HashedNgramDirectory() + "/weights/embedding.bin");
        int nameAt = zip.AsSpan().IndexOf(name); // the local file header comes first
        int header = nameAt - 30;
        Assert.Equal(0x04034b50, BitConverter.ToInt32(zip, header));
        int dataAt = nameAt + BitConverter.ToUInt16(zip, header + 26) + BitConverter.ToUInt16(zip, header + 28);
        for (int i = 8; i < 24; i++)
            zip[dataAt + i] ^= 0x5A;
        File.WriteAllBytes(path, zip);
        AssertLoadFails(path, "File 'weights/embedding.bin' in the entry");
    }

    [Fact]
    public void AMissingFileIsNamed()
    {
        string path = Path.Combine(directory, "missing.zip");
        File.Copy(modelPath, path);
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Update))
            Entry(zip, "config/about.txt").Delete();
        AssertLoadFails(path, "File 'config/about.txt' is missing from the entry");
    }

    [Fact]
    public void CorruptedSettingsAreNamed()
    {
        // The transformer's main stream: ML.NET's 256-byte header, then the settings section (8-byte length first).
        string path = Rewrite(HashedNgramDirectory() + "/Model.key", bytes => bytes[0x100 + 8 + 3] ^= 0x01);
        AssertLoadFails(path, "is corrupted (SHA-256 mismatch of its saved settings)");
    }

    [Fact]
    public void AModelFromANewerFormatVersionAsksForAnUpdate()
    {
        // ML.NET's model header: ModelVerWritten at 0x48, ModelVerReadable at 0x4C.
        string path = Rewrite(HashedNgramDirectory() + "/Model.key", bytes =>
        {
            BitConverter.TryWriteBytes(bytes.AsSpan(0x48), 0x00020001u);
            BitConverter.TryWriteBytes(bytes.AsSpan(0x4C), 0x00020001u);
        });
        AssertLoadFails(path, "was written in format version 0x00020001", "this library reads up to 0x00010001. Update the package");
    }

    [Fact]
    public void AForeignModelSignatureIsRejected()
    {
        // ML.NET's model header: the 8-character model signature at 0x40.
        string path = Rewrite(HashedNgramDirectory() + "/Model.key", bytes => "OTHERXF!"u8.CopyTo(bytes.AsSpan(0x40)));
        AssertLoadFails(path, "has model signature 'OTHERXF!', not 'HASHNGRM'");
    }

    private string HashedNgramDirectory()
    {
        using var zip = ZipFile.OpenRead(modelPath);
        string weights = zip.Entries.Select(e => e.FullName.Replace('\\', '/')).Single(n => n.EndsWith("/weights/embedding.bin"));
        return weights[..^"/weights/embedding.bin".Length];
    }

    private void AssertLoadFails(string path, params string[] expectedParts)
    {
        ITransformer? model = null;
        // ML.NET wraps a loader's exception twice per level ("Error during class instantiation", an
        // InvalidOperationException, then a TargetInvocationException); the cause, GetBaseException(), is the
        // loader's InvalidDataException.
        var error = Assert.Throws<InvalidOperationException>(() => model = mlContext.Model.Load(path, out _));
        Assert.Null(model);
        var cause = Assert.IsType<InvalidDataException>(error.GetBaseException());
        foreach (string part in expectedParts)
            Assert.Contains(part, cause.Message);
    }

    private string Rewrite(string entrySuffix, Action<byte[]>? change, int? truncateTo = null)
    {
        string path = Path.Combine(directory, $"changed-{Guid.NewGuid():N}.zip");
        File.Copy(modelPath, path);
        using var zip = ZipFile.Open(path, ZipArchiveMode.Update);
        var entry = Entry(zip, entrySuffix);
        byte[] bytes;
        using (var stream = entry.Open())
        using (var copy = new MemoryStream())
        {
            stream.CopyTo(copy);
            bytes = copy.ToArray();
        }
        change?.Invoke(bytes);
        if (truncateTo is int length)
            bytes = bytes[..length];
        using (var stream = entry.Open())
        {
            stream.SetLength(0);
            stream.Write(bytes);
        }
        return path;
    }

    private static ZipArchiveEntry Entry(ZipArchive zip, string suffix) =>
        zip.Entries.Single(e => e.FullName.Replace('\\', '/').EndsWith(suffix, StringComparison.Ordinal));
}
