using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Runtime;

/// <summary>
/// Which kernels libtorch's f32 matrix products get on this CPU. libtorch's bundled oneMKL picks its kernels by CPU
/// vendor: on an AMD CPU it runs its AVX2 code even when the CPU has AVX-512 (Zen 4, Zen 5), and its AVX-512 code is
/// about twice as fast there (docs/benchmarks.md). On such a CPU (Linux x64) NoteLLM loads a one-function native
/// library into the process's global symbol scope, before oneMKL's first call, that answers oneMKL's vendor test
/// "Intel" (Runtime/Native/mkl_intel_cpu_true.c); oneMKL then picks by CPU features, as on Intel CPUs. What is computed
/// stays the same up to rounding. The environment variable <see cref="OptOutVariable"/> set to 0 keeps oneMKL's own
/// choice. bf16 work goes through oneDNN, which picks by CPU features anyway.
/// </summary>
public static class CpuMatrixProducts
{
    /// <summary>Set to <c>0</c> to keep oneMKL's vendor-based choice (its AVX2 kernels on AMD CPUs).</summary>
    public const string OptOutVariable = "NOTELLM_MKL_AVX512_ON_AMD";

    /// <summary>The native library's file name; its soname is the same.</summary>
    internal const string LibraryName = "libnotellm_mkl_intel_cpu_true.so";

    /// <summary>What NoteLLM did about oneMKL's vendor test in this process.</summary>
    public enum VendorTestAnswer
    {
        /// <summary>Nothing to do: not Linux x64, not an AMD CPU, or no AVX-512.</summary>
        NotNeeded,
        /// <summary>oneMKL already saw "Intel" (the library, or another, was preloaded).</summary>
        AlreadyIntel,
        /// <summary>NoteLLM loaded its library into the global scope.</summary>
        Loaded,
        /// <summary><see cref="OptOutVariable"/> is 0.</summary>
        OptedOut,
        /// <summary>The library was not found or could not be loaded (see <see cref="NotLoadedReason"/>).</summary>
        NotLoaded,
    }

    private static readonly Lazy<(VendorTestAnswer Answer, string? Reason)> Prepared = new(Prepare, LazyThreadSafetyMode.ExecutionAndPublication);
    private static int reported;

    /// <summary>
    /// Lets oneMKL take its AVX-512 kernels on an AMD CPU with AVX-512, once per process; a no-op elsewhere. NoteLLM calls
    /// it before its first tensor work (creating or loading a model, <c>Fit</c>). oneMKL chooses its kernels at its first
    /// call and keeps them, so an application that runs TorchSharp matrix products before touching NoteLLM calls this
    /// first.
    /// </summary>
    public static VendorTestAnswer UseAvx512KernelsOnAmd() => Prepared.Value.Answer;

    /// <summary>Why the library was not loaded when <see cref="UseAvx512KernelsOnAmd"/> says <see cref="VendorTestAnswer.NotLoaded"/>.</summary>
    public static string? NotLoadedReason => Prepared.Value.Reason;

    /// <summary>
    /// One line for the ML.NET log, the first time in the process that f32 work on <paramref name="device"/> runs on an AMD
    /// CPU with AVX-512: which oneMKL kernels it gets and, when those are the slower AVX2 ones, why and what to do. Null
    /// otherwise (a GPU, bf16, another CPU, oneMKL already seeing "Intel" before NoteLLM, or said before).
    /// </summary>
    public static string? TakeAdvice(Device device, ScalarType dtype)
    {
        if (Volatile.Read(ref reported) == 1 || device.type != DeviceType.CPU || dtype != ScalarType.Float32) return null;
        var (answer, reason) = Prepared.Value;
        if (answer is VendorTestAnswer.NotNeeded or VendorTestAnswer.AlreadyIntel) return null;
        if (Interlocked.Exchange(ref reported, 1) == 1) return null;
        return answer switch
        {
            VendorTestAnswer.OptedOut =>
                $"f32 matrix products run oneMKL's AVX2 kernels on this AMD CPU although it has AVX-512 ({OptOutVariable}=0); its AVX-512 kernels are about twice as fast.",
            VendorTestAnswer.NotLoaded =>
                $"f32 matrix products run oneMKL's AVX2 kernels on this AMD CPU although it has AVX-512: {reason} Its AVX-512 kernels are about twice as fast (docs/use-in-your-app.md, \"CPU speed\").",
            _ => MklUsesAvx512() switch
            {
                true => $"f32 matrix products run oneMKL's AVX-512 kernels on this AMD CPU: NoteLLM answers oneMKL's CPU-vendor test \"Intel\" ({OptOutVariable}=0 keeps oneMKL's AVX2 choice).",
                false => "f32 matrix products run oneMKL's AVX2 kernels on this AMD CPU although it has AVX-512: oneMKL chose them at a matrix product " +
                         $"this process ran before NoteLLM was first used. Call {nameof(CpuMatrixProducts)}.{nameof(UseAvx512KernelsOnAmd)}() before other TorchSharp work for kernels about twice as fast.",
                null => null, // a libtorch whose oneMKL cannot be asked: nothing certain to say
            },
        };
    }

    /// <summary>
    /// Whether oneMKL's automatic code branch is an AVX-512 one (MKL_CBWR_AVX512 = 12, MKL_CBWR_AVX512_E1 = 14 in
    /// mkl_cbwr.h); null when libtorch is not loaded or its oneMKL does not export the query. Asking makes oneMKL choose.
    /// </summary>
    public static unsafe bool? MklUsesAvx512()
    {
        InitializeDeviceType(DeviceType.CPU); // loads libtorch, if nothing has yet
        IntPtr torchCpu = Dl.Open("libtorch_cpu.so", Dl.Lazy | Dl.NoLoad);
        if (torchCpu == IntPtr.Zero) return null;
        IntPtr autoBranch = Dl.Symbol(torchCpu, "mkl_serv_cbwr_get_auto_branch");
        if (autoBranch == IntPtr.Zero) return null;
        int branch = ((delegate* unmanaged<int>)autoBranch)();
        return branch is 12 or 14;
    }

    private static (VendorTestAnswer, string?) Prepare()
    {
        if (!AmdWithAvx512()) return (VendorTestAnswer.NotNeeded, null);
        if (MklSeesIntel()) return (VendorTestAnswer.AlreadyIntel, null);
        if (Environment.GetEnvironmentVariable(OptOutVariable) == "0") return (VendorTestAnswer.OptedOut, null);
        // .NET's own probing (the app folder, a package's runtimes/linux-x64/native) finds and loads the library, but
        // locally; opening it again by its soname with RTLD_GLOBAL adds it to the global scope, which the dynamic linker
        // searches before libtorch's own definition when it binds libtorch's call.
        if (!NativeLibrary.TryLoad(LibraryName, typeof(CpuMatrixProducts).Assembly, null, out _))
            return (VendorTestAnswer.NotLoaded, $"{LibraryName} is not beside the application (NoteLLM.MLNet builds it with the system C compiler on Linux x64; the build that made this one had none).");
        if (Dl.Open(LibraryName, Dl.Lazy | Dl.NoLoad | Dl.Global) == IntPtr.Zero)
            return (VendorTestAnswer.NotLoaded, $"{LibraryName} could not be made global ({Dl.LastError()}).");
        return MklSeesIntel() ? (VendorTestAnswer.Loaded, null) : (VendorTestAnswer.NotLoaded, $"{LibraryName} is loaded but oneMKL's vendor test does not resolve to it.");
    }

    /// <summary>Whether this Linux x64 CPU has AVX-512 (avx512f in /proc/cpuinfo); false on other systems.</summary>
    internal static bool HasAvx512() => CpuInfo.Value.Contains(" avx512f", StringComparison.Ordinal);

    internal static bool AmdWithAvx512() => HasAvx512() && CpuInfo.Value.Contains("AuthenticAMD", StringComparison.Ordinal);

    // /proc/cpuinfo on Linux x64, read once; empty on other systems or when it cannot be read.
    private static readonly Lazy<string> CpuInfo = new(() =>
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64) return "";
        try { return File.ReadAllText("/proc/cpuinfo"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return ""; }
    });

    // MKL's vendor test as the process resolves it: a global definition comes first; without one the name is libtorch's
    // own (answering 0 on AMD) or, since .NET loads libtorch locally, not found.
    private static unsafe bool MklSeesIntel() =>
        NativeLibrary.TryGetExport(NativeLibrary.GetMainProgramHandle(), "mkl_serv_intel_cpu_true", out var test)
        && ((delegate* unmanaged<int>)test)() != 0;

    // glibc's dynamic loader; libdl.so.2 exists on every glibc (since 2.34 it forwards to libc.so.6).
    private static class Dl
    {
        public const int Lazy = 0x1, NoLoad = 0x4, Global = 0x100;

        [DllImport("libdl.so.2", EntryPoint = "dlopen")] public static extern IntPtr Open(string file, int flags);
        [DllImport("libdl.so.2", EntryPoint = "dlsym")] public static extern IntPtr Symbol(IntPtr handle, string name);
        [DllImport("libdl.so.2", EntryPoint = "dlerror")] private static extern IntPtr Error();

        public static string LastError() => Marshal.PtrToStringUTF8(Error()) ?? "no error reported";
    }
}
