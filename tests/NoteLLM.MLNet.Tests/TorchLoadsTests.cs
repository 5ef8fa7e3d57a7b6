using static TorchSharp.torch;

namespace NoteLLM.MLNet.Tests;

public class TorchLoadsTests
{
    [Fact]
    public void NativeLibraryLoadsAndComputes()
    {
        using var t = ones(3, 4);
        Assert.Equal(12f, t.sum().item<float>());
    }
}
