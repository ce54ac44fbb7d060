using GrokLens.Dumps;
using GrokLens.Hooks;
using GrokLens.Model;
using Microsoft.Playwright;

namespace GrokLens.Web.Tests.Browser;

/// <summary>
/// What one session does must not change another's results (issue 16, section 1): each reproduces a bug of the
/// one-model-per-server workbench, where another session's Load switched everyone's model.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class SessionIsolationBrowserTests(BrowserFixture fixture)
{
    private const string Prompt = "The cat sat on the mat, and the dog sat on the log because the sun was warm.";

    private static GrokConfig TinyConfig => GrokConfig.FromJsonFile(Path.Combine(TestRepository.ModelsFolder, TestRepository.ModelName, "config.json"));

    /// <summary>Waits for run <paramref name="run"/> to be drawn, or for an error snackbar (then fails with its text).</summary>
    private static async Task WaitForRunOrErrorAsync(WorkbenchPage session, int run)
    {
        await session.Page.WaitForFunctionAsync(
            @"([run, views]) => document.querySelector('.mud-snackbar.mud-alert-filled-error') !== null ||
                (document.querySelector('#workbench')?.dataset.run == run &&
                 views.every(v => document.querySelector(`[data-view='${v}']`)?.getAttribute('data-drawn-run') == run))",
            new object[] { run, WorkbenchPage.Views }, new PageWaitForFunctionOptions { PollingInterval = 10 });
        var errors = await session.Page.Locator(".mud-snackbar.mud-alert-filled-error").AllInnerTextsAsync();
        Assert.True(errors.Count == 0, "error shown: " + string.Join(" | ", errors));
    }

    private static async Task SetNumberAsync(IPage page, string id, string value)
    {
        var input = page.Locator($"#{id} input, input#{id}").First;
        await input.FillAsync(value);
        await input.PressAsync("Tab");
    }

    [Fact]
    public async Task AGenerationIsNotLostWhenAnotherSessionLoadsAModel()
    {
        var generating = new WorkbenchPage(await fixture.OpenWorkbenchAsync());
        var loading = new WorkbenchPage(await fixture.OpenWorkbenchAsync());
        try
        {
            await generating.RunAsync(Prompt);
            await SetNumberAsync(generating.Page, "max-tokens", "120");
            await SetNumberAsync(generating.Page, "temperature", "0.8");
            await SetNumberAsync(generating.Page, "seed", "7");

            // The solo baseline: the same generation with nobody else around.
            int run = await generating.RunNumberAsync();
            await generating.Page.ClickAsync("#generate-button");
            await WaitForRunOrErrorAsync(generating, run + 1);
            var solo = await generating.ChipTextsAsync();
            var soloStatus = await generating.TextOfAsync("#status");

            // Again, while the other session loads grok1-mini (context 256, vocabulary 512) as soon as the first token streams.
            await loading.Page.Locator("[data-view='model-panel'] [role='combobox']").ClickAsync();
            await loading.Page.Locator(".mud-popover-open .mud-list-item").GetByText(BrowserFixture.MiniModel, new() { Exact = true }).ClickAsync();
            await generating.Page.ClickAsync("#generate-button");
            await generating.Page.Locator(".token-chip.generated").First.WaitForAsync();
            await loading.Page.ClickAsync("#model-load");
            await WaitForRunOrErrorAsync(generating, run + 2);

            Assert.Equal(solo, await generating.ChipTextsAsync());
            Assert.Equal(soloStatus, await generating.TextOfAsync("#status"));
            await loading.Page.Locator(".mud-snackbar").GetByText($"Loaded model {BrowserFixture.MiniModel}.").WaitForAsync();
        }
        finally
        {
            await generating.Page.Context.CloseAsync();
            await loading.Page.Context.CloseAsync();
        }
    }

    [Fact]
    public async Task ADumpComesFromTheModelOfTheRunAfterAnotherSessionLoadsAModel()
    {
        var running = new WorkbenchPage(await fixture.OpenWorkbenchAsync());
        var loading = new WorkbenchPage(await fixture.OpenWorkbenchAsync());
        try
        {
            await running.RunAsync(Prompt);
            var chips = await running.ChipTextsAsync();
            await loading.LoadModelAsync(BrowserFixture.MiniModel);

            await running.Page.ClickAsync("#download-dump-button");
            await running.Page.Locator("#dump-hooks-status").GetByText("hooks selected").WaitForAsync();
            var href = await running.Page.Locator("#download-dump-link").GetAttributeAsync("href");
            var response = await running.Page.Context.APIRequest.GetAsync(fixture.BaseAddress + "/" + href);
            Assert.True(response.Ok, $"{response.Status}: {await response.TextAsync()}");

            using var dump = DumpReader.OpenZip(new MemoryStream(await response.BodyAsync()));
            var config = TinyConfig;
            Assert.Equal(TestRepository.ModelName, dump.Manifest.Model.Name);
            Assert.Equal(config.NumLayers, dump.Config.NumLayers);
            Assert.Equal(HookPoints.All(config).Count, dump.Runs[0].Hooks.Count);
            Assert.Equal(chips.Length, dump.Runs[0].TokenIds.Count);
        }
        finally
        {
            await running.Page.Context.CloseAsync();
            await loading.Page.Context.CloseAsync();
        }
    }

    [Fact]
    public async Task TheHistogramReadsTheModelOfTheRunAfterAnotherSessionLoadsAModel()
    {
        var running = new WorkbenchPage(await fixture.OpenWorkbenchAsync());
        var loading = new WorkbenchPage(await fixture.OpenWorkbenchAsync());
        try
        {
            await running.RunAsync(Prompt);
            int tokens = (await running.ChipTextsAsync()).Length;
            await loading.LoadModelAsync(BrowserFixture.MiniModel);

            var hook = $"blocks.{TinyConfig.NumLayers - 1}.hook_resid_post";
            await running.ShowHistogramAsync(hook);
            await running.Page.WaitForFunctionAsync(
                "hook => document.querySelector('.mud-snackbar') !== null || (document.querySelector(\"[data-view='histogram']\")?.dataset.version ?? '').startsWith(hook + '|')", hook);
            Assert.Equal(0, await running.Page.Locator(".mud-snackbar").CountAsync());
            Assert.Contains($"{hook}: {tokens * TinyConfig.HiddenSize:N0} values", string.Join(" ", await running.PlotTitleAsync("histogram")));
        }
        finally
        {
            await running.Page.Context.CloseAsync();
            await loading.Page.Context.CloseAsync();
        }
    }

    [Fact]
    public async Task EachSessionsPickerAndPanelNameItsOwnModel()
    {
        var staying = new WorkbenchPage(await fixture.OpenWorkbenchAsync());
        var loading = new WorkbenchPage(await fixture.OpenWorkbenchAsync());
        try
        {
            await loading.LoadModelAsync(BrowserFixture.MiniModel);
            // A run makes the staying session's circuit render again (and proves which model it runs on).
            await staying.RunAsync(Prompt);

            foreach (var (session, model) in new[] { (staying, TestRepository.ModelName), (loading, BrowserFixture.MiniModel) })
            {
                Assert.Equal(model, await session.TextOfAsync("#model-name"));
                Assert.Equal(model, await session.PickedModelAsync());
            }
        }
        finally
        {
            await staying.Page.Context.CloseAsync();
            await loading.Page.Context.CloseAsync();
        }
    }
}
