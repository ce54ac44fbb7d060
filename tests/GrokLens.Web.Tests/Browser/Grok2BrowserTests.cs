namespace GrokLens.Web.Tests.Browser;

/// <summary>Grok-2 in the workbench: the dense branch's share per token beside the experts, the router before and after its cap.</summary>
[Collection(BrowserCollection.Name)]
public sealed class Grok2BrowserTests(BrowserFixture fixture)
{
    [Fact]
    public async Task TheRouterViewShowsTheDenseShareAndTheDistributionBeforeAndAfterTheCap()
    {
        var workbench = new WorkbenchPage(await fixture.OpenWorkbenchAsync());
        try
        {
            await workbench.LoadModelAsync(BrowserFixture.Grok2Model);
            Assert.StartsWith("Grok-2: dense MLP of width", await workbench.TextOfAsync("#model-architecture"));
            Assert.Contains("router softcap", await workbench.TextOfAsync("#model-architecture"));
            await workbench.RunAsync("5, 17, 300, 42, 9, 100, 7");
            await workbench.Page.Locator("[data-view='dense-share'][data-drawn-run]").WaitForAsync();

            Assert.Equal(["token"], await workbench.TextsAsync("[data-view='dense-share'] .xtitle"));
            Assert.Equal(["layer"], await workbench.TextsAsync("[data-view='dense-share'] .ytitle"));
            Assert.Equal(7, (await workbench.TextsAsync("[data-view='dense-share'] .xtick text")).Length); // one column per token
            Assert.Contains("dense share", string.Join(" ", await workbench.TextsAsync("[data-view='dense-share'] .colorbar text")));
            // Two bars per expert and a legend naming them.
            var legend = await workbench.TextsAsync("[data-view='router-distribution'] .legendtext");
            Assert.Equal(["after the router cap (used)", "before the cap"], legend);
            await workbench.ScreenshotCardAsync("dense-share", Path.Combine(fixture.ScreenshotFolder, "grok2-router-view.png"));
        }
        finally
        {
            await workbench.Page.Context.CloseAsync();
        }
    }
}
