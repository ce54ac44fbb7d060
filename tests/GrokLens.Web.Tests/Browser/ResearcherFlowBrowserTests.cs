using GrokLens.Web.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace GrokLens.Web.Tests.Browser;

/// <summary>
/// What researchers stumbled on (issue 16 §3): the keyboard (Ctrl+Enter runs on both pages, the caret comes back to the
/// prompt, Escape closes a dropdown), the page before the circuit connects, the generation strip (token text at once,
/// following the newest token, why a generation stopped) and the live target-token field.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class ResearcherFlowBrowserTests(BrowserFixture fixture)
{
    private const string PromptFocused = "() => document.activeElement?.matches('#prompt textarea, textarea#prompt')";

    [Fact]
    public async Task CtrlEnterRunsTheFocusComesBackToThePromptAndEscapeClosesADropdown()
    {
        var workbench = new WorkbenchPage(await fixture.OpenWorkbenchAsync());
        var page = workbench.Page;
        try
        {
            await workbench.SetPromptAsync("The cat sat on the mat.");
            await workbench.PromptBox.PressAsync("Control+Enter");
            await workbench.WaitForViewsAsync(1);
            await page.WaitUntilAsync(PromptFocused);

            // A click on Run moves the focus to the button; once the run ends the caret is back in the prompt.
            await workbench.SetPromptAsync("The dog sat on the log.");
            await page.ClickAsync("#run-button");
            await workbench.WaitForViewsAsync(2);
            await page.WaitUntilAsync(PromptFocused);

            // Escape closes an open dropdown (the model picker's list).
            await page.Locator("[data-view='model-panel'] [role='combobox']").ClickAsync();
            await page.Locator(".mud-popover-open .mud-list-item").First.WaitForAsync();
            await page.Keyboard.PressAsync("Escape");
            await page.WaitUntilAsync("() => document.querySelectorAll('.mud-popover-open .mud-list-item').length === 0");
        }
        finally
        {
            await page.Context.CloseAsync();
        }

        var compare = await ComparePage.OpenAsync(fixture);
        try
        {
            var prompt = compare.Page.Locator("#compare-prompt textarea, textarea#compare-prompt").First;
            await prompt.FillAsync("The cat sat on the mat.");
            await prompt.PressAsync("Control+Enter");
            await compare.WaitForRunAsync(1);
            await compare.Page.WaitUntilAsync("() => document.activeElement?.matches('#compare-prompt textarea, textarea#compare-prompt')");

            // Escape closes the Add intervention menu too.
            await compare.Page.Locator("#add-intervention").ClickAsync();
            await compare.Page.Locator(".mud-popover-open [data-kind]").First.WaitForAsync();
            await compare.Page.Keyboard.PressAsync("Escape");
            await compare.Page.WaitUntilAsync("() => document.querySelectorAll('.mud-popover-open [data-kind]').length === 0");
        }
        finally
        {
            await compare.Page.Context.CloseAsync();
        }
    }

    [Fact]
    public async Task APlaceholderShowsUntilTheCircuitConnects()
    {
        var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1200, Height = 700 } });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(150_000);
        try
        {
            // Blazor's script is held back, so the page stays where a slow connection leaves it: not yet interactive.
            var script = new TaskCompletionSource<IRoute>(TaskCreationOptions.RunContinuationsAsynchronously);
            await page.RouteAsync("**/_framework/blazor.web.js", route => { script.TrySetResult(route); return Task.CompletedTask; });
            await page.GotoAsync(fixture.BaseAddress + "/", new() { WaitUntil = WaitUntilState.Commit });
            var held = await script.Task.WaitAsync(HeldTurns.Patience);
            var placeholder = page.Locator("#app-loading");
            await placeholder.WaitForAsync();
            Assert.Contains("Connecting", await placeholder.InnerTextAsync());
            await page.ScreenshotAsync(new() { Path = Path.Combine(fixture.ScreenshotFolder, "loading-placeholder.png") });

            await held.ContinueAsync();
            await BrowserFixture.WaitForCircuitAsync(page);
            await placeholder.WaitForAsync(new() { State = WaitForSelectorState.Hidden });
        }
        finally
        {
            await context.CloseAsync();
        }
    }

    [Fact]
    public async Task AGenerationWithoutARunShowsTokenTextFollowsTheNewestTokenAndSaysTheContextIsFull()
    {
        const string text = "The children came to the bank every morning to watch the fish.";
        var expected = await fixture.WithModelAsync(model => model.Encode(text).Select(id => model.Tokenizer!.DisplayPiece(id)).ToArray());
        var registry = fixture.Services.GetRequiredService<ModelRegistry>();

        // grok-tiny, no Run first: while the generation waits for its turn the strip already shows the prompt's text.
        var workbench = new WorkbenchPage(await fixture.OpenWorkbenchAsync());
        try
        {
            await workbench.SetPromptAsync(text);
            await workbench.SetNumberAsync("max-tokens", "2");
            using var tiny = await registry.AcquireAsync(TestRepository.ModelName);
            await using (var turns = new HeldTurns(tiny))
            {
                await turns.HoldAsync();
                await workbench.Page.ClickAsync("#generate-button");
                await workbench.Page.Locator("#queue-place").WaitForAsync();
                Assert.Equal(expected, await workbench.ChipTextsAsync());
            }
            await workbench.WaitForViewsAsync(1);
        }
        finally
        {
            await workbench.Page.Context.CloseAsync();
        }

        // grok1-mini takes 256 tokens: a 250-id prompt leaves room for 6 of the 16 asked for.
        var mini = new WorkbenchPage(await fixture.OpenWorkbenchAsync());
        try
        {
            await mini.LoadModelAsync(BrowserFixture.MiniModel);
            await mini.SetPromptAsync(string.Join(" ", Enumerable.Range(0, 250).Select(i => (i * 7 + 3) % 512)));
            await mini.SetNumberAsync("max-tokens", "16");
            using var model = await registry.AcquireAsync(BrowserFixture.MiniModel);
            await using (var turns = new HeldTurns(model))
            {
                // Stop the generation between its first and second token: the strip has scrolled to the newest token.
                var first = await turns.HoldAsync();
                await mini.Page.ClickAsync("#generate-button");
                await mini.Page.Locator("#queue-place").WaitForAsync();
                var second = turns.Queue();
                await first.ReleaseAsync();
                await second.Started.WaitAsync(HeldTurns.Patience);
                await mini.Page.WaitUntilAsync("() => document.querySelectorAll('.token-chip.generated').length == 1");
                await mini.Page.WaitUntilAsync(
                    "() => { const s = document.querySelector('.token-strip'); return s.scrollHeight > s.clientHeight && s.scrollTop + s.clientHeight >= s.scrollHeight - 2; }");
                await mini.Page.Locator(".token-strip").ScreenshotAsync(new() { Path = Path.Combine(fixture.ScreenshotFolder, "generation-follows-newest.png") });
            }
            await mini.WaitForViewsAsync(1);
            Assert.Equal($"250 prompt + 6 generated tokens · stopped: the context is full (model {BrowserFixture.MiniModel} takes at most 256 tokens)",
                await mini.TextOfAsync("#status"));
        }
        finally
        {
            await mini.Page.Context.CloseAsync();
        }
    }

    [Fact]
    public async Task TheTargetFieldShowsItsTokensLiveAndCompletesFromTheVocabulary()
    {
        var (mat, spaceMat) = await fixture.WithModelAsync(model => (model.Encode("mat"), model.Encode(" mat")));
        Assert.Single(mat);
        var compare = await ComparePage.OpenAsync(fixture);
        var page = compare.Page;
        try
        {
            var field = page.Locator("input#target-token, #target-token input").First;
            await field.FillAsync(" mat");
            var tokens = page.Locator("#target-token-tokens");
            await page.WaitUntilAsync("n => document.querySelector('#target-token-tokens')?.dataset.count == n", $"{spaceMat.Count}");
            Assert.Equal(string.Join(",", spaceMat), await tokens.GetAttributeAsync("data-ids"));
            Assert.Contains("pick one below", await tokens.InnerTextAsync());
            await page.Locator("#target-token").Locator("xpath=ancestor::div[contains(@class,'target-token-field')]")
                .ScreenshotAsync(new() { Path = Path.Combine(fixture.ScreenshotFolder, "target-token-live.png") });

            // Completion: the entry for ▁mat puts its id in the field, which then reads as that one token.
            await page.Locator($"#target-token-completions .target-completion[data-id='{mat[0]}']").ClickAsync();
            await page.WaitUntilAsync("id => document.querySelector('#target-token-tokens')?.dataset.ids == id", $"{mat[0]}");
            Assert.Equal($"#{mat[0]}", await field.InputValueAsync());
            Assert.Contains("▁mat", await tokens.InnerTextAsync());

            await field.FillAsync("mat");
            await page.WaitUntilAsync("id => document.querySelector('#target-token-tokens')?.dataset.ids == id", $"{mat[0]}");
        }
        finally
        {
            await page.Context.CloseAsync();
        }
    }
}
