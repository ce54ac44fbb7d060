using GrokLens.Generation;

namespace GrokLens.Analysis;

/// <summary>
/// A baseline run (A) and a modified run (B) compared. Plain records of arrays, ready to render or serialise to JSON.
/// Positions are aligned one to one when both runs have the same number of tokens; otherwise only the two last
/// positions are aligned (the next-token predictions), see <see cref="AlignedPositions"/>. A comparison of captured
/// runs (dumps) leaves a part null when its hooks were not captured; <see cref="MissingHooks"/> then names them.
/// </summary>
public sealed record RunComparisonResult(
    int[] TokensA,
    int[] TokensB,
    string[] InterventionsA,
    string[] InterventionsB,
    PositionPair[] AlignedPositions,
    NextTokenComparison? NextToken,
    double[]? KlPerPosition,
    TargetComparison? Target,
    ResidualChange? Residual,
    RoutingDiff? Routing,
    AttentionChange? Attention,
    GenerationComparison? Generation)
{
    /// <summary>
    /// Per part (<see cref="RunComparison.NextTokenPart"/>, …) the hooks it needs that a capture lacks; empty for a live
    /// comparison, which captures them all.
    /// </summary>
    public IReadOnlyDictionary<string, string[]> MissingHooks { get; init; } = new Dictionary<string, string[]>();
}

/// <summary>A position of run A and the position of run B it is compared with.</summary>
public readonly record struct PositionPair(int A, int B);

/// <summary>One token's logit and probability in both runs' next-token distributions.</summary>
public sealed record TokenShift(int TokenId, string? Text, double ProbabilityA, double ProbabilityB, double LogitA, double LogitB)
{
    public double ProbabilityChange => ProbabilityB - ProbabilityA;
}

/// <summary>
/// The next-token distributions at the last positions: each run's top tokens (with both runs' values), the
/// Kullback–Leibler divergences in both directions and the total-variation distance (all in nats / probability).
/// </summary>
public sealed record NextTokenComparison(int PositionA, int PositionB, TokenShift[] TopA, TokenShift[] TopB,
    double KlAToB, double KlBToA, double TotalVariation);

/// <summary>
/// A target token's logit and probability at the last positions, and (for an IOI-style pair) the logit difference
/// logit(target) − logit(other) in each run.
/// </summary>
public sealed record TargetComparison(int TokenId, int? OtherTokenId, double LogitA, double LogitB,
    double ProbabilityA, double ProbabilityB, double? LogitDifferenceA, double? LogitDifferenceB);

/// <summary>
/// Residual-stream change per stage ("embed", then "layer l" = the residual after layer l) and aligned position:
/// ‖b − a‖ and ‖b − a‖ / ‖a‖, indexed [stage][aligned position].
/// </summary>
public sealed record ResidualChange(string[] Stages, double[][] Norm, double[][] Relative);

/// <summary>A token whose experts differ between the runs in one layer (experts highest probability first).</summary>
public sealed record RoutingChange(int Layer, int PositionA, int PositionB, int[] ExpertsA, int[] ExpertsB,
    bool FirstChoiceChanged, bool SetChanged, bool NearTieA, bool NearTieB);

/// <summary>
/// Routing differences on the aligned positions: per layer, how many tokens changed their first-choice expert and
/// their top-k set; every changed token; and each run's near-ties (a tiny change could flip those).
/// </summary>
public sealed record RoutingDiff(int[] FirstChoiceChangedPerLayer, int[] SetChangedPerLayer, RoutingChange[] Changes,
    NearTie[] NearTiesA, NearTie[] NearTiesB, double NearTieThreshold);

/// <summary>Attention-pattern change per [layer][head]: largest and mean |b − a| over query and key positions (same length only).</summary>
public sealed record AttentionChange(double[][] MaxAbs, double[][] MeanAbs);

/// <summary>Both runs continued with the same sampling options and seed; <see cref="FirstDifference"/> is −1 when they agree.</summary>
public sealed record GenerationComparison(int Seed, GeneratedToken[] A, GeneratedToken[] B, int FirstDifference);
