using GrokLens.Web.Components.Workbench;
using GrokLens.Web.Experts;
using Plotly.Blazor;
using Plotly.Blazor.Traces;

namespace GrokLens.Web.Components.Experts;

/// <summary>
/// The Experts page's plots: layer × expert heatmaps on numeric axes (readable from 8 experts × 4 layers to 64 × 64),
/// the selected expert ringed, labelled axes and colour bars.
/// </summary>
public static class ExpertPlots
{
    /// <summary>A heatmap of values[layer][expert] (NaN: not measured) with the selected expert ringed.</summary>
    public static IList<ITrace> LayerExpertMap(IReadOnlyList<double[]> values, string valueName, object colorScale, ExpertId selected,
        double? zMin = null, double? zMax = null, double? zMid = null)
    {
        var z = values.Select(row => row.Select(v => (float)v).ToArray()).ToList();
        var heatmap = PlotFactory.Heatmap(null, null, z, valueName, colorScale, zMin, zMax);
        heatmap.Heatmap.HoverTemplate = $"layer %{{y}}, expert %{{x}}<br>{valueName}: %{{z:.4f}}<extra></extra>";
        if (zMid is { } mid) heatmap.Heatmap.ZMid = (decimal)mid;
        return [heatmap, Ring(selected.Expert, selected.Layer)];
    }

    /// <summary>A red ring around one cell, marking the selected expert in every layer × expert plot.</summary>
    public static Scatter Ring(double x, double y) => new()
    {
        X = [x],
        Y = [y],
        Mode = Plotly.Blazor.Traces.ScatterLib.ModeFlag.Markers,
        Marker = new Plotly.Blazor.Traces.ScatterLib.Marker
        {
            Size = 14,
            Color = "rgba(0,0,0,0)",
            Line = new Plotly.Blazor.Traces.ScatterLib.MarkerLib.Line { Color = "#e53935", Width = 2.5m },
        },
        HoverInfo = Plotly.Blazor.Traces.ScatterLib.HoverInfoFlag.Skip,
        ShowLegend = false,
    };

    /// <summary>Height for a plot with one row per layer: every layer stays a few pixels tall at 64 layers.</summary>
    public static int Height(int rows) => Math.Clamp(110 + rows * 9, 260, 700);

    /// <summary>A layer × expert map's layout: one cell per unit on both axes, layer 0 at the top (fixed ranges, so the ring never pads them).</summary>
    public static Plotly.Blazor.Layout MapLayout(bool dark, string title, string xTitle, string yTitle, int columns, int rows, int height)
    {
        var layout = Layout(dark, title, xTitle, yTitle, height);
        layout.ShowLegend = false;
        layout.XAxis[0].Range = [-0.5, columns - 0.5];
        layout.XAxis[0].AutoRange = Plotly.Blazor.LayoutLib.XAxisLib.AutoRangeEnum.False;
        layout.YAxis[0].Range = [rows - 0.5, -0.5];
        layout.YAxis[0].AutoRange = Plotly.Blazor.LayoutLib.YAxisLib.AutoRangeEnum.False;
        return layout;
    }

    public static Plotly.Blazor.Layout Layout(bool dark, string title, string xTitle, string yTitle, int height, bool reverseY = false)
    {
        var layout = PlotFactory.Layout(dark, title, xTitle, yTitle, height, reverseY);
        layout.ShowLegend = true;
        return layout;
    }
}
