namespace GrokLens.Training;

/// <summary>Linear warm-up to the peak, then cosine decay to a fraction of the peak at the last step.</summary>
public static class LearningRateSchedule
{
    /// <param name="step">1-based optimizer step.</param>
    public static double At(int step, int totalSteps, double peak, int warmupSteps, double finalFraction)
    {
        if (warmupSteps > 0 && step <= warmupSteps) return peak * step / warmupSteps;
        int decaySteps = totalSteps - warmupSteps;
        if (decaySteps <= 0) return peak;
        double progress = Math.Clamp((double)(step - warmupSteps) / decaySteps, 0, 1);
        double floor = peak * finalFraction;
        return floor + (peak - floor) * 0.5 * (1 + Math.Cos(Math.PI * progress));
    }
}
