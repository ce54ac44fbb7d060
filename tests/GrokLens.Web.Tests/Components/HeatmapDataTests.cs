using GrokLens.Web.Components.Workbench;
using GrokLens.Web.Views;

namespace GrokLens.Web.Tests.Components;

public sealed class HeatmapDataTests
{
    [Fact]
    public void RowsKeepOrientationRoundAndBlankNonFiniteValues()
    {
        var rows = HeatmapData.Rows([[0.123456f, float.NaN], [float.PositiveInfinity, -2f]]);

        Assert.Equal(new double?[] { 0.1235, null }, (double?[])rows[0]);
        Assert.Equal(new double?[] { null, -2 }, (double?[])rows[1]);
    }

    [Fact]
    public void TransposeSwapsRowsAndColumns()
    {
        var t = HeatmapData.Transpose([[1f, 2f, 3f], [4f, 5f, 6f]]);

        Assert.Equal([[1f, 4f], [2f, 5f], [3f, 6f]], t);
    }

    [Fact]
    public void RangeIgnoresBlankedCells()
    {
        Assert.Equal((-3.0, 2.0), HeatmapData.Range([[float.NaN, -3f], [2f, float.NegativeInfinity]]));
    }

    [Fact]
    public void HeatmapTraceHasTokenAxesColourBarAndBounds()
    {
        string[] labels = ["▁the·0", "▁cat", "▁the·2"];
        var trace = PlotFactory.Heatmap(labels, labels, [[1f, float.NaN, float.NaN], [0.5f, 0.5f, float.NaN], [0.2f, 0.3f, 0.5f]],
            "probability", PlotFactory.Sequential, 0, 1);

        Assert.Equal(labels, trace.X!.Cast<string>());
        Assert.Equal(labels, trace.Y!.Cast<string>());
        Assert.Equal(3, trace.Z!.Count);
        Assert.Equal(new double?[] { 0.5, 0.5, null }, (double?[])trace.Z[1]);
        Assert.Equal("probability", trace.ColorBar!.Title!.Text);
        Assert.Equal(0m, trace.ZMin);
        Assert.Equal(1m, trace.ZMax);
    }

    [Fact]
    public void MatrixLayoutsReverseTheYAxisSoRowZeroIsOnTop()
    {
        var layout = PlotFactory.Layout(false, "t", "key", "query", 300, reverseY: true, tokenCount: 3);

        Assert.Equal(Plotly.Blazor.LayoutLib.YAxisLib.AutoRangeEnum.Reversed, layout.YAxis![0].AutoRange);
        Assert.Equal("key", layout.XAxis![0].Title!.Text);
        Assert.Equal("query", layout.YAxis[0].Title!.Text);
    }
}
