/*
 * Lets oneMKL take its AVX-512 code on AMD CPUs that have AVX-512 (Zen 4, Zen 5).
 *
 * libtorch's bundled oneMKL (2024.0) picks its kernels by CPU vendor: on a non-Intel CPU it runs its AVX2 code even
 * when AVX-512 is there, and MKL_ENABLE_INSTRUCTIONS / MKL_CBWR cannot raise that. The vendor test is the exported
 * function below; libtorch_cpu.so calls it through its PLT, so a definition loaded first (LD_PRELOAD) answers it.
 * The kernels then chosen by CPU features (AVX-512F/BW/DQ/VL) are the ones Intel CPUs run.
 *
 * Build:  cc -O2 -shared -fPIC -o libmkl_intel_cpu_true.so mkl_intel_cpu_true.c
 * Use:    LD_PRELOAD=/path/to/libmkl_intel_cpu_true.so dotnet YourApp.dll
 * Only for CPUs that have AVX-512 (grep avx512f /proc/cpuinfo): on an AMD CPU without it, MKL would run Intel's
 * AVX2 paths instead of its Zen ones, which gains nothing.
 */
int mkl_serv_intel_cpu_true(void) { return 1; }
