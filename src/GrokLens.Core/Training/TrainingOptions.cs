using static TorchSharp.torch;

namespace GrokLens.Training;

/// <summary>Everything the <see cref="Trainer"/> needs besides the model and the token streams.</summary>
public sealed record TrainingOptions
{
    /// <summary>Folder for checkpoints (<c>checkpoints/step-NNNNNN/</c>) and the CSV log (<c>training-log.csv</c>).</summary>
    public required string OutputFolder { get; init; }
    /// <summary>Total optimizer steps.</summary>
    public int Steps { get; init; } = 3000;
    /// <summary>Windows per step (B).</summary>
    public int BatchSize { get; init; } = 16;
    /// <summary>Tokens per window (T); each window predicts T next tokens.</summary>
    public int SequenceLength { get; init; } = 128;
    public double PeakLearningRate { get; init; } = 3e-3;
    /// <summary>Linear warm-up from 0 to the peak over this many steps, then the <see cref="Schedule"/>.</summary>
    public int WarmupSteps { get; init; } = 100;
    /// <summary>What follows the warm-up: cosine decay, or a constant rate and a final linear decay.</summary>
    public LearningRateShape Schedule { get; init; } = LearningRateShape.Cosine;
    /// <summary>For <see cref="LearningRateShape.WarmupStableDecay"/>: the share of all steps spent in the final decay.</summary>
    public double DecayFraction { get; init; } = 0.2;
    /// <summary>The learning rate decays to this fraction of the peak at the last step.</summary>
    public double FinalLearningRateFraction { get; init; } = 0.1;
    public double WeightDecay { get; init; } = 0.01;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.95;
    /// <summary>Gradients are clipped to this global L2 norm.</summary>
    public double GradientClipNorm { get; init; } = 1.0;
    /// <summary>
    /// Weight of the Switch-Transformer load-balancing loss E·Σₑ fₑ·Pₑ (averaged over layers; 1.0 when perfectly
    /// balanced). 0.01 as in the Switch Transformer paper; 0 turns it off.
    /// </summary>
    public double LoadBalancingWeight { get; init; } = 0.01;
    /// <summary>Seeds the window sampler (weights are seeded by whoever builds the model).</summary>
    public long Seed { get; init; } = 1234;
    /// <summary>Validation loss every this many steps (and at the last step); 0 for never.</summary>
    public int EvaluateEvery { get; init; } = 100;
    /// <summary>Validation uses the first windows of the validation stream, at most this many predicted tokens.</summary>
    public int ValidationTokens { get; init; } = 16384;
    /// <summary>Checkpoint every this many steps (and at the last step); 0 for the last step only.</summary>
    public int CheckpointEvery { get; init; } = 250;
    /// <summary>How many checkpoints to keep (oldest deleted first).</summary>
    public int KeepCheckpoints { get; init; } = 2;
    /// <summary>Weight dtype of checkpoints. Float32 resumes exactly; BFloat16 halves the size but rounds on resume.</summary>
    public ScalarType CheckpointDType { get; init; } = ScalarType.Float32;
    /// <summary>Continue from the latest checkpoint in <see cref="OutputFolder"/> when there is one.</summary>
    public bool Resume { get; init; } = true;
    /// <summary>Files (e.g. vocab.json) copied into every checkpoint folder so that each one is a loadable model.</summary>
    public IReadOnlyList<string> FilesToCopyIntoCheckpoints { get; init; } = [];
    /// <summary>
    /// Record the router's choices on fixed evaluation windows at these steps (and the last), into a
    /// <see cref="Analysis.RoutingHistory"/>; the checkpoints of those steps are kept. Null for none.
    /// </summary>
    public RoutingRecordPlan? RoutingRecord { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad setting.</summary>
    public TrainingOptions Validated()
    {
        Require(!string.IsNullOrWhiteSpace(OutputFolder), "OutputFolder is required");
        Require(Steps > 0, "Steps must be positive");
        Require(BatchSize > 0, "BatchSize must be positive");
        Require(SequenceLength > 1, "SequenceLength must be at least 2");
        Require(PeakLearningRate > 0, "PeakLearningRate must be positive");
        Require(WarmupSteps >= 0, "WarmupSteps must not be negative");
        Require(FinalLearningRateFraction is >= 0 and <= 1, "FinalLearningRateFraction must be in [0, 1]");
        Require(GradientClipNorm > 0, "GradientClipNorm must be positive");
        Require(LoadBalancingWeight >= 0, "LoadBalancingWeight must not be negative");
        Require(EvaluateEvery >= 0 && CheckpointEvery >= 0, "EvaluateEvery and CheckpointEvery must not be negative");
        Require(KeepCheckpoints > 0, "KeepCheckpoints must be positive");
        Require(DecayFraction is > 0 and <= 1, "DecayFraction must be in (0, 1]");
        Require(RoutingRecord is null || (RoutingRecord.Windows.Count > 0 && RoutingRecord.Steps.All(s => s >= 0)),
            "RoutingRecord needs windows and non-negative steps");
        Require(CheckpointDType is ScalarType.Float32 or ScalarType.BFloat16 or ScalarType.Float16, "CheckpointDType must be Float32, BFloat16 or Float16");
        return this;

        static void Require(bool ok, string message)
        {
            if (!ok) throw new ArgumentException("Invalid training options: " + message);
        }
    }
}
