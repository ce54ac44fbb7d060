using Microsoft.Playwright;

namespace GrokLens.Web.Tests.Browser;

/// <summary>Drives the Experts page the way a user does, waiting for its state markers (data-version, data-busy) and drawn plots.</summary>
public sealed class ExpertsPage(IPage page)
{
    /// <summary>The plots of an analysis; each marks data-version "{analysis version}-…" once Plotly has drawn it.</summary>
    public static readonly string[] Plots = ["expert-load", "load-histogram", "load-kl", "coactivation", "audit-use-rate", "audit-loss-change", "vocabulary-summary"];

    public IPage Page { get; } = page;

    public static async Task<ExpertsPage> OpenAsync(BrowserFixture fixture, int width = 1700, int height = 1100)
    {
        var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = width, Height = height } });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(240_000); // generous: the machine is shared; nothing asserts on time
        await page.GotoAsync(fixture.BaseAddress + "/experts");
        await page.WaitForFunctionAsync("() => window.Blazor && document.querySelector('#experts') && document.querySelector('#corpus-panel')");
        // The model's name shows once the page has reached the loaded model through the queue.
        await page.WaitForFunctionAsync("() => !document.querySelector('#model-of-run').textContent.includes('no model')");
        return new ExpertsPage(page);
    }

    public async Task<int> VersionAsync() => int.Parse(await Page.Locator("#experts").GetAttributeAsync("data-version") ?? "0");

    /// <summary>Clicks a button that starts page work and waits until the work has ended and every plot shows its outcome.</summary>
    public async Task ClickAndWaitAsync(string selector, params string[] plots)
    {
        int before = await VersionAsync();
        await Page.ClickAsync(selector);
        await WaitIdleAsync(before + 1, plots);
    }

    public async Task WaitIdleAsync(int atLeast, params string[] plots) =>
        await Page.WaitForFunctionAsync(
            @"([version, plots]) => {
                const root = document.querySelector('#experts');
                if (!root || root.dataset.busy !== 'false' || Number(root.dataset.version) < version) return false;
                return plots.every(p => (document.querySelector(`[data-view='${p}']`)?.dataset.version ?? '').startsWith(root.dataset.version + '-'));
            }",
            new object[] { atLeast, plots },
            new PageWaitForFunctionOptions { PollingInterval = 50 });

    public async Task<string> StatusAsync() => (await Page.Locator("#experts-status").InnerTextAsync()).Trim();

    /// <summary>Clicks the cell of a layer × expert heatmap (layers down, experts across, numeric axes), hovering first as Plotly wants.</summary>
    public async Task ClickCellAsync(string view, int layer, int expert, int layers, int experts)
    {
        var chart = Page.Locator($"[data-view='{view}']");
        await chart.ScrollIntoViewIfNeededAsync();
        var area = (await Page.Locator($"[data-view='{view}'] .nsewdrag").First.BoundingBoxAsync())!;
        float x = area.X + (expert + 0.5f) * area.Width / experts, y = area.Y + (layer + 0.5f) * area.Height / layers;
        await Page.Mouse.MoveAsync(x, y, new() { Steps = 3 });
        await Page.Locator($"[data-view='{view}'] .hoverlayer .hovertext").First.WaitForAsync();
        await Page.Mouse.ClickAsync(x, y);
        await Page.WaitForFunctionAsync("([l, e]) => { const d = document.querySelector('#expert-detail'); return d && d.dataset.layer == l && d.dataset.expert == e; }",
            new object[] { layer, expert });
    }

    /// <summary>Text content of every match (SVG text has no innerText).</summary>
    public async Task<string[]> TextsAsync(string selector) =>
        await Page.Locator(selector).EvaluateAllAsync<string[]>("els => els.map(e => e.textContent.trim())");

    /// <summary>Clicks a download button and returns the saved file's bytes.</summary>
    public async Task<byte[]> DownloadAsync(string selector)
    {
        var download = await Page.RunAndWaitForDownloadAsync(() => Page.ClickAsync(selector));
        var path = await download.PathAsync();
        return await File.ReadAllBytesAsync(path);
    }
}
