using System.Text.Json;
using GrokLens.Web.Components.Workbench;
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
        Assert.Equal(JsonValueKind.Null, trace.GetProperty("z")[0][1].ValueKind);   // NaN is a gap
        Assert.Equal(0.25, trace.GetProperty("z")[1][0].GetDouble());
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
