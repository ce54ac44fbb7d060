using GrokLens.Analysis;
using GrokLens.Hooks;

namespace GrokLens.Web.Compare;

/// <summary>
/// An activation-patching sweep for the page: the library's heatmap, the labels of its columns and its metric in token
/// text ("logit(▁mat) − logit(▁log) at the last position"; the library's own names ids).
/// </summary>
public sealed record SweepView(PatchingHeatmap Heatmap, string[] ColumnLabels, string[] CleanLabels, string[] CorruptedLabels, string Metric)
{
    /// <summary>The patch of one cell as an editor draft: the clean run's residual at one position, or one head's values.</summary>
    public InterventionDraft PatchOf(int layer, int column) => Heatmap.ColumnKind == "position"
        ? new InterventionDraft(InterventionKind.PatchActivation) { Hook = HookPoints.Layer(layer, Heatmap.Hook), Positions = $"{column}", Heads = "" }
        : new InterventionDraft(InterventionKind.PatchActivation) { Hook = HookPoints.Layer(layer, Heatmap.Hook), Heads = $"{column}", Positions = "" };
}

/// <summary>Which sweep to run: the residual stream per (layer, position) or the heads per (layer, head).</summary>
public enum SweepKind { Positions, Heads }
