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

    /// <summary>
    /// Height of a heatmap with a token per row: at least 11 px a row so every token's label is readable (a 128-token
    /// sequence gets ≈ 1.5k px), within <paramref name="minimum"/> … 2,400 px; Plotly's zoom (drag a box) goes further.
    /// </summary>
    public static int TokenRowsHeight(int tokens, int minimum = 460) => Math.Clamp(tokens * 11 + 220, minimum, 2400); // + title and rotated labels

    /// <summary>A frame around one row of a heatmap (the selected query token), across the whole plot width.</summary>
    public static Shape RowMark(int row, double x0 = 0, double x1 = 1, string xRef = "paper") => Mark(x0, x1, row - 0.5, row + 0.5, xRef, "y");

    /// <summary>A frame around one column of a heatmap (the selected token), across the whole plot height.</summary>
    public static Shape ColumnMark(int column) => Mark(column - 0.5, column + 0.5, 0, 1, "x", "paper");

    /// <summary>A frame in the selection colour (the token strip's), in data or paper coordinates.</summary>
    public static Shape Mark(double x0, double x1, double y0, double y1, string xRef, string yRef) => new()
    {
        Type = Plotly.Blazor.LayoutLib.ShapeLib.TypeEnum.Rect,
        XRef = xRef,
        YRef = yRef,
        X0 = x0,
        X1 = x1,
        Y0 = y0,
        Y1 = y1,
        Line = new Plotly.Blazor.LayoutLib.ShapeLib.Line { Color = SelectionColour, Width = 2 },
    };

    /// <summary>The selected token's colour on every plot: MudBlazor's primary, as the selected chip.</summary>
    public const string SelectionColour = "#ff4081";

    public static XAxis Axis(string title, int tokenCount = 0) => new()
    {
        AutoMargin = Plotly.Blazor.LayoutLib.XAxisLib.AutoMarginFlag.True, // long token labels push the margin, never get cut
        Title = new Plotly.Blazor.LayoutLib.XAxisLib.Title { Text = title },
        TickAngle = tokenCount > 0 ? -60 : null,
        DTick = tokenCount > 0 ? 1 : null, // every token labelled: the plots are sized for it (Plotly would thin them out)
        Type = tokenCount > 0 ? Plotly.Blazor.LayoutLib.XAxisLib.TypeEnum.Category : null,
        TickFont = new Plotly.Blazor.LayoutLib.XAxisLib.TickFont { Size = TickSize(tokenCount) },
    };

    public static YAxis YAxis(string title, bool reverse, int tokenCount = 0) => new()
    {
        AutoMargin = Plotly.Blazor.LayoutLib.YAxisLib.AutoMarginFlag.True,
        Title = new Plotly.Blazor.LayoutLib.YAxisLib.Title { Text = title },
        AutoRange = reverse ? Plotly.Blazor.LayoutLib.YAxisLib.AutoRangeEnum.Reversed : Plotly.Blazor.LayoutLib.YAxisLib.AutoRangeEnum.True,
        Type = tokenCount > 0 ? Plotly.Blazor.LayoutLib.YAxisLib.TypeEnum.Category : null,
        DTick = tokenCount > 0 ? 1 : null,
        TickFont = new Plotly.Blazor.LayoutLib.YAxisLib.TickFont { Size = TickSize(tokenCount) },
    };

    /// <summary>Tick labels for long sequences: the plots are sized to give each token 11 px, room for a 9 px label.</summary>
    private static decimal TickSize(int tokens) => tokens > 32 ? 9 : 11;

    /// <summary>Width that gives each of <paramref name="tokens"/> columns 11 px besides the margins (0: the card's width will do).</summary>
    public static int TokenColumnsWidth(int tokens, int margins = 260) => tokens > 48 ? tokens * 11 + margins : 0;

    public const string Sequential = "Viridis";
    public const string Diverging = "RdBu";
}
