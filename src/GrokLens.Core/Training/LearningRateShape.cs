namespace GrokLens.Training;

/// <summary>The learning-rate schedule after the linear warm-up (<see cref="LearningRateSchedule"/>).</summary>
public enum LearningRateShape
{
    /// <summary>Cosine decay from the peak to the final rate over all remaining steps.</summary>
    Cosine,

    /// <summary>
    /// Warmup–stable–decay: the peak rate until the last <see cref="TrainingOptions.DecayFraction"/> of the steps, then
    /// a linear decay to the final rate. A run can be cut short cleanly by resuming with fewer steps while still stable.
    /// </summary>
    WarmupStableDecay,
}
