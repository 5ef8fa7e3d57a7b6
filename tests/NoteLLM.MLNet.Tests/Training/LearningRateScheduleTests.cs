using NoteLLM.MLNet.Training;

namespace NoteLLM.MLNet.Tests.Training;

/// <summary>The schedule against values worked out by hand; peak 1e-3 throughout.</summary>
public class LearningRateScheduleTests
{
    private const double Peak = 1e-3;

    // 100 steps, 10% warm-up: 10 warm-up steps reaching peak * (step + 1) / 10, then 90 decay steps.
    [Theory]
    [InlineData(0, 1e-4)]
    [InlineData(4, 5e-4)]
    [InlineData(9, 1e-3)]
    public void WarmUpRisesLinearlyToThePeakAtItsLastStep(int step, double expected)
    {
        foreach (var decay in Enum.GetValues<LearningRateDecay>())
            Assert.Equal(expected, LearningRateSchedule.At(step, 100, Peak, 0.1, decay), 1e-15);
    }

    // Progress after warm-up is (step - 10) / 90: step 10 -> 0, step 40 -> 1/3, step 55 -> 1/2, step 99 -> 89/90, step 100 -> 1.
    [Theory]
    [InlineData(10, 1e-3)]
    [InlineData(40, 6.666666666666667e-4)]  // 1e-3 * (1 - 1/3)
    [InlineData(55, 5e-4)]                  // 1e-3 * (1 - 1/2)
    [InlineData(99, 1.1111111111111112e-5)] // 1e-3 / 90
    [InlineData(100, 0.0)]
    public void LinearDecayFallsToZeroAtTheLastStep(int step, double expected) =>
        Assert.Equal(expected, LearningRateSchedule.At(step, 100, Peak, 0.1, LearningRateDecay.Linear), 1e-15);

    // peak * (1 + cos(pi * progress)) / 2: cos(0) = 1, cos(pi/3) = 1/2, cos(pi/2) = 0, cos(pi) = -1.
    [Theory]
    [InlineData(10, 1e-3)]
    [InlineData(40, 7.5e-4)]
    [InlineData(55, 5e-4)]
    [InlineData(100, 0.0)]
    public void CosineDecayFollowsHalfACosine(int step, double expected) =>
        Assert.Equal(expected, LearningRateSchedule.At(step, 100, Peak, 0.1, LearningRateDecay.Cosine), 1e-15);

    [Theory]
    [InlineData(10)]
    [InlineData(55)]
    [InlineData(100)]
    public void ConstantStaysAtThePeakAfterWarmUp(int step) =>
        Assert.Equal(Peak, LearningRateSchedule.At(step, 100, Peak, 0.1, LearningRateDecay.Constant), 1e-15);

    [Fact]
    public void WarmUpStepsAreRoundedUp()
    {
        // 10% of 15 steps is 1.5: two warm-up steps, 5e-4 then 1e-3; decay over the remaining 13.
        Assert.Equal(5e-4, LearningRateSchedule.At(0, 15, Peak, 0.1, LearningRateDecay.Linear), 1e-15);
        Assert.Equal(1e-3, LearningRateSchedule.At(1, 15, Peak, 0.1, LearningRateDecay.Linear), 1e-15);
        Assert.Equal(1e-3 * 12 / 13, LearningRateSchedule.At(3, 15, Peak, 0.1, LearningRateDecay.Linear), 1e-15);
    }

    [Fact]
    public void WithoutWarmUpTheFirstStepIsAtThePeak() =>
        Assert.Equal(Peak, LearningRateSchedule.At(0, 100, Peak, 0, LearningRateDecay.Linear), 1e-15);

    [Theory]
    [InlineData(LearningRateDecay.Linear)]
    [InlineData(LearningRateDecay.Cosine)]
    public void WhenWarmUpCoversEveryStepTheRateRampsThenIsZeroAfterward(LearningRateDecay decay)
    {
        // warm-up ratio 1 over 4 steps: 2.5e-4, 5e-4, 7.5e-4, 1e-3; a step past the end has nothing left to decay over.
        double[] expected = [2.5e-4, 5e-4, 7.5e-4, 1e-3];
        for (int step = 0; step < 4; step++)
            Assert.Equal(expected[step], LearningRateSchedule.At(step, 4, Peak, 1, decay), 1e-15);
        Assert.Equal(0.0, LearningRateSchedule.At(4, 4, Peak, 1, decay), 1e-15);
    }
}
