using Plotly.Blazor;
using Plotly.Blazor.LayoutLib;
using Plotly.Blazor.Traces;
using GrokLens.Web.Views;

namespace GrokLens.Web.Components.Workbench;

/// <summary>Plotly traces and layouts in the workbench's style: labelled axes, token text, colour bars, theme colours.</summary>
public static class PlotFactory
{
    public static Config Config(string fileName) => new()
    {
        Responsive = true,
        DisplayLogo = false,
        // Plotly's own "download plot as PNG" button, at twice the screen resolution.
        ToImageButtonOptions = new Dictionary<string, object> { ["format"] = "png", ["filename"] = fileName, ["scale"] = 2 },
    };

    /// <summary>A heatmap of z[row][column]; x and y label the columns and rows (null: numbered from 0).</summary>
    public static TypedHeatMap Heatmap(IReadOnlyList<string>? x, IReadOnlyList<string>? y, IReadOnlyList<float[]> z, string valueName,
        object colorScale, double? zMin = null, double? zMax = null, string xAxis = "x", string yAxis = "y", bool showScale = true)
    {
        var heatmap = new HeatMap
        {
            X = x?.Cast<object>().ToList(),
            Y = y?.Cast<object>().ToList(),
            ColorScale = colorScale,
            ShowScale = showScale,
            XAxis = xAxis,
            YAxis = yAxis,
            HoverOnGaps = false,
            // One image pixel per cell, scaled by the browser: far faster than a brick per cell for 128×128 and up.
            ZSmooth = Plotly.Blazor.Traces.HeatMapLib.ZSmoothEnum.Fast,
            HoverTemplate = $"%{{y}} → %{{x}}<br>{valueName}: %{{z:.4f}}<extra></extra>",
            ColorBar = new Plotly.Blazor.Traces.HeatMapLib.ColorBar
            {
                Title = new Plotly.Blazor.Traces.HeatMapLib.ColorBarLib.Title { Text = valueName },
                Thickness = 12,
            },
        };
        if (zMin is { } min) heatmap.ZMin = (decimal)min;
        if (zMax is { } max) heatmap.ZMax = (decimal)max;
        return new TypedHeatMap(heatmap, TypedArray.Float32(z));
    }

    public static Plotly.Blazor.Layout Layout(bool dark, string title, string xTitle, string yTitle, int height, bool reverseY,
        int tokenCount = 0)
    {
        var font = dark ? "#e0e0e0" : "#222222";
        return new Plotly.Blazor.Layout
        {
            Title = new Title { Text = title, Font = new Plotly.Blazor.LayoutLib.TitleLib.Font { Size = 14 } },
            Height = height,
            Margin = new Margin { L = 70, R = 10, T = 36, B = 70 },
            PaperBgColor = "rgba(0,0,0,0)",
            PlotBgColor = "rgba(0,0,0,0)",
            Font = new Font { Color = font, Size = 11 },
            XAxis = [Axis(xTitle, tokenCount)],
            YAxis = [YAxis(yTitle, reverseY, tokenCount)],
        };
    }

    public static XAxis Axis(string title, int tokenCount = 0) => new()
    {
        Title = new Plotly.Blazor.LayoutLib.XAxisLib.Title { Text = title },
        TickAngle = tokenCount > 0 ? -60 : null,
        Type = tokenCount > 0 ? Plotly.Blazor.LayoutLib.XAxisLib.TypeEnum.Category : null,
        TickFont = new Plotly.Blazor.LayoutLib.XAxisLib.TickFont { Size = TickSize(tokenCount) },
    };

    public static YAxis YAxis(string title, bool reverse, int tokenCount = 0) => new()
    {
        Title = new Plotly.Blazor.LayoutLib.YAxisLib.Title { Text = title },
        AutoRange = reverse ? Plotly.Blazor.LayoutLib.YAxisLib.AutoRangeEnum.Reversed : Plotly.Blazor.LayoutLib.YAxisLib.AutoRangeEnum.True,
        Type = tokenCount > 0 ? Plotly.Blazor.LayoutLib.YAxisLib.TypeEnum.Category : null,
        TickFont = new Plotly.Blazor.LayoutLib.YAxisLib.TickFont { Size = TickSize(tokenCount) },
    };

    /// <summary>Smaller tick labels for long sequences so the token text stays legible.</summary>
    private static decimal TickSize(int tokens) => tokens > 64 ? 7 : tokens > 32 ? 9 : 11;

    public const string Sequential = "Viridis";
    public const string Diverging = "RdBu";
}
