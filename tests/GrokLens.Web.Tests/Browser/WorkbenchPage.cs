using System.Diagnostics;
using Microsoft.Playwright;

namespace GrokLens.Web.Tests.Browser;

/// <summary>Drives the Explore page the way a user does, and waits for the views' "drawn" markers.</summary>
public sealed class WorkbenchPage(IPage page)
{
    /// <summary>Every view of a run; each sets data-drawn-run to the run number once drawn (Plotly views after Plotly has drawn).</summary>
    public static readonly string[] Views =
    [
        "attention-heatmap", "attention-grid", "attention-lines", "router-grid", "router-distribution", "expert-path",
        "expert-usage", "logit-lens", "next-tokens", "residual-norm", "expert-neurons",
    ];

    public IPage Page { get; } = page;

    public ILocator PromptBox => Page.Locator("#prompt textarea, textarea#prompt").First;

    public async Task<int> RunNumberAsync() => int.Parse(await Page.Locator("#workbench").GetAttributeAsync("data-run") ?? "0");

    public async Task SetPromptAsync(string prompt) => await PromptBox.FillAsync(prompt);

    /// <summary>Types the prompt, clicks Run and returns the time from the click until every view of the new run is drawn.</summary>
    public async Task<TimeSpan> RunAsync(string prompt)
    {
        await SetPromptAsync(prompt);
        int previous = await RunNumberAsync();
        var clock = Stopwatch.StartNew();
        await Page.ClickAsync("#run-button");
        await WaitForViewsAsync(previous + 1);
        return clock.Elapsed;
    }

    public async Task WaitForViewsAsync(int run) =>
        await Page.WaitUntilAsync(
            @"([run, views]) => document.querySelector('#workbench')?.dataset.run == run &&
                 views.every(v => document.querySelector(`[data-view='${v}']`)?.getAttribute('data-drawn-run') == run)",
            new object[] { run, Views },
            // Polling every 10 ms instead of every animation frame keeps the browser idle while the server works.
            pollingMs: 10);

    public async Task<string[]> ChipTextsAsync() =>
        (await Page.Locator("[data-token-index]").AllInnerTextsAsync()).Select(t => t.Trim()).ToArray();

    public async Task<string> TextOfAsync(string selector) => (await Page.Locator(selector).First.InnerTextAsync()).Trim();

    /// <summary>Text content of every match (SVG text has no innerText).</summary>
    public async Task<string[]> TextsAsync(string selector) =>
        await Page.Locator(selector).EvaluateAllAsync<string[]>("els => els.map(e => e.textContent.trim())");

    public async Task<string[]> PlotTitleAsync(string view) => await TextsAsync($"[data-view='{view}'] .gtitle");

    public async Task ScreenshotCardAsync(string view, string file)
    {
        var card = Page.Locator($".view-card:has([data-view='{view}']), .view-card[data-view='{view}']").First;
        await card.ScreenshotAsync(new LocatorScreenshotOptions { Path = file });
    }

    /// <summary>Picks a model in the model panel and loads it; returns once the panel names it.</summary>
    public async Task LoadModelAsync(string name)
    {
        await Page.Locator("[data-view='model-panel'] [role='combobox']").ClickAsync();   // #model-picker is MudSelect's hidden input
        await Page.Locator(".mud-popover-open .mud-list-item").GetByText(name, new() { Exact = true }).ClickAsync();
        // The server has the choice once the Load button carries it: a click before that (a busy machine) loads the old one.
        await Page.Locator("#model-load").And(Page.Locator($"[data-choice='{name}']")).WaitForAsync();
        await Page.ClickAsync("#model-load");
        var outcome = Page.Locator(".mud-snackbar").GetByText($"Loaded model {name}.").Or(Page.Locator(".mud-snackbar").GetByText($"Could not load '{name}'"));
        await outcome.First.WaitForAsync();
        var message = await outcome.First.InnerTextAsync();
        if (message.StartsWith("Could not load", StringComparison.Ordinal)) throw new InvalidOperationException(message);
        await Page.WaitUntilAsync("name => document.querySelector('#model-name')?.textContent.trim() == name", name);
    }

    /// <summary>The model the panel's picker shows.</summary>
    public async Task<string> PickedModelAsync() =>
        await Page.EvaluateAsync<string>("() => document.querySelector(\"[data-view='model-panel'] input#model-picker, [data-view='model-panel'] #model-picker input\")?.value ?? ''");

    /// <summary>Picks a hook in the histogram's search box and presses Show.</summary>
    public async Task ShowHistogramAsync(string hook)
    {
        var input = Page.Locator("#histogram-hook input, input#histogram-hook").First;
        await input.FillAsync(hook[..^2]);
        await Page.Locator(".mud-popover-open .mud-list-item").GetByText(hook, new() { Exact = true }).ClickAsync();
        // The server has the hook once the Show button carries it (a click before that would show the previous hook).
        await Page.Locator($"#histogram-button[data-hook='{hook}']").WaitForAsync();
        await Page.ClickAsync("#histogram-button");
    }

    /// <summary>The token ids of the strip's chips, in order.</summary>
    public async Task<int[]> TokenIdsAsync() =>
        await Page.Locator("[data-token-index]").EvaluateAllAsync<int[]>("chips => chips.map(c => Number(c.dataset.tokenId))");

    /// <summary>Types a number into a MudNumericField and leaves it, so the server has the value.</summary>
    public async Task SetNumberAsync(string id, string value)
    {
        var input = Page.Locator($"#{id} input, input#{id}").First;
        await input.FillAsync(value);
        await input.PressAsync("Tab");
    }
}
