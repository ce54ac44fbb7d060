using GrokLens.Analysis;

namespace GrokLens.Web.Compare;

/// <summary>
/// A comparison ready for the page: the library's <see cref="RunComparisonResult"/> plus the arrays its views draw —
/// token labels, the target's logit (or logit difference) per logit-lens stage in both runs, and the attention
/// difference (modified − baseline) of every layer and head, [layer][head][query][key], and the
/// baseline's first-choice expert per [layer][position]. A comparison of two dumps lacks what their hooks cannot give
/// (null arrays, <see cref="RunComparisonResult.MissingHooks"/>); <see cref="Missing"/> says so per view.
/// </summary>
public sealed record CompareView(RunComparisonResult Result, string[] TokenLabels, string? TargetLabel, string[] LensStages,
    double[]? TargetLensA, double[]? TargetLensB, float[][][][]? AttentionDifference, int[][]? BaselineFirstExpert, string GenerationA, string GenerationB,
    string[] Descriptions)
{
    /// <summary>What the views call the two runs.</summary>
    public string NameA { get; init; } = "baseline";
    public string NameB { get; init; } = "modified";

    /// <summary>Where the runs came from, when not from the prompt (e.g. the two dumps).</summary>
    public string? Source { get; init; }

    /// <summary>A live comparison's two runs as they can be run again for a dump download (null for a comparison of dumps).</summary>
    public IReadOnlyList<Services.DumpDownloadRun>? Runs { get; init; }

    /// <summary>The model that made the live comparison (its download runs on it); null for a comparison of dumps.</summary>
    public Models.IWorkbenchModel? Model { get; init; }

    /// <summary>Why a view of the comparison cannot be drawn (the hooks its part lacks), or null when it can.</summary>
    public string? Missing(string part, string view) =>
        Result.MissingHooks.TryGetValue(part, out var hooks)
            ? $"The {view} needs hook{(hooks.Length > 1 ? "s" : "")} {string.Join(", ", hooks.Take(6))}" +
              $"{(hooks.Length > GrokLens.Analysis.RunComparison.MaxListedMissing ? " (and many more)" : hooks.Length > 6 ? $" (and {hooks.Length - 6} more)" : "")}" +
              " in both runs, which the dumps do not hold."
            : null;
}
