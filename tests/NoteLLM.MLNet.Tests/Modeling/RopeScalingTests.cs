using NoteLLM.MLNet.Modeling;
using NoteLLM.MLNet.Tests.TestSupport;

namespace NoteLLM.MLNet.Tests.Modeling;

/// <summary>
/// Scaled rotary inverse frequencies against values worked out from Hugging Face's formulas
/// (modeling_rope_utils.py: <c>_compute_linear_scaling_rope_parameters</c>, <c>_compute_llama3_parameters</c>).
/// Head dim 64, theta 500000: unscaled inv_i = 500000^(-i/32), wavelength 2 pi / inv_i.
/// </summary>
public class RopeScalingTests
{
    private static IReadOnlyList<float> InverseFrequencies(RopeScaling scaling) =>
        new RotaryEmbedding(TinyModels.Config(hidden: 64, heads: 1, kvHeads: 1) with { RopeTheta = 500000, RopeScaling = scaling }).InverseFrequencies;

    // LLaMA 3.1's values: factor 8, low_freq_factor 1, high_freq_factor 4, original context 8192. Wavelengths below
    // 8192 / 4 = 2048 keep their frequency, those above 8192 / 1 = 8192 are divided by 8, and between the two
    // smooth = (8192 / wavelength - 1) / (4 - 1) mixes them: (1 - smooth) * inv / 8 + smooth * inv.
    [Theory]
    [InlineData(0, 1.0)]                     // wavelength 6.28: high frequency, unchanged
    [InlineData(8, 0.03760603093086393)]     // 500000^(-1/4), wavelength 167.1: unchanged
    [InlineData(14, 0.0032114459947525913)]  // wavelength 1956.5, just under 2048: unchanged
    [InlineData(15, 0.0013718935677611381)]  // inv 0.0021311195, wavelength 2948.3, smooth 0.5928493
    [InlineData(16, 0.0005248461609929547)]  // inv 500000^(-1/2) = 0.0014142136, wavelength 4442.9, smooth 0.2812826
    [InlineData(17, 0.00017850781276799638)] // inv 0.0009384739, wavelength 6695.1, smooth 0.0745266
    [InlineData(18, 7.78465527393245e-05)]   // inv 0.0006227724, wavelength 10089.1, just over 8192: divided by 8
    [InlineData(31, 3.7673226901739635e-07)] // inv 3.0138582e-06 / 8
    public void Llama3KeepsHighFrequenciesDividesLowOnesAndInterpolatesBetween(int i, double expected) =>
        Assert.Equal(expected, InverseFrequencies(new RopeScaling("llama3", 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositionEmbeddings: 8192))[i], expected * 1e-6);

    // linear: every inverse frequency divided by the factor.
    [Theory]
    [InlineData(0, 0.125)]
    [InlineData(16, 0.00017677669529663688)] // 500000^(-1/2) / 8
    [InlineData(31, 3.7673226901739635e-07)]
    public void LinearDividesEveryFrequencyByTheFactor(int i, double expected) =>
        Assert.Equal(expected, InverseFrequencies(new RopeScaling("linear", 8))[i], expected * 1e-6);
}
