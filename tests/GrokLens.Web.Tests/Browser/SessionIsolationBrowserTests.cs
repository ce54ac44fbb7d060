using GrokLens.Dumps;
using GrokLens.Hooks;
using GrokLens.Model;
using GrokLens.Web.Models;
using Microsoft.Extensions.DependencyInjection;
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
        await session.Page.WaitUntilAsync(
            @"([run, views]) => document.querySelector('.mud-snackbar.mud-alert-filled-error') !== null ||
                (document.querySelector('#workbench')?.dataset.run == run &&
                 views.every(v => document.querySelector(`[data-view='${v}']`)?.getAttribute('data-drawn-run') == run))",
            new object[] { run, WorkbenchPage.Views }, pollingMs: 10);
        var errors = await session.Page.Locator(".mud-snackbar.mud-alert-filled-error").AllInnerTextsAsync();
        Assert.True(errors.Count == 0, "error shown: " + string.Join(" | ", errors));
    }

    /// <summary>Two fresh sessions: the one whose results are checked, and the one that loads another model.</summary>
    private async Task WithTwoSessionsAsync(Func<WorkbenchPage, WorkbenchPage, Task> test)
    {
        var mine = new WorkbenchPage(await fixture.OpenWorkbenchAsync());
        var other = new WorkbenchPage(await fixture.OpenWorkbenchAsync());
        try
        {
            await test(mine, other);
        }
        finally
        {
            await mine.Page.Context.CloseAsync();
            await other.Page.Context.CloseAsync();
        }
    }

    [Fact]
    public Task AGenerationIsNotLostWhenAnotherSessionLoadsAModel() => WithTwoSessionsAsync(async (generating, loading) =>
    {
        await generating.RunAsync(Prompt);
        await generating.SetNumberAsync("max-tokens", "120");
        await generating.SetNumberAsync("seed", "7");

        // The solo baseline: the same generation with nobody else around.
        int run = await generating.RunNumberAsync();
        await generating.Page.ClickAsync("#generate-button");
        await WaitForRunOrErrorAsync(generating, run + 1);
        var solo = await generating.TokenIdsAsync();
        var soloStatus = await generating.TextOfAsync("#status");

        // Again, and after its first token the other session loads grok1-mini (context 256, vocabulary 512): held turns
        // on grok-tiny keep the generation between its first and second token until the load is done.
        using var tiny = await fixture.Services.GetRequiredService<ModelRegistry>().AcquireAsync(TestRepository.ModelName);
        await using var turns = new HeldTurns(tiny);
        var turn = await turns.HoldAsync();
        await generating.Page.ClickAsync("#generate-button");
        await generating.Page.Locator("#queue-place").WaitForAsync();
        var next = turns.Queue();
        await turn.ReleaseAsync();
        await next.Started.WaitAsync(HeldTurns.Patience);
        await generating.Page.WaitUntilAsync("() => document.querySelectorAll('.token-chip.generated').length == 1");
        await loading.LoadModelAsync(BrowserFixture.MiniModel);
        await next.ReleaseAsync();
        await WaitForRunOrErrorAsync(generating, run + 2);

        int[] shown = await generating.TokenIdsAsync();
        Assert.Equal(solo, shown);
        Assert.Equal(soloStatus, await generating.TextOfAsync("#status"));
    });

    [Fact]
    public Task ADumpComesFromTheModelOfTheRunAfterAnotherSessionLoadsAModel() => WithTwoSessionsAsync(async (running, loading) =>
    {
        await running.RunAsync(Prompt);
        var ids = await running.TokenIdsAsync();
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
        Assert.Equal(ids, dump.Runs[0].TokenIds);
    });

    [Fact]
    public Task TheHistogramReadsTheModelOfTheRunAfterAnotherSessionLoadsAModel() => WithTwoSessionsAsync(async (running, loading) =>
    {
        await running.RunAsync(Prompt);
        int tokens = (await running.ChipTextsAsync()).Length;
        await loading.LoadModelAsync(BrowserFixture.MiniModel);

        var hook = $"blocks.{TinyConfig.NumLayers - 1}.hook_resid_post";
        await running.ShowHistogramAsync(hook);
        await running.Page.WaitUntilAsync(
            "hook => document.querySelector('.mud-snackbar') !== null || (document.querySelector(\"[data-view='histogram']\")?.dataset.version ?? '').startsWith(hook + '|')", hook);
        Assert.Equal(0, await running.Page.Locator(".mud-snackbar").CountAsync());
        Assert.Contains($"{hook}: {tokens * TinyConfig.HiddenSize:N0} values", string.Join(" ", await running.PlotTitleAsync("histogram")));
    });

    [Fact]
    public Task EachSessionsPickerAndPanelNameItsOwnModel() => WithTwoSessionsAsync(async (staying, loading) =>
    {
        await loading.LoadModelAsync(BrowserFixture.MiniModel);
        // A run makes the staying session's circuit render again (and proves which model it runs on).
        await staying.RunAsync(Prompt);

        foreach (var (session, model) in new[] { (staying, TestRepository.ModelName), (loading, BrowserFixture.MiniModel) })
        {
            Assert.Equal(model, await session.TextOfAsync("#model-name"));
            Assert.Equal(model, await session.PickedModelAsync());
        }
    });
}
