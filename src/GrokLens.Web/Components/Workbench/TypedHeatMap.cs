using GrokLens.Web.Views;
using Plotly.Blazor;
using Plotly.Blazor.Traces;

namespace GrokLens.Web.Components.Workbench;

/// <summary>
/// A Plotly heatmap whose z is sent as a typed array instead of nested JSON number arrays: <see cref="PlotJson"/>
/// writes <see cref="Heatmap"/> with <see cref="Z"/> as its z.
/// </summary>
public sealed class TypedHeatMap(HeatMap heatmap, TypedArray z) : ITrace
{
    /// <summary>Every heatmap property except z.</summary>
    public HeatMap Heatmap { get; } = heatmap;

    public TypedArray Z { get; } = z;

    public TraceTypeEnum? Type => Heatmap.Type;
}
