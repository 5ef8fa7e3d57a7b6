using NoteLLM.MLNet.Runtime;
using TorchSharp;

namespace NoteLLM.MLNet.Tests.Runtime;

public class TorchDeviceTests
{
    [Fact]
    public void NoGpuRequestedMeansCpu() => Assert.Equal(DeviceType.CPU, TorchDevice.Select(null, fallbackToCpu: false).type);

    [Fact]
    public void GpuRequestedWithoutCudaFailsClearlyOrFallsBack()
    {
        if (torch.cuda.is_available()) return; // this machine has CUDA: the rule's other branch applies (covered on GPU machines)
        var e = Assert.Throws<InvalidOperationException>(() => TorchDevice.Select(0, fallbackToCpu: false));
        Assert.Contains("CUDA is not available", e.Message);
        Assert.Contains("FallbackToCpu", e.Message);

        string? logged = null;
        Assert.Equal(DeviceType.CPU, TorchDevice.Select(0, fallbackToCpu: true, m => logged = m).type);
        Assert.Contains("falling back to the CPU", logged);
    }

    [Theory]
    [InlineData("float32", torch.ScalarType.Float32)]
    [InlineData("bf16", torch.ScalarType.BFloat16)]
    public void ParsesPrecision(string name, torch.ScalarType expected) => Assert.Equal(expected, TorchDevice.ParsePrecision(name));
}
