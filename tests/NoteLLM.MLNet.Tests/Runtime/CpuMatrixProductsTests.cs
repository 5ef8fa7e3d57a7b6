using NoteLLM.MLNet.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Tests.Runtime;

/// <summary>
/// oneMKL's kernels for f32 matrix products on this machine's CPU. What is asserted depends on the CPU, and every CPU
/// gets an assertion: with AVX-512, oneMKL must run its AVX-512 kernels (on AMD because NoteLLM answered its vendor
/// test); without, NoteLLM must leave oneMKL alone.
/// </summary>
public class CpuMatrixProductsTests
{
    [Fact]
    public void OneMklRunsItsAvx512KernelsOnEveryCpuThatHasAvx512()
    {
        var answer = CpuMatrixProducts.UseAvx512KernelsOnAmd();
        if (!CpuMatrixProducts.AmdWithAvx512())
        {
            Assert.Equal(CpuMatrixProducts.VendorTestAnswer.NotNeeded, answer);
            if (CpuMatrixProducts.HasAvx512()) Assert.True(CpuMatrixProducts.MklUsesAvx512(), "an Intel CPU with AVX-512 whose oneMKL runs other kernels");
            return;
        }
        if (Environment.GetEnvironmentVariable(CpuMatrixProducts.OptOutVariable) == "0")
        {
            Assert.Equal(CpuMatrixProducts.VendorTestAnswer.OptedOut, answer);
            Assert.False(CpuMatrixProducts.MklUsesAvx512());
            return;
        }
        Assert.True(answer is CpuMatrixProducts.VendorTestAnswer.Loaded or CpuMatrixProducts.VendorTestAnswer.AlreadyIntel,
            $"{answer}: {CpuMatrixProducts.NotLoadedReason}");
        Assert.True(CpuMatrixProducts.MklUsesAvx512(), "oneMKL sees 'Intel' but did not choose AVX-512 kernels");
    }

    [Fact]
    public void AdviceIsForF32OnTheCpuOnly()
    {
        Assert.Null(CpuMatrixProducts.TakeAdvice(CPU, ScalarType.BFloat16));
        Assert.Null(CpuMatrixProducts.TakeAdvice(new Device(DeviceType.CUDA, 0), ScalarType.Float32));
    }
}
