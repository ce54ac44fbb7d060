using Bunit;
using GrokLens.Web.Components.Workbench;
using Microsoft.JSInterop;

namespace GrokLens.Web.Tests.Components;

public sealed class PlotViewTests : MudTestContext
{
    [Fact]
    public void AFailedDrawIsShownInTheViewAndTheViewIsNotMarkedDrawn()
    {
        JSInterop.SetupModule("./plot-view.js").SetupVoid("draw", _ => true).SetException(new JSException("Plotly: bad trace"));

        var view = Render<PlotView>(p => p
            .Add(v => v.ViewName, "test-plot")
            .Add(v => v.Version, "1")
            .Add(v => v.Run, 1)
            .Add(v => v.Data, () => [PlotFactory.Heatmap(["a"], ["a"], [[1f]], "value", PlotFactory.Sequential)])
            .Add(v => v.Layout, () => new Plotly.Blazor.Layout()));

        view.WaitForAssertion(() => Assert.Contains("This plot could not be drawn: Plotly: bad trace", view.Find(".plot-error").TextContent));
        Assert.Equal("", view.Find("[data-view='test-plot']").GetAttribute("data-drawn-run") ?? "");
    }

    [Fact]
    public void ASuccessfulDrawMarksTheRunDrawn()
    {
        JSInterop.SetupModule("./plot-view.js").SetupVoid("draw", _ => true).SetVoidResult();

        var view = Render<PlotView>(p => p
            .Add(v => v.ViewName, "test-plot")
            .Add(v => v.Version, "7")
            .Add(v => v.Run, 7)
            .Add(v => v.Data, () => [PlotFactory.Heatmap(["a"], ["a"], [[1f]], "value", PlotFactory.Sequential)])
            .Add(v => v.Layout, () => new Plotly.Blazor.Layout()));

        view.WaitForAssertion(() => Assert.Equal("7", view.Find("[data-view='test-plot']").GetAttribute("data-drawn-run")));
        Assert.Empty(view.FindAll(".plot-error"));
    }
}
