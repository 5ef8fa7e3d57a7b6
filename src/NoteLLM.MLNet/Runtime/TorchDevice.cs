using TorchSharp;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Runtime;

/// <summary>
/// Device choice by ML.NET's rule (as in Microsoft.ML.TorchSharp): CUDA device <c>GpuDeviceId</c> when one is
/// requested and CUDA is available; otherwise the CPU if <c>FallbackToCpu</c>; otherwise a clear error.
/// </summary>
public static class TorchDevice
{
    /// <param name="gpuDeviceId">MLContext.GpuDeviceId: null asks for the CPU.</param>
    /// <param name="fallbackToCpu">MLContext.FallbackToCpu.</param>
    /// <param name="log">receives a line when a requested GPU is replaced by the CPU.</param>
    public static Device Select(int? gpuDeviceId, bool fallbackToCpu, Action<string>? log = null)
    {
        if (gpuDeviceId is not int id) return CPU;
        if (cuda.is_available())
        {
            int count = cuda.device_count();
            if (id < 0 || id >= count)
                throw new InvalidOperationException($"GPU device {id} was requested but this machine has {count} CUDA device(s) (0..{count - 1}).");
            return new Device(DeviceType.CUDA, id);
        }
        if (fallbackToCpu)
        {
            log?.Invoke($"GPU device {id} was requested but CUDA is not available; falling back to the CPU (MLContext.FallbackToCpu = true).");
            return CPU;
        }
        throw new InvalidOperationException(
            $"GPU device {id} was requested (MLContext.GpuDeviceId) but CUDA is not available. Reference the TorchSharp-cuda-linux or " +
            "TorchSharp-cuda-windows package instead of TorchSharp-cpu in the application (and install a matching NVIDIA driver), " +
            "or set MLContext.FallbackToCpu = true to run on the CPU.");
    }

    /// <summary>The weight dtype for a precision name: <c>float32</c> (default on CPU) or <c>bfloat16</c>.</summary>
    public static ScalarType ParsePrecision(string precision) => precision.ToLowerInvariant() switch
    {
        "float32" or "f32" or "fp32" => ScalarType.Float32,
        "bfloat16" or "bf16" => ScalarType.BFloat16,
        _ => throw new ArgumentException($"Unknown precision '{precision}'; expected 'float32' or 'bfloat16'.", nameof(precision)),
    };
}
