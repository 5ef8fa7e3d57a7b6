using System.Globalization;
using Microsoft.ML;
using NoteLLM.MLNet.Runtime;
using NoteLLM.MLNet.Tests.Integration;
using NoteLLM.MLNet.Tests.TestSupport;

namespace NoteLLM.MLNet.Tests.Packaging;

/// <summary>
/// Fresh console apps outside the repository (no Directory.Build.props, no project reference) that reference the packed
/// NoteLLM.MLNet package from a folder feed, as a user's app does. One with TorchSharp-cpu compiles the code of
/// docs/use-in-your-app.md (Docs/UseInYourApp.cs) and runs it on a model zip saved here: its embeddings equal the
/// fitted transformer's. One without a backend package builds with warning NOTELLM001, which a property turns off.
/// </summary>
[Collection(PackageCollection.Name)]
public class ConsumerProjectTests(PackageFixture package, NoteLLMFixture model) : IClassFixture<NoteLLMFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);
    private const float Tolerance = 1e-5f;

    private const string ProgramWithBackend = """
        using System.Globalization;
        using NoteApp;

        var prediction = NoteService.Predict(args[0], new Note { Title = args[1], Content = args[2] });
        Console.WriteLine(Format(prediction.Embedding));
        var (vector, annotation) = await NoteService.EmbedAndAnnotateAsync(args[0], args[2], CancellationToken.None);
        Console.WriteLine(Format(vector));
        Console.WriteLine(annotation.Category);
        Console.WriteLine(NoteLLM.MLNet.Runtime.CpuMatrixProducts.UseAvx512KernelsOnAmd());

        static string Format(float[] values) => string.Join(' ', values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
        """;

    private static float[] ParseVector(string line) =>
        line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();

    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double diff = expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(diff <= Tolerance, $"{what}: the consumer's embedding differs from the fitted transformer's by {diff}");
    }

    [Fact]
    public void AppWithTheCpuBackendRunsTheDocsCodeOnASavedModelLikeTheFittedTransformer()
    {
        using var consumer = package.CreateConsumer(ProgramWithBackend, "NoteLLM.MLNet", "TorchSharp-cpu");
        File.Copy(Path.Combine(package.Root, "tests/NoteLLM.MLNet.Tests/Docs/UseInYourApp.cs"), consumer.File("UseInYourApp.cs"));
        var ml = model.MLContext;
        var note = model.Notes[0];
        IDataView notes = ml.Data.LoadFromEnumerable(model.Notes);
        ml.Model.Save(model.Model, notes.Schema, consumer.File("notellm.zip"));
        var rows = new[] { new NoteRow { Id = "a", Title = note.Title, Content = note.Content }, new NoteRow { Id = "b", Content = note.Content } };
        var expected = ml.Data.CreateEnumerable<NoteLLMOutput>(model.Model.Transform(ml.Data.LoadFromEnumerable(rows)), reuseRowObject: false).ToList();

        var (buildExit, build) = DotnetCli.Run(consumer.Path, Timeout, "build", "-c", "Release");
        Assert.True(buildExit == 0, $"the consumer did not build ({buildExit}):\n{build}");
        Assert.DoesNotContain("NOTELLM001", build);
        var (runExit, run) = DotnetCli.Run(consumer.Path, Timeout, "run", "--no-build", "-c", "Release", "--",
            "notellm.zip", note.Title!, note.Content!);
        Assert.True(runExit == 0, $"the consumer failed ({runExit}):\n{run}");

        var lines = run.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        AssertClose(expected[0].Embedding, ParseVector(lines[0]), "PredictionEngine");
        AssertClose(expected[1].Embedding, ParseVector(lines[1]), "IEmbeddingGenerator");
        Assert.Equal(expected[1].GeneratedCategory, lines.Length > 3 ? lines[2] : "");
        // the package's native library (runtimes/linux-x64/native) answers oneMKL's vendor test in the app as it does here
        Assert.Equal(CpuMatrixProducts.UseAvx512KernelsOnAmd().ToString(), lines[^1]);
    }

    [Fact]
    public void AppWithoutABackendBuildsWithWarningNOTELLM001UnlessTurnedOff()
    {
        using var consumer = package.CreateConsumer("Console.WriteLine(typeof(NoteLLM.MLNet.NoteLLMTransformer).Name);\n", "NoteLLM.MLNet");

        var (exit, build) = DotnetCli.Run(consumer.Path, Timeout, "build", "-c", "Release");
        Assert.True(exit == 0, $"the consumer did not build ({exit}):\n{build}");
        Assert.Contains("warning NOTELLM001", build);
        Assert.Contains($"""<PackageReference Include="TorchSharp-cpu" Version="{package.PinnedVersion("TorchSharp-cpu")}" />""", build);

        var (offExit, off) = DotnetCli.Run(consumer.Path, Timeout, "build", "-c", "Release", "-p:NoteLLMCheckTorchBackend=false");
        Assert.True(offExit == 0, $"the consumer did not build ({offExit}):\n{off}");
        Assert.DoesNotContain("NOTELLM001", off);
    }
}
