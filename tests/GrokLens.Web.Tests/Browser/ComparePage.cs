using Microsoft.Playwright;

namespace GrokLens.Web.Tests.Browser;

/// <summary>Drives the Compare page the way a user does, and waits for its views' "drawn" markers.</summary>
public sealed class ComparePage(IPage page)
{
    /// <summary>The views of a comparison whose every hook is at hand; each sets data-drawn-run once drawn.</summary>
    public static readonly string[] Views = ["routing-diff", "residual-diff", "attention-diff"];

    public IPage Page { get; } = page;

    /// <summary>A fresh browser context (its own circuit) on /compare, interactive.</summary>
    public static async Task<ComparePage> OpenAsync(BrowserFixture fixture)
    {
        var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1700, Height = 1100 } });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(120_000); // generous: the machine is shared; nothing asserts on time
        await page.GotoAsync(fixture.BaseAddress + "/compare");
        var compare = new ComparePage(page);
        await compare.WaitInteractiveAsync();
        return compare;
    }

    /// <summary>Interactive once the circuit's first render is in the browser (the layout's data-interactive).</summary>
    public async Task WaitInteractiveAsync() =>
        await Page.WaitUntilAsync(
            "() => document.querySelector(\"[data-interactive='true']\") && document.querySelector('#compare') && document.querySelector('#experiment-editor')");

    public async Task<int> RunNumberAsync() => int.Parse(await Page.Locator("#compare").GetAttributeAsync("data-run") ?? "0");

    /// <summary>Clicks a button that makes a comparison (Run both, Compare dumps, a sweep cell) and waits until the views are drawn.</summary>
    public async Task ClickAndWaitAsync(string button, params string[] views)
    {
        int next = await RunNumberAsync() + 1;
        await Page.ClickAsync(button);
        await WaitForRunAsync(next, views);
    }

    public async Task WaitForRunAsync(int run, params string[] views) =>
        await Page.WaitUntilAsync(
            @"([run, views]) => document.querySelector('#compare')?.dataset.run == run &&
                views.every(v => document.querySelector(`[data-view='${v}']`)?.getAttribute('data-drawn-run') == run)",
            new object[] { run, views.Length == 0 ? Views : views });

    /// <summary>The (layer, token) cells the routing diff marks as changed.</summary>
    public async Task<HashSet<(int Layer, int Token)>> ChangedCellsAsync() =>
        (await Page.Locator("[data-view='routing-diff'] td[data-changed='true']").EvaluateAllAsync<int[][]>(
            "cells => cells.map(c => [Number(c.dataset.layer), Number(c.dataset.token)])"))
        .Select(c => (c[0], c[1])).ToHashSet();
}
