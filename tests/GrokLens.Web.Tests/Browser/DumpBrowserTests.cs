using GrokLens.Web.Services;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace GrokLens.Web.Tests.Browser;

/// <summary>Dumps in the real browser: download the run, upload it back, see the same views; a bad file is a snackbar.</summary>
[Collection(BrowserCollection.Name)]
public sealed class DumpBrowserTests(BrowserFixture fixture)
{
    private const string Prompt = "The dog sat on the log, and the cat sat on the mat.";

    [Fact]
    public async Task DownloadedDumpUploadsBackIntoTheSameViews()
    {
        var workbench = new WorkbenchPage(await fixture.OpenWorkbenchAsync());
        var page = workbench.Page;
        await workbench.RunAsync(Prompt);
        var chips = await workbench.ChipTextsAsync();
        var gridLabels = await workbench.TextsAsync("[data-view='router-grid'] thead th[scope=col]");
        var heatmapLabels = await workbench.TextsAsync("[data-view='attention-heatmap'] .xtick text");

        await page.ClickAsync("#download-dump-button");
        await page.Locator("#dump-hooks-status").GetByText("hooks selected").WaitForAsync();
        await page.Locator(".mud-dialog").ScreenshotAsync(new() { Path = Path.Combine(fixture.ScreenshotFolder, "dump-download-dialog.png") });
        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#download-dump-link"));
        var zip = Path.Combine(Path.GetTempPath(), $"groklens-browser-{Guid.NewGuid():N}.zip");
        await download.SaveAsAsync(zip);
        try
        {
            Assert.EndsWith(".zip", download.SuggestedFilename);
            Assert.Null(await download.FailureAsync());
            await page.ClickAsync("#download-dump-close");

            // Upload it back: the views are drawn from the dump (run number + 1) with the same token labels.
            int run = await workbench.RunNumberAsync();
            await page.ClickAsync("#open-dump-button");
            await page.UploadAsync("#dump-upload", zip);
            await workbench.WaitForViewsAsync(run + 1);
            await page.Locator("#dump-chip").WaitForAsync();
            Assert.Equal($"Dump prompt: “{Prompt}”", await workbench.TextOfAsync("#dump-prompt"));
            Assert.Equal(chips, await workbench.ChipTextsAsync());
            Assert.Equal(gridLabels, await workbench.TextsAsync("[data-view='router-grid'] thead th[scope=col]"));
            Assert.Equal(heatmapLabels, await workbench.TextsAsync("[data-view='attention-heatmap'] .xtick text"));
            Assert.Equal(gridLabels, await workbench.TextsAsync("[data-view='logit-lens'] thead th[scope=col]"));
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(fixture.ScreenshotFolder, "dump-opened.png") });

            // A file that is no dump: a clear snackbar, the dump stays on screen, the app keeps serving.
            var junk = zip + ".junk.zip";
            await File.WriteAllTextAsync(junk, "this is not a zip");
            await page.ClickAsync("#open-dump-button");
            await page.UploadAsync("#dump-upload", junk);
            await page.Locator(".mud-snackbar").GetByText("not a zip file").WaitForAsync();
            File.Delete(junk);
            await page.ClickAsync("#open-dump-close");
            Assert.Equal(run + 1, await workbench.RunNumberAsync());
            await workbench.RunAsync("A short prompt that works.");

            // The dialog's own example, the attention pattern alone: the dialog says which views it feeds; opened, the
            // attention view draws its probabilities and the others name the hooks they miss.
            await page.ClickAsync("#download-dump-button");
            var all = await workbench.TextOfAsync("#dump-hooks-status");
            Assert.Equal(4, await page.Locator("#dump-views tr[data-supported='true']").CountAsync());
            await page.Locator("#dump-hooks input, input#dump-hooks").First.FillAsync("blocks.*.attn.hook_pattern");
            await page.WaitUntilAsync("all => document.querySelector('#dump-hooks-status').textContent.trim() !== all", all);
            Assert.Equal(["Attention"], await page.Locator("#dump-views tr[data-supported='true']").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.dumpView)"));
            Assert.Contains("blocks.0.moe.hook_router_probs", await page.Locator("#dump-views tr[data-dump-view='Router and experts']").InnerTextAsync());
            await page.Locator(".mud-dialog").ScreenshotAsync(new() { Path = Path.Combine(fixture.ScreenshotFolder, "dump-dialog-views.png") });
            var partial = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#download-dump-link"));
            await partial.SaveAsAsync(zip);
            await page.ClickAsync("#download-dump-close");
            await page.ClickAsync("#open-dump-button");
            await page.UploadAsync("#dump-upload", zip);
            var router = page.Locator("[data-view-unavailable='Router and experts']");
            await router.WaitForAsync();
            Assert.Contains("blocks.0.moe.hook_router_probs", await router.InnerTextAsync());
            await page.Locator("[data-view='attention-heatmap'][data-drawn-run]").WaitForAsync();
            await page.Locator("#attention-probabilities-only").WaitForAsync();
            Assert.Equal("Dump prompt: “A short prompt that works.”", await workbench.TextOfAsync("#dump-prompt"));
            await page.Locator("#workbench").ScreenshotAsync(new() { Path = Path.Combine(fixture.ScreenshotFolder, "dump-pattern-only.png") });
            await router.Locator("xpath=..").ScreenshotAsync(new() { Path = Path.Combine(fixture.ScreenshotFolder, "dump-missing-hooks.png") });
        }
        finally
        {
            File.Delete(zip);
            await page.Context.CloseAsync();
        }
    }
}
