using System.Globalization;
using GrokLens.Analysis;
using GrokLens.Engine;
using GrokLens.Hooks;
using GrokLens.Interventions;
using GrokLens.Web.Services;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace GrokLens.Web.Tests.Browser;

/// <summary>
/// Comparisons through dumps in real Chromium: run a comparison live, download it as a two-run dump, open that dump (and
/// two single-run dumps of Explore) in the comparison view, and see the same routing diff and KL without the model.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class DumpCompareBrowserTests(BrowserFixture fixture)
{
    private const string Prompt = "the cat sat on the mat and the dog sat on the";


    /// <summary>KL(first‖second) as the summary line prints it.</summary>
    private static async Task<double> KlAsync(IPage page)
    {
        var summary = await page.Locator("#next-token-summary").InnerTextAsync();
        var value = summary[(summary.IndexOf("= ", StringComparison.Ordinal) + 2)..].Split(' ')[0];
        return double.Parse(value, CultureInfo.CurrentCulture);
    }

    private static async Task<string> DownloadAsync(IPage page, string openButton, string hooks, string? dialogScreenshot = null)
    {
        await page.ClickAsync(openButton);
        var status = page.Locator("#dump-hooks-status");
        await status.GetByText("hooks selected").WaitForAsync();
        if (hooks != "all")
        {
            var before = (await status.InnerTextAsync()).Trim();
            await page.Locator("#dump-hooks input, input#dump-hooks").First.FillAsync(hooks);
            await page.WaitUntilAsync("before => document.querySelector('#dump-hooks-status').textContent.trim() !== before", before);
        }
        if (dialogScreenshot is not null) await page.Locator(".mud-dialog").ScreenshotAsync(new() { Path = dialogScreenshot });
        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#download-dump-link"));
        var zip = Path.Combine(Path.GetTempPath(), $"groklens-compare-{Guid.NewGuid():N}.zip");
        await download.SaveAsAsync(zip);
        Assert.Null(await download.FailureAsync());
        await page.ClickAsync("#download-dump-close");
        return zip;
    }

    private static async Task UploadDumpAsync(IPage page, string side, string zip)
    {
        await page.ClickAsync($"#dump-open-{side}");
        await page.UploadAsync("#dump-upload", zip);
        // This file's name (the side may already show an earlier dump).
        await page.Locator($"#dump-name-{side}").GetByText(Path.GetFileName(zip)).WaitForAsync();
        await page.Locator(".mud-dialog").WaitForAsync(new() { State = WaitForSelectorState.Detached });
    }

    /// <summary>Closes the snackbars (they cover the top right of a screenshot).</summary>
    private static async Task CloseSnackbarsAsync(IPage page)
    {
        foreach (var close in await page.Locator(".mud-snackbar button").AllAsync()) await close.ClickAsync();
        await page.WaitUntilAsync("() => document.querySelectorAll('.mud-snackbar').length === 0");
    }

    [Fact]
    public async Task ComparisonDownloadedAsADumpOpensIntoTheSameRoutingDiffAndKl()
    {
        var ids = await fixture.WithModelAsync(model => model.Encode(Prompt));
        int banned = await fixture.WithModelAsync(model =>
        {
            using var run = model.Run(ids, RunOptions.CaptureOnly(HookPoints.Layer(0, HookPoints.TopKIndices)));
            return (int)run.Cache[HookPoints.Layer(0, HookPoints.TopKIndices)][-1, 0].item<long>();
        });
        var expected = await fixture.WithModelAsync(model => RunComparison.Compare(model, ids, [new BanExpert(0, banned)],
            new ComparisonOptions { NearTieThreshold = WorkbenchOptions.DefaultNearTieThreshold, Attention = false }));
        var expectedChanged = expected.Routing!.Changes.Select(c => (c.Layer, c.PositionA)).ToHashSet();

        // Live: ban the expert layer 0 gives the last token first, run both.
        var compare = await ComparePage.OpenAsync(fixture);
        var page = compare.Page;
        await page.Locator("textarea#compare-prompt").FillAsync(Prompt);
        await page.ClickAsync("#add-intervention");
        await page.GetByText("Ban expert", new PageGetByTextOptions { Exact = true }).ClickAsync();
        var expert = page.Locator(".intervention[data-index='0'] .field-expert input");
        await expert.FillAsync($"{banned}");
        await expert.PressAsync("Tab");
        await page.WaitUntilAsync("t => [...document.querySelectorAll('.intervention-description')].some(d => d.textContent.includes(t))", $"ban expert {banned} of layer 0");
        await compare.ClickAndWaitAsync("#compare-run");
        var liveChanged = await compare.ChangedCellsAsync();
        Assert.Equal(expectedChanged, liveChanged);
        Assert.Equal(expected.NextToken!.KlAToB, await KlAsync(page), tolerance: 1.5e-3); // shown to 3 decimals

        var twoRuns = await DownloadAsync(page, "#download-comparison-button", "all", Path.Combine(fixture.ScreenshotFolder, "compare-download-dialog.png"));
        var zips = new List<string> { twoRuns };
        try
        {
            // The two-run dump is offered as A and B at once and compared from the files alone.
            await UploadDumpAsync(page, "a", twoRuns);
            Assert.Equal("baseline", await page.Locator("#dump-name-a").GetAttributeAsync("data-run-id"));
            Assert.Equal("modified", await page.Locator("#dump-name-b").GetAttributeAsync("data-run-id"));
            await compare.ClickAndWaitAsync("#compare-dumps");
            Assert.Contains("the model was not run", await page.Locator("#compare-source").InnerTextAsync());
            Assert.Equal(liveChanged, await compare.ChangedCellsAsync());
            Assert.Equal(expected.NextToken.KlAToB, await KlAsync(page), tolerance: 1.5e-3);
            Assert.Contains($"Interventions of B: ban expert {banned} of layer 0", await page.Locator("#compare-result").InnerTextAsync());
            await CloseSnackbarsAsync(page);
            await page.Locator("#compare-result").ScreenshotAsync(new() { Path = Path.Combine(fixture.ScreenshotFolder, "compare-dumps.png") });
            await page.EvaluateAsync("() => window.scrollTo(0, 0)");
            await page.FullPageAsync(Path.Combine(fixture.ScreenshotFolder, "compare-dumps-page.png"));

            // Routing hooks only: the routing diff is the same, the other views name the hooks they lack. The download
            // belongs to a live comparison (a comparison of dumps has nothing to run again): run both first.
            Assert.True(await page.Locator("#download-comparison-button").IsDisabledAsync());
            await compare.ClickAndWaitAsync("#compare-run");
            var routingOnly = await DownloadAsync(page, "#download-comparison-button", "blocks.*.moe.hook_topk_indices");
            zips.Add(routingOnly);
            await UploadDumpAsync(page, "b", routingOnly);
            await compare.ClickAndWaitAsync("#compare-dumps", "routing-diff");
            Assert.Equal(liveChanged, await compare.ChangedCellsAsync());
            Assert.Contains("hook logits", await page.Locator("[data-view-unavailable='next-token change']").InnerTextAsync());
            Assert.Contains("blocks.0.attn.hook_pattern", await page.Locator("[data-view-unavailable='attention difference']").InnerTextAsync());
            await CloseSnackbarsAsync(page);
            await page.Locator("#compare-result").ScreenshotAsync(new() { Path = Path.Combine(fixture.ScreenshotFolder, "compare-dumps-missing-hooks.png") });

            // A file that is no dump: a snackbar, and the dumps stay usable.
            var junk = twoRuns + ".junk.zip";
            zips.Add(junk);
            await File.WriteAllTextAsync(junk, "this is not a zip");
            await page.ClickAsync("#dump-open-a");
            await page.UploadAsync("#dump-upload", junk);
            await page.Locator(".mud-snackbar").GetByText("not a zip file").WaitForAsync();
            await page.ClickAsync("#open-dump-close");
            await compare.ClickAndWaitAsync("#compare-dumps", "routing-diff");

            // Explore shows either run of the two-run dump: the router grid follows the chosen run.
            await page.GotoAsync(fixture.BaseAddress + "/");
            await BrowserFixture.WaitForCircuitAsync(page);
            var workbench = new WorkbenchPage(page);
            await page.ClickAsync("#open-dump-button");
            await page.UploadAsync("#dump-upload", twoRuns);
            await workbench.WaitForViewsAsync(1);
            string Experts(int[] experts) => string.Join(",", experts);
            async Task<string?> CellAsync(RoutingChange c) =>
                await page.Locator($"[data-view='router-grid'] td[data-layer='{c.Layer}'][data-token='{c.PositionA}']").GetAttributeAsync("data-experts");
            foreach (var change in expected.Routing.Changes) Assert.Equal(Experts(change.ExpertsA), await CellAsync(change));
            await page.Locator(".mud-input-control:has(#dump-run-select)").ClickAsync(); // the id sits on MudSelect's hidden input
            await page.GetByText($"modified ({ids.Count} tokens)").ClickAsync();
            await workbench.WaitForViewsAsync(2);
            foreach (var change in expected.Routing.Changes) Assert.Equal(Experts(change.ExpertsB), await CellAsync(change));
            await CloseSnackbarsAsync(page);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(fixture.ScreenshotFolder, "dump-run-select.png") });
        }
        finally
        {
            foreach (var zip in zips) File.Delete(zip);
            await page.Context.CloseAsync();
        }
    }

    [Fact]
    public async Task TwoSingleRunDumpsFromExploreCompareAndMismatchesAreRefused()
    {
        // Explore: two prompts of the same length, each downloaded as a one-run dump.
        const string first = "the cat sat on the mat", second = "the dog sat on the mat";
        var workbench = new WorkbenchPage(await fixture.OpenWorkbenchAsync());
        var zips = new List<string>();
        try
        {
            foreach (var prompt in new[] { first, second, "a much longer prompt than the others, with many more tokens in it" })
            {
                await workbench.RunAsync(prompt);
                zips.Add(await DownloadAsync(workbench.Page, "#download-dump-button", "all"));
            }
            await workbench.Page.Context.CloseAsync();

            var expected = await fixture.WithModelAsync(model => RunComparison.Compare(model, new ComparedRun(model.Encode(first)), new ComparedRun(model.Encode(second)),
                new ComparisonOptions { NearTieThreshold = WorkbenchOptions.DefaultNearTieThreshold }));
            var compare = await ComparePage.OpenAsync(fixture);
            var page = compare.Page;
            await UploadDumpAsync(page, "a", zips[0]);
            await UploadDumpAsync(page, "b", zips[1]);
            await compare.ClickAndWaitAsync("#compare-dumps");
            Assert.Equal(expected.Routing!.Changes.Select(c => (c.Layer, c.PositionA)).ToHashSet(), await compare.ChangedCellsAsync());
            Assert.Equal(expected.NextToken!.KlAToB, await KlAsync(page), tolerance: 1.5e-3); // shown to 3 decimals

            // Another length: refused with the reason, the shown comparison stays.
            int run = await compare.RunNumberAsync();
            await UploadDumpAsync(page, "b", zips[2]);
            await page.ClickAsync("#compare-dumps");
            await page.Locator(".mud-snackbar").GetByText("same number of tokens").WaitForAsync();
            Assert.Equal(run, await compare.RunNumberAsync());
            await page.Context.CloseAsync();
        }
        finally
        {
            foreach (var zip in zips) File.Delete(zip);
        }
    }
}
