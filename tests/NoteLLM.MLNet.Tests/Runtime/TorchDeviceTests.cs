using NoteLLM.MLNet.Runtime;
using TorchSharp;

namespace NoteLLM.MLNet.Tests.Runtime;

public class TorchDeviceTests
{
    [Fact]
    public void NoGpuRequestedMeansCpu() => Assert.Equal(DeviceType.CPU, TorchDevice.Select(null, fallbackToCpu: false).type);

    // Each machine checks the branch it can take: CUDA machines the device choice, the others the error and the fallback.
    [Fact]
    public void GpuRequestedUsesCudaWhereAvailableAndOtherwiseFailsClearlyOrFallsBack()
    {
        if (torch.cuda.is_available()) AssertCudaDeviceIsChosen();
        else AssertWithoutCudaItFailsClearlyOrFallsBack();
    }

    private static void AssertCudaDeviceIsChosen()
    {
        string? logged = null;
        foreach (bool fallbackToCpu in new[] { false, true })
        {
            var device = TorchDevice.Select(0, fallbackToCpu, m => logged = m);
            Assert.Equal(DeviceType.CUDA, device.type);
            Assert.Equal(0, device.index);
        }
        Assert.Null(logged);

        // a device id past the last one is an error even with the CPU fallback allowed
        int count = torch.cuda.device_count();
        var e = Assert.Throws<InvalidOperationException>(() => TorchDevice.Select(count, fallbackToCpu: true));
        Assert.Equal($"GPU device {count} was requested but this machine has {count} CUDA device(s) (0..{count - 1}).", e.Message);
    }

    private static void AssertWithoutCudaItFailsClearlyOrFallsBack()
    {
        var e = Assert.Throws<InvalidOperationException>(() => TorchDevice.Select(0, fallbackToCpu: false));
        Assert.Contains("GPU device 0 was requested (MLContext.GpuDeviceId) but CUDA is not available", e.Message);
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
