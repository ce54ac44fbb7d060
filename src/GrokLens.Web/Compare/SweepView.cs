using GrokLens.Analysis;

namespace GrokLens.Web.Compare;

/// <summary>An activation-patching sweep for the page: the library's heatmap and the labels of its columns.</summary>
public sealed record SweepView(PatchingHeatmap Heatmap, string[] ColumnLabels, string[] CleanLabels, string[] CorruptedLabels);

/// <summary>Which sweep to run: the residual stream per (layer, position) or the heads per (layer, head).</summary>
public enum SweepKind { Positions, Heads }
