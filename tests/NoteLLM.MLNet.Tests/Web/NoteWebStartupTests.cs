using Microsoft.AspNetCore.Mvc.Testing;
using NoteLLM.MLNet.Tests.Samples;
using NoteLLM.MLNet.Tests.TestSupport;
using NoteLLM.Web;

namespace NoteLLM.MLNet.Tests.Web;

/// <summary>Without its files the web sample does not start, and says which file is missing and what writes it.</summary>
public class NoteWebStartupTests
{
    /// <summary>The startup error of the app <paramref name="factory"/> serves (disposed here).</summary>
    internal static NoteServingStartupException StartupError(WebApplicationFactory<NoteServing> factory)
    {
        using var _ = factory;
        var error = Record.Exception(() => factory.CreateClient());
        for (var e = error; e is not null; e = e.InnerException)
            if (e is NoteServingStartupException startup) return startup;
        throw new Xunit.Sdk.XunitException($"expected a {nameof(NoteServingStartupException)}, got: {error}");
    }

    [Fact]
    public void MissingModelNamesTheQuickStartCommand()
    {
        using var dir = new TempFolder();
        var error = StartupError(NoteWebFixture.Serve(dir.File("model.zip")));
        Assert.Equal($"No model file at '{dir.File("model.zip")}': run the quick start first (dotnet run -c Release --project samples/NoteLLM.QuickStart) or pass --model <path to model.zip>.", error.Message);
    }

    [Fact]
    public void MissingIndexNamesTheFileAndTheQuickStartCommand()
    {
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("model.zip"), [1, 2, 3]);
        var error = StartupError(NoteWebFixture.Serve(dir.File("model.zip")));
        Assert.StartsWith($"No note index at '{dir.File(NoteServingOptions.IndexFileName)}'", error.Message);
        Assert.Contains(NoteServing.QuickStartCommand, error.Message);
    }

    [Fact]
    public void DamagedModelSaysToWriteItAgain()
    {
        using var dir = new TempFolder();
        foreach (string file in new[] { "model.zip", NoteServingOptions.IndexFileName, NoteServingOptions.NotesFileName })
            File.WriteAllBytes(dir.File(file), [1, 2, 3]);
        var error = StartupError(NoteWebFixture.Serve(dir.File("model.zip")));
        Assert.StartsWith($"Could not load '{dir.File("model.zip")}'", error.Message);
        Assert.Contains(NoteServing.QuickStartCommand, error.Message);
    }

    [Fact]
    public void AsItsOwnProcessAMissingModelIsOneLineAndExitCodeOne()
    {
        using var dir = new TempFolder();
        string line = SampleApp.AssertOneLineError(SampleApp.Run(SampleApp.Web, dir.Path, TimeSpan.FromMinutes(2), "--model", "missing/model.zip"));
        Assert.Equal($"error: No model file at '{dir.File("missing/model.zip")}': run the quick start first ({NoteServing.QuickStartCommand}) or pass --model <path to model.zip>.", line);
    }
}
