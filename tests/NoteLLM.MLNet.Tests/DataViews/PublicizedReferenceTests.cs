using Microsoft.ML;

namespace NoteLLM.MLNet.Tests.DataViews;

public class PublicizedReferenceTests
{
    [Fact]
    public void TheGenuineSignedMLNetAssembliesAreLoadedAtRunTime()
    {
        // Compiled against the publicized copies (where ModelLoadContext is public), but the runtime must load the
        // package's assemblies: there it is internal, and the strong-name key is Microsoft's.
        foreach (var type in new[] { typeof(ModelLoadContext), typeof(Microsoft.ML.Data.TransformerChain<>) })
        {
            var assembly = type.Assembly;
            Assert.DoesNotContain("mlnet-publicized", assembly.Location);
            Assert.Equal("cc7b13ffcd2ddd51", Convert.ToHexString(assembly.GetName().GetPublicKeyToken()!).ToLowerInvariant());
        }
        Assert.False(typeof(ModelLoadContext).IsPublic);
        Assert.False(typeof(VersionInfo).IsPublic);
    }
}
