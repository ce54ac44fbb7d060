using GrokLens.Analysis;

namespace GrokLens.Web.Compare;

/// <summary>
/// A comparison ready for the page: the library's <see cref="RunComparisonResult"/> plus the arrays its views draw —
/// token labels, the target's logit (or logit difference) per logit-lens stage in both runs, and the attention
/// difference (modified − baseline) of every layer and head, [layer][head][query][key], and the
/// baseline's first-choice expert per [layer][position].
/// </summary>
public sealed record CompareView(RunComparisonResult Result, string[] TokenLabels, string? TargetLabel, string[] LensStages,
    double[]? TargetLensA, double[]? TargetLensB, float[][][][] AttentionDifference, int[][] BaselineFirstExpert, string GenerationA, string GenerationB,
    string[] Descriptions);
