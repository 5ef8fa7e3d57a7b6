using System.Runtime.CompilerServices;
using NoteLLM.MLNet.Runtime;

namespace NoteLLM.MLNet.Tests.TestSupport;

internal static class MatrixProductKernels
{
    // oneMKL keeps the kernels it chose at its first call. Choosing before any test runs gives every test the kernels
    // of the apps the tests start (which use NoteLLM from their first tensor on), whichever test touches torch first.
    [ModuleInitializer]
    internal static void ChooseAsAppsDo() => CpuMatrixProducts.UseAvx512KernelsOnAmd();
}
