using NoteLLM.MLNet.Training;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Tests.Training;

public class GenerativeContrastiveLossTests
{
    // 2 pairs: (e0, e2) and (e1, e3), unit vectors in the plane.
    private static Tensor Embeddings(ScalarType dtype = ScalarType.Float32) =>
        tensor(new double[] { 1, 0, 0, 1, 0.6, 0.8, 0.8, -0.6 }, dtype: dtype).view(4, 2);

    [Theory]
    [InlineData(0.0, 1.473576788887094)]   // s = exp(0) = 1
    [InlineData(0.6931471805599453, 2.0301902771367115)] // s = exp(ln 2) = 2
    public void EqualsHandComputedValueOnTwoPairs(double tau, double expected)
    {
        // -1/4 sum_i log( exp(s sim(i, partner)) / sum_{j != i} exp(s sim(i, j)) ), computed by hand (see the values)
        var loss = GenerativeContrastiveLoss.Compute(Embeddings(), tensor((float)tau));
        Assert.Equal(expected, loss.item<float>(), 5);
    }

    [Fact]
    public void GradientMatchesFiniteDifferences()
    {
        var e = Embeddings(ScalarType.Float64).requires_grad_(true);
        var tau = tensor(0.4, dtype: ScalarType.Float64).requires_grad_(true);
        GenerativeContrastiveLoss.Compute(e, tau).backward();
        var analytic = e.grad!.clone();
        double analyticTau = tau.grad!.item<double>();

        const double h = 1e-6;
        double Loss(Tensor emb, double t) { using var _ = no_grad(); return GenerativeContrastiveLoss.Compute(emb, tensor(t, dtype: ScalarType.Float64)).item<double>(); }
        for (int i = 0; i < 4; i++)
            for (int k = 0; k < 2; k++)
            {
                var plus = e.detach().clone(); plus[i, k] += h;
                var minus = e.detach().clone(); minus[i, k] -= h;
                double numeric = (Loss(plus, 0.4) - Loss(minus, 0.4)) / (2 * h);
                Assert.Equal(numeric, analytic[i, k].item<double>(), 6);
            }
        Assert.Equal((Loss(e.detach(), 0.4 + h) - Loss(e.detach(), 0.4 - h)) / (2 * h), analyticTau, 6);
    }

    [Fact]
    public void PerfectlySeparatedPairsGiveLowerLossThanShuffledOnes()
    {
        var aligned = tensor(new float[] { 1, 0, 0, 1, 1, 0, 0, 1 }).view(4, 2);  // each note equals its partner
        var crossed = tensor(new float[] { 1, 0, 0, 1, 0, 1, 1, 0 }).view(4, 2);  // each note equals a negative
        var tau = tensor(3f);
        Assert.True(GenerativeContrastiveLoss.Compute(aligned, tau).item<float>() < 0.01f);
        Assert.True(GenerativeContrastiveLoss.Compute(crossed, tau).item<float>() > 10f);
    }

    [Fact]
    public void RejectsOddOrTooSmallBatches()
    {
        Assert.Throws<ArgumentException>(() => GenerativeContrastiveLoss.Compute(zeros(2, 3), tensor(0f)));
        Assert.Throws<ArgumentException>(() => GenerativeContrastiveLoss.Compute(zeros(5, 3), tensor(0f)));
    }
}
