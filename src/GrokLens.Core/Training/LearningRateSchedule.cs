namespace GrokLens.Training;

/// <summary>
/// Linear warm-up to the peak, then either cosine decay to a fraction of the peak at the last step, or
/// warmup–stable–decay: the peak until the last decay share of the steps, then linear decay to that fraction.
/// </summary>
public static class LearningRateSchedule
{
    /// <param name="step">1-based optimizer step.</param>
    public static double At(int step, int totalSteps, double peak, int warmupSteps, double finalFraction) =>
        At(step, totalSteps, peak, warmupSteps, finalFraction, LearningRateShape.Cosine, 0);

    /// <param name="step">1-based optimizer step.</param>
    /// <param name="decayFraction">For warmup–stable–decay, the share of <paramref name="totalSteps"/> spent decaying.</param>
    public static double At(int step, int totalSteps, double peak, int warmupSteps, double finalFraction,
        LearningRateShape shape, double decayFraction)
    {
        if (warmupSteps > 0 && step <= warmupSteps) return peak * step / warmupSteps;
        double floor = peak * finalFraction;
        if (shape == LearningRateShape.WarmupStableDecay)
        {
            int decaySteps = Math.Max(1, (int)Math.Round(decayFraction * totalSteps));
            int decayStart = Math.Max(warmupSteps, totalSteps - decaySteps);
            if (step <= decayStart) return peak;
            double done = Math.Clamp((double)(step - decayStart) / (totalSteps - decayStart), 0, 1);
            return peak + (floor - peak) * done;
        }
        int cosineSteps = totalSteps - warmupSteps;
        if (cosineSteps <= 0) return peak;
        double progress = Math.Clamp((double)(step - warmupSteps) / cosineSteps, 0, 1);
        return floor + (peak - floor) * 0.5 * (1 + Math.Cos(Math.PI * progress));
    }
}
