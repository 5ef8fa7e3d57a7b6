namespace NoteLLM.MLNet.Training;

/// <summary>
/// Linear warm-up from 0 to the peak over the first WarmupRatio of the steps, then linear or cosine decay to 0
/// (the paper: 10% warm-up, linear decay). A pure function of the step, so a resumed run continues exactly.
/// </summary>
public static class LearningRateSchedule
{
    public static double At(int step, int totalSteps, double peak, double warmupRatio, LearningRateDecay decay)
    {
        int warmup = (int)Math.Ceiling(warmupRatio * totalSteps);
        if (step < warmup) return peak * (step + 1) / warmup;
        if (decay == LearningRateDecay.Constant) return peak;
        double progress = totalSteps <= warmup ? 1 : (double)(step - warmup) / (totalSteps - warmup);
        return decay == LearningRateDecay.Linear ? peak * (1 - progress) : peak * 0.5 * (1 + Math.Cos(Math.PI * progress));
    }
}
