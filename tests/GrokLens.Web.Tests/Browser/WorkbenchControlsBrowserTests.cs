using Microsoft.Playwright;

namespace GrokLens.Web.Tests.Browser;

/// <summary>The Explore page's controls in real headless Chromium: histogram, theme, cancel, near-tie threshold, model switch.</summary>
[Collection(BrowserCollection.Name)]
public sealed class WorkbenchControlsBrowserTests(BrowserFixture fixture)
{
    private const string Prompt = "The cat sat on the mat, and the dog sat on the log because the sun was warm.";

    private async Task<WorkbenchPage> OpenAndRunAsync(string prompt = Prompt)
    {
        var workbench = new WorkbenchPage(await fixture.OpenWorkbenchAsync());
        await workbench.RunAsync(prompt);
        return workbench;
    }

    private static Task WaitForVersionAsync(IPage page, string view, string condition) =>
        page.WaitUntilAsync($"() => (document.querySelector(\"[data-view='{view}']\")?.dataset.version ?? '').{condition}");

    [Fact]
    public async Task HistogramOfAHookCountsEveryValue()
    {
        var workbench = await OpenAndRunAsync();
        var page = workbench.Page;
        int tokens = (await workbench.ChipTextsAsync()).Length;
        await workbench.ShowHistogramAsync("blocks.2.hook_resid_post");
        await page.WaitUntilAsync("() => (document.querySelector(\"[data-view='histogram']\")?.dataset.version ?? '').startsWith('blocks.2.hook_resid_post|')");

        // The residual after layer 2 is tokens × d_model values, all finite, in 80 server-side bins.
        int width = GrokLens.Model.GrokConfig.FromJsonFile(Path.Combine(TestRepository.ModelsFolder, TestRepository.ModelName, "config.json")).HiddenSize;
        var title = string.Join(" ", await workbench.PlotTitleAsync("histogram"));
        Assert.Contains($"blocks.2.hook_resid_post: {tokens * width:N0} values", title);
        Assert.Equal(80, await page.Locator("[data-view='histogram'] g.point").CountAsync());
        Assert.Equal(["value"], await workbench.TextsAsync("[data-view='histogram'] .xtitle"));
        await workbench.ScreenshotCardAsync("histogram", Path.Combine(fixture.ScreenshotFolder, "histogram.png"));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task DarkThemeRedrawsThePlotsInLightText()
    {
        var workbench = await OpenAndRunAsync();
        var page = workbench.Page;
        const string TitleFill = "() => getComputedStyle(document.querySelector(\"[data-view='attention-heatmap'] .gtitle\")).fill";
        Assert.Equal("rgb(34, 34, 34)", await page.EvaluateAsync<string>(TitleFill));

        await page.ClickAsync("#theme-toggle");
        await WaitForVersionAsync(page, "attention-heatmap", "includes('-True-')");
        await WaitForVersionAsync(page, "residual-norm", "includes('-True-')");
        Assert.Equal("rgb(224, 224, 224)", await page.EvaluateAsync<string>(TitleFill));
        var background = await page.EvaluateAsync<string>("() => getComputedStyle(document.querySelector('.mud-main-content')).backgroundColor");
        Assert.NotEqual("rgb(255, 255, 255)", background);
        await page.FullPageAsync(Path.Combine(fixture.ScreenshotFolder, "workbench-dark.png"));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task CancelStopsAGenerationAndTheViewsCoverWhatWasGenerated()
    {
        var workbench = await OpenAndRunAsync();
        var page = workbench.Page;
        int promptLength = (await workbench.ChipTextsAsync()).Length;
        int run = await workbench.RunNumberAsync();
        var maxTokens = page.Locator("#max-tokens input, input#max-tokens").First;
        await maxTokens.FillAsync("400");
        await maxTokens.PressAsync("Tab");

        await page.ClickAsync("#generate-button");
        await page.Locator(".token-chip.generated").First.WaitForAsync();
        await page.ClickAsync("#cancel-button");
        await workbench.WaitForViewsAsync(run + 1);

        // Stopped early (400 tokens take far longer), and the views cover the tokens generated until then.
        int total = (await workbench.ChipTextsAsync()).Length;
        Assert.InRange(total, promptLength + 1, promptLength + 399);
        Assert.Equal($"{promptLength} prompt + {total - promptLength} generated tokens", await workbench.TextOfAsync("#status"));
        Assert.Equal(4 * total, await page.Locator("[data-view='router-grid'] td[data-layer]").CountAsync());
        Assert.Equal(0, await page.Locator("#cancel-button").CountAsync());
        Assert.True(await page.Locator("#run-button").IsEnabledAsync());
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task NearTieThresholdMarksTheRouterCells()
    {
        var workbench = await OpenAndRunAsync();
        var page = workbench.Page;
        int cells = await page.Locator("[data-view='router-grid'] td[data-layer]").CountAsync();
        var threshold = page.Locator("#near-tie-threshold input, input#near-tie-threshold").First;

        async Task<int> NearTiesAt(string value)
        {
            await threshold.FillAsync(value);
            await threshold.PressAsync("Tab");
            await page.Locator("[data-view='router-grid']").GetByText($"< {value}").WaitForAsync();
            return await page.Locator("[data-view='router-grid'] td.near-tie").CountAsync();
        }

        // Every k-th-to-next margin is below 1 and none is below 0.
        Assert.Equal(cells, await NearTiesAt("1"));
        Assert.Equal(0, await NearTiesAt("0"));
        int some = await NearTiesAt("0.2");
        Assert.Equal(some, await page.Locator("[data-view='router-grid'] td[data-near-tie='true']").CountAsync());
        Assert.InRange(some, 0, cells);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task LoadingAModelShowsProgressSwitchesOnlyThisSessionAndListsTheResidentModels()
    {
        var switching = await OpenAndRunAsync();
        var other = await OpenAndRunAsync("Rivers run to the sea.");
        try
        {
            int otherRun = await other.RunNumberAsync();
            // Record whether the load's progress bar was ever on screen (grok-tiny loads in well under a second).
            await switching.Page.EvaluateAsync(@"() => { window.sawProgress = false;
                new MutationObserver(() => { if (document.querySelector('#model-progress')) window.sawProgress = true; })
                  .observe(document.body, { childList: true, subtree: true, attributes: true }); }");
            await switching.LoadModelAsync(BrowserFixture.TwinModel);
            Assert.True(await switching.Page.EvaluateAsync<bool>("() => window.sawProgress"), "no progress bar while the model loaded");
            Assert.Equal(0, await switching.Page.Locator("[data-view='router-grid']").CountAsync());   // its run is cleared
            Assert.Contains("run the prompt again", await switching.TextOfAsync("#status"));

            // Every session's panel lists both models as resident, with their weight memory; the other session keeps
            // its model, its run and its views.
            foreach (var session in new[] { switching, other })
                await session.Page.WaitUntilAsync("names => names.every(n => document.querySelector(`#resident-models tr[data-model='${n}']`))",
                    new[] { TestRepository.ModelName, BrowserFixture.TwinModel });
            var bytes = await other.Page.Locator($"#resident-models tr[data-model='{TestRepository.ModelName}']").GetAttributeAsync("data-bytes");
            Assert.Contains(GrokLens.Formatting.ByteSize.Format(long.Parse(bytes!)),
                await other.TextOfAsync($"#resident-models tr[data-model='{TestRepository.ModelName}']"));
            Assert.Equal(TestRepository.ModelName, await other.TextOfAsync("#model-name"));
            Assert.Equal(otherRun, await other.RunNumberAsync());
            Assert.Equal(0, await other.Page.Locator("#model-switched").CountAsync());
            Assert.True(await other.Page.Locator("[data-view='router-grid'] td[data-layer]").CountAsync() > 0);
            await other.ScreenshotCardAsync("model-panel", Path.Combine(fixture.ScreenshotFolder, "model-panel-resident.png"));

            await switching.RunAsync("Rivers run to the sea.");
            Assert.Equal(BrowserFixture.TwinModel, await switching.TextOfAsync("#model-name"));
            Assert.Equal(BrowserFixture.TwinModel, await switching.PickedModelAsync());
        }
        finally
        {
            await switching.Page.Context.CloseAsync();
            await other.Page.Context.CloseAsync();
        }
    }
}
