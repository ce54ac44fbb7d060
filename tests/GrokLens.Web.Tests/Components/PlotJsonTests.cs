using System.Text.Json;
using GrokLens.Web.Components.Workbench;
using GrokLens.Web.Views;
using Plotly.Blazor;

namespace GrokLens.Web.Tests.Components;

/// <summary>The JSON handed to plotly.js uses plotly.js's names and leaves unset properties out.</summary>
public sealed class PlotJsonTests
{
    [Fact]
    public void HeatmapAndLayoutAreWrittenWithPlotlyNames()
    {
        var heatmap = PlotFactory.Heatmap(["a", "b"], ["a", "b"], [[0.5f, float.NaN], [0.25f, 0.75f]], "probability", PlotFactory.Sequential, 0, 1);
        using var traces = JsonDocument.Parse(PlotJson.Traces([heatmap]));
        var trace = traces.RootElement[0];
        Assert.Equal("heatmap", trace.GetProperty("type").GetString());
        // z as plotly.js's typed array: base64 float32, row-major, with its shape; NaN stays NaN (a gap).
        var z = trace.GetProperty("z");
        Assert.Equal("f4", z.GetProperty("dtype").GetString());
        Assert.Equal("2,2", z.GetProperty("shape").GetString());
        Assert.Equal([0.5f, float.NaN, 0.25f, 0.75f], new TypedArray("f4", z.GetProperty("bdata").GetString()!, "2,2").Values());
        // Written verbatim: base64's '+' is not escaped as \u002B (that would grow the largest payloads).
        var withPlus = PlotJson.Traces([PlotFactory.Heatmap(null, null, [[1.02f]], "v", PlotFactory.Sequential)]);
        Assert.Contains("\"bdata\":\"XI+CPw==\"", withPlus);
        Assert.Equal("Viridis", trace.GetProperty("colorscale").GetString());
        Assert.Equal(1, trace.GetProperty("zmax").GetDouble());

        var layout = PlotFactory.Layout(dark: false, "title", "key", "query", 300, reverseY: true, tokenCount: 2);
        using var json = JsonDocument.Parse(PlotJson.Of(layout));
        var yAxis = json.RootElement.GetProperty("yaxis");
        Assert.Equal("reversed", yAxis.GetProperty("autorange").GetString());
        Assert.Equal("category", yAxis.GetProperty("type").GetString());
        Assert.Equal("query", yAxis.GetProperty("title").GetProperty("text").GetString());
        Assert.False(json.RootElement.TryGetProperty("width", out _));   // unset: left to plotly.js
    }
}
