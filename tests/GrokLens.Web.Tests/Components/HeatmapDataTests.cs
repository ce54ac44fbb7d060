using GrokLens.Web.Components.Workbench;
using GrokLens.Web.Views;

namespace GrokLens.Web.Tests.Components;

public sealed class HeatmapDataTests
{
    [Fact]
    public void TypedArrayKeepsRowMajorOrderAndValuesAndBlanksNonFiniteValues()
    {
        var typed = TypedArray.Float32([[0.123456f, float.NaN, 3f], [float.PositiveInfinity, -2f, float.NegativeInfinity]]);

        Assert.Equal("f4", typed.DType);
        Assert.Equal("2,3", typed.Shape);
        Assert.Equal([0.123456f, float.NaN, 3f, float.NaN, -2f, float.NaN], typed.Values());
        // Little-endian IEEE float32, as plotly.js reads it: 1.0f is 00 00 80 3F.
        Assert.Equal("AACAPw==", TypedArray.Float32([[1f]]).Data);
    }

    [Fact]
    public void TypedArrayRefusesRaggedRows()
    {
        var error = Assert.Throws<ArgumentException>(() => TypedArray.Float32([[1f, 2f], [3f]]));
        Assert.Contains("Row 1 has 1 values, row 0 has 2", error.Message);
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

        Assert.Equal(labels, trace.Heatmap.X!.Cast<string>());
        Assert.Equal(labels, trace.Heatmap.Y!.Cast<string>());
        Assert.Equal("3,3", trace.Z.Shape);
        Assert.Equal([0.5f, 0.5f, float.NaN], trace.Z.Values()[3..6]);
        Assert.Equal("probability", trace.Heatmap.ColorBar!.Title!.Text);
        Assert.Equal(0m, trace.Heatmap.ZMin);
        Assert.Equal(1m, trace.Heatmap.ZMax);
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
