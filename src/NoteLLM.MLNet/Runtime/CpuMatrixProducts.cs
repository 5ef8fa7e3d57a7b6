using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Runtime;

/// <summary>
/// Which kernels libtorch's f32 matrix products get on this CPU. libtorch's bundled oneMKL picks its kernels by CPU
/// vendor: on an AMD CPU it runs its AVX2 code even when the CPU has AVX-512 (Zen 4, Zen 5), and its AVX-512 code is
/// much faster there (docs/benchmarks.md). <c>tools/mkl-amd-shim</c>, preloaded, makes MKL's vendor test answer
/// "Intel" (docs/use-in-your-app.md). bf16 work goes through oneDNN, which picks by CPU features and needs no shim.
/// </summary>
public static class CpuMatrixProducts
{
    private static int advised;

    /// <summary>
    /// One line of advice, the first time in the process that f32 work on <paramref name="device"/> would run MKL's
    /// AVX2 kernels on an AMD CPU with AVX-512; null otherwise (a GPU, bf16, another CPU, the shim loaded, or said before).
    /// </summary>
    public static string? TakeAdvice(Device device, ScalarType dtype)
    {
        if (Volatile.Read(ref advised) == 1 || device.type != DeviceType.CPU || dtype != ScalarType.Float32 || !AmdWithAvx512.Value || MklSeesIntel()) return null;
        if (Interlocked.Exchange(ref advised, 1) == 1) return null;
        return "f32 matrix products run oneMKL's AVX2 kernels on this AMD CPU although it has AVX-512; preloading the " +
               "NoteLLM.MLNet repository's tools/mkl-amd-shim (LD_PRELOAD) lets them use its AVX-512 kernels, about twice " +
               "as fast (docs/use-in-your-app.md, \"CPU speed\").";
    }

    private static readonly Lazy<bool> AmdWithAvx512 = new(() =>
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64) return false;
        try
        {
            string cpuinfo = File.ReadAllText("/proc/cpuinfo");
            return cpuinfo.Contains("AuthenticAMD", StringComparison.Ordinal) && cpuinfo.Contains(" avx512f", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    });

    // MKL's vendor test as the process resolves it: a preloaded definition comes first in the global scope; without
    // one the name is libtorch's own (answering 0 on AMD) or, when libtorch was loaded locally, not found.
    private static unsafe bool MklSeesIntel() =>
        NativeLibrary.TryGetExport(NativeLibrary.GetMainProgramHandle(), "mkl_serv_intel_cpu_true", out var test)
        && ((delegate* unmanaged<int>)test)() != 0;
}
