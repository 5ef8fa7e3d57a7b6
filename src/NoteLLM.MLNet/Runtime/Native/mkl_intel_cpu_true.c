/*
 * oneMKL's CPU-vendor test, answered "Intel", so that oneMKL runs its AVX-512 kernels on AMD CPUs that have AVX-512
 * (Zen 4, Zen 5).
 *
 * libtorch's bundled oneMKL (2024.0) picks its kernels by CPU vendor: on a non-Intel CPU it runs its AVX2 code even
 * when AVX-512 is there, and MKL_ENABLE_INSTRUCTIONS / MKL_CBWR cannot raise that. The vendor test is the exported
 * function below; libtorch_cpu.so calls it through its PLT, so a definition in the process's global scope answers it
 * when it is there before oneMKL's first call. NoteLLM.MLNet loads this library that way (Runtime/CpuMatrixProducts.cs)
 * on AMD CPUs with AVX-512 only; the kernels then chosen by CPU features (AVX-512F/BW/DQ/VL) are the ones Intel CPUs
 * run. Built by NoteLLM.MLNet.csproj with the system C compiler.
 */
int mkl_serv_intel_cpu_true(void) { return 1; }
