using GrokLens.Web.Services;
using GrokLens.Web.Views;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace GrokLens.Web.Tests.Browser;

/// <summary>The workbench in real headless Chromium against the real app on Kestrel.</summary>
[Collection(BrowserCollection.Name)]
public sealed class WorkbenchBrowserTests(BrowserFixture fixture, ITestOutputHelper output)
{
    private const string Prompt = "The cat sat on the mat, and the dog sat on the log because the sun was warm.";

    private async Task<WorkbenchPage> OpenAsync() => new(await fixture.OpenWorkbenchAsync());

    private static async Task CloseAsync(WorkbenchPage workbench) => await workbench.Page.Context.CloseAsync();

    [Fact]
    public async Task RunDrawsEveryViewWithTokenLabelsAndStylesLoad()
    {
        var workbench = await OpenAsync();
        var page = workbench.Page;

        // MudBlazor's stylesheet comes from _content/ (static web assets) although the web root is the repository's wwwroot.
        var mudRules = await page.EvaluateAsync<int>(
            "() => [...document.styleSheets].filter(s => (s.href || '').includes('_content/MudBlazor/')).reduce((n, s) => n + s.cssRules.length, 0)");
        Assert.True(mudRules > 500, $"MudBlazor's stylesheet did not load ({mudRules} rules).");
        Assert.Equal("fixed", await page.EvaluateAsync<string>("() => getComputedStyle(document.querySelector('.mud-appbar')).position"));
        Assert.True(await page.EvaluateAsync<bool>("() => [...document.styleSheets].some(s => (s.href || '').endsWith('/app.css') && s.cssRules.length > 5)"),
            "app.css from the repository's wwwroot did not load.");

        await workbench.RunAsync(Prompt);

        var chips = await workbench.ChipTextsAsync();
        var labels = TokenLabels.Disambiguate(chips);
        Assert.Contains(labels, l => l.Contains('·'));   // "the" and "sat" repeat: their labels carry the position
        Assert.Equal(labels, await workbench.TextsAsync("[data-view='router-grid'] thead th[scope=col]"));
        Assert.Equal(labels, await workbench.TextsAsync("[data-view='logit-lens'] thead th[scope=col]"));
        Assert.Equal(labels, await workbench.TextsAsync("[data-view='attention-heatmap'] .xtick text"));
        // Plotly lists the ticks of the reversed y axis bottom-up in the DOM.
        Assert.Equal(labels.Reverse(), await workbench.TextsAsync("[data-view='attention-heatmap'] .ytick text"));
        Assert.Equal(labels, await workbench.TextsAsync("[data-view='residual-norm'] .xtick text"));
        Assert.True(await page.Locator("[data-view='attention-heatmap'] .colorbar").CountAsync() > 0, "the heatmap has no colour bar");
        Assert.Equal(4 * labels.Length, await page.Locator("[data-view='router-grid'] td[data-layer]").CountAsync());
        Assert.Equal(5 * labels.Length, await page.Locator("[data-view='logit-lens'] td[data-stage]").CountAsync());
        // The grid is one tiled heatmap with a title per head.
        Assert.Equal(1, await page.Locator("[data-view='attention-grid'] g.hm").CountAsync());
        Assert.Equal(Enumerable.Range(0, 8).Select(h => $"head {h}"), await workbench.TextsAsync("[data-view='attention-grid'] .annotation-text"));
        Assert.True(await page.Locator("[data-view='attention-heatmap'] .modebar-btn[data-title*='png' i]").CountAsync() == 1,
            "Plotly's PNG export button is missing.");

        // Plotly's PNG export works on every plot: each one renders to a PNG image of its own size.
        var images = await page.EvaluateAsync<string[]>(@"async () => {
            const out = [];
            for (const el of document.querySelectorAll('.plot-view-chart.js-plotly-plot')) {
                const url = await Plotly.toImage(el, { format: 'png' });
                const image = new Image();
                await new Promise(done => { image.onload = done; image.src = url; });
                out.push(`${el.closest('[data-view]').dataset.view} ${url.slice(0, 22)} ${image.width}x${image.height}`);
            }
            return out;
        }");
        Assert.Equal(["attention-heatmap", "attention-grid", "router-distribution", "expert-usage", "residual-norm"],
            images.Select(i => i.Split(' ')[0]));
        Assert.All(images, i => Assert.Matches(@"^\S+ data:image/png;base64, [1-9]\d{2,}x[1-9]\d{2,}$", i));
        // The modebar's button downloads the chart as groklens-<view>.png.
        await page.Locator("[data-view='router-distribution']").HoverAsync();
        var download = await page.RunAndWaitForDownloadAsync(() =>
            page.Locator("[data-view='router-distribution'] .modebar-btn[data-title*='png' i]").ClickAsync());
        Assert.Equal("groklens-router-distribution.png", download.SuggestedFilename);
        var png = await File.ReadAllBytesAsync((await download.PathAsync())!);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png.Take(4));

        await SaveScreenshotsAsync(workbench);
        await CloseAsync(workbench);
    }

    [Fact]
    public async Task ClickingATokenMakesEveryViewFollowAndTheSoftCapSwitchChangesTheHeatmap()
    {
        var workbench = await OpenAsync();
        var page = workbench.Page;
        await workbench.RunAsync(Prompt);
        var labels = TokenLabels.Disambiguate(await workbench.ChipTextsAsync());
        int run = await workbench.RunNumberAsync();

        await page.Locator("[data-token-index='5']").ClickAsync();

        await page.WaitUntilAsync("() => document.querySelector(\"[data-token-index='5']\").getAttribute('aria-selected') == 'true'");
        await page.WaitUntilAsync($"() => document.querySelector(\"[data-view='router-distribution']\").dataset.version.startsWith('{run}-5-')");
        Assert.Contains($"“{labels[5]}”", string.Join(" ", await workbench.PlotTitleAsync("router-distribution")));
        Assert.Contains(labels[5], await workbench.TextOfAsync("[data-view='attention-lines']"));
        Assert.Equal("5", await page.Locator("[data-view='logit-lens'] td.selected").First.GetAttributeAsync("data-token"));
        // Headings of the expert path, the expert neurons and the next-token list name the selected token.
        var headings = await workbench.TextsAsync(".mud-typography-subtitle2");
        Assert.Equal(3, headings.Count(h => h.Contains($"“{labels[5]}”") && (h.StartsWith("Path") || h.StartsWith("Strongest") || h.StartsWith("After"))));

        // A router grid cell selects its layer and token together.
        await page.Locator("[data-view='router-grid'] td[data-layer='2'][data-token='3']").ClickAsync();
        await page.WaitUntilAsync($"() => document.querySelector(\"[data-view='router-distribution']\").dataset.version.startsWith('{run}-3-2-')");
        Assert.Contains("layer 2", string.Join(" ", await workbench.PlotTitleAsync("router-distribution")));
        await page.WaitUntilAsync($"() => document.querySelector(\"[data-view='attention-heatmap']\").dataset.version.startsWith('{run}-2-')");
        Assert.Contains("Layer 2", string.Join(" ", await workbench.PlotTitleAsync("attention-heatmap")));

        // A click on the all-heads grid opens that head (query row → selected token) in the large heatmap.
        var tiles = new HeadTiles(8, labels.Length);
        var (row, column) = tiles.Origin(5);
        await page.Locator("[data-view='attention-grid']").ScrollIntoViewIfNeededAsync();
        var plotArea = (await page.Locator("[data-view='attention-grid'] .nsewdrag").BoundingBoxAsync())!;
        float x = plotArea.X + (column + 2.5f) * plotArea.Width / tiles.Width, y = plotArea.Y + (row + 7.5f) * plotArea.Height / tiles.Height;
        await page.Mouse.MoveAsync(x, y, new() { Steps = 3 });   // Plotly reports a click on the point it is hovering
        await page.Locator("[data-view='attention-grid'] .hoverlayer .hovertext").WaitForAsync();
        // The hovered cell's value (sent to plotly.js as a base64 float32 array) is the server's value of that cell.
        var explore = fixture.Services.GetRequiredService<ExploreService>();
        using var model = await fixture.Services.GetRequiredService<GrokLens.Web.Models.ModelRegistry>().AcquireAsync(TestRepository.ModelName);
        var ids = explore.Tokenize(model.Model, Prompt);
        var expected = (await explore.AnalyseAsync(model, ids, ids.Count)).Attention(AttentionMode.Probabilities, 2, 5)[7][2];
        var hover = string.Join(" ", await workbench.TextsAsync("[data-view='attention-grid'] .hoverlayer .hovertext"));
        var shown = System.Text.RegularExpressions.Regex.Match(hover, @"probability: (-?\d+\.\d+)");
        Assert.True(shown.Success, hover);
        Assert.Contains($"query {labels[7]} → key {labels[2]}", hover.Replace("\u200B", "")); // the tile's tokens, not just a value
        Assert.Equal(expected, double.Parse(shown.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), tolerance: 1e-4);
        await page.Mouse.ClickAsync(x, y);
        await page.WaitUntilAsync($"() => document.querySelector(\"[data-view='attention-heatmap']\").dataset.version.startsWith('{run}-2-5-')");
        Assert.Equal("true", await page.Locator("[data-token-index='7']").GetAttributeAsync("aria-selected"));
        Assert.Contains("head 5", string.Join(" ", await workbench.PlotTitleAsync("attention-heatmap")));

        // Probabilities → raw scores before the 30·tanh cap: title and colour bar follow.
        await page.GetByText("Raw scores (before cap)").ClickAsync();
        await page.WaitUntilAsync("() => document.querySelector(\"[data-view='attention-heatmap']\").dataset.version.includes('RawScores')");
        Assert.Contains("raw score", string.Join(" ", await workbench.PlotTitleAsync("attention-heatmap")));
        Assert.Contains("raw score", string.Join(" ", await workbench.TextsAsync("[data-view='attention-heatmap'] .cbtitle")));
        await workbench.ScreenshotCardAsync("attention-heatmap", Path.Combine(fixture.ScreenshotFolder, "attention-raw-scores.png"));
        await CloseAsync(workbench);
    }

    [Fact]
    public async Task GenerationStreamsTokensIntoTheStripAndTheViewsCoverThem()
    {
        var workbench = await OpenAsync();
        var page = workbench.Page;
        await workbench.RunAsync(Prompt);
        int promptLength = (await workbench.ChipTextsAsync()).Length;
        int run = await workbench.RunNumberAsync();
        await workbench.SetNumberAsync("max-tokens", "12");
        var promptIds = await workbench.TokenIdsAsync();
        var registry = fixture.Services.GetRequiredService<GrokLens.Web.Models.ModelRegistry>();
        using var model = await registry.AcquireAsync(TestRepository.ModelName);
        // The page's sampling (temperature 0.8, top-p 0.95, seed 1), generated alone through the service.
        var expected = new List<int>();
        await foreach (var token in fixture.Services.GetRequiredService<ExploreService>().GenerateAsync(model, promptIds,
                           new GrokLens.Generation.SamplingOptions { MaxNewTokens = 12, Temperature = 0.8, TopP = 0.95, Seed = 1 }))
            expected.Add(token.Id);

        // The model is busy with another turn: the generation queues behind it, and the page shows its place.
        await using var turns = new HeldTurns(model);
        var turn = await turns.HoldAsync();
        await page.ClickAsync("#generate-button");
        await page.Locator("#queue-place[data-ahead='1']").WaitForAsync();
        Assert.Contains($"waiting for {TestRepository.ModelName}: 1 ahead in the queue", await workbench.TextOfAsync("#queue-place"));
        await page.Locator("#workbench .view-card").First.ScreenshotAsync(new() { Path = Path.Combine(fixture.ScreenshotFolder, "queue-place.png") });

        // Token by token: while the next step waits behind another held turn, the strip shows exactly the tokens so far.
        for (int k = 1; k <= Math.Min(3, expected.Count); k++)
        {
            var next = turns.Queue();          // behind the generation's step k
            await turn.ReleaseAsync();
            await next.Started.WaitAsync(HeldTurns.Patience); // step k is done and step k + 1 waits
            await page.WaitUntilAsync("n => document.querySelectorAll('.token-chip.generated').length == n", k);
            turn = next;
        }
        await turn.ReleaseAsync();
        await workbench.WaitForViewsAsync(run + 1);

        int total = (await workbench.ChipTextsAsync()).Length;
        int[] shown = await workbench.TokenIdsAsync();
        Assert.Equal(promptIds.Concat(expected), shown);
        Assert.Equal(expected.Count, await page.Locator(".token-chip.generated").CountAsync());
        Assert.Equal(4 * total, await page.Locator("[data-view='router-grid'] td[data-layer]").CountAsync());
        Assert.Equal(total, await page.Locator("[data-view='attention-heatmap'] .xtick text").CountAsync());
        await workbench.ScreenshotCardAsync("router-grid", Path.Combine(fixture.ScreenshotFolder, "generated-router.png"));
        await CloseAsync(workbench);
    }

    [Fact]
    public async Task BadPromptsShowAnErrorAndTheAppKeepsWorking()
    {
        var workbench = await OpenAsync();
        var page = workbench.Page;

        await workbench.SetPromptAsync("   ");
        await page.ClickAsync("#run-button");
        await page.Locator(".mud-snackbar").GetByText("The prompt is empty: type some text first.").WaitForAsync();

        await workbench.SetPromptAsync(string.Join(" ", Enumerable.Repeat("the cat sat", 300)));
        await page.ClickAsync("#run-button");
        await page.Locator(".mud-snackbar").GetByText("takes at most 512 tokens").WaitForAsync();
        await page.Locator(".mud-snackbar").Last.ScreenshotAsync(new() { Path = Path.Combine(fixture.ScreenshotFolder, "error-snackbar.png") });
        Assert.Equal(0, await page.Locator("[data-view='router-grid']").CountAsync());

        await workbench.RunAsync("A short prompt that works.");
        Assert.True(await page.Locator("[data-view='router-grid'] td[data-layer]").CountAsync() > 0);
        await CloseAsync(workbench);
    }

    [Fact]
    public async Task TwoBrowserContextsWorkAtOnceWithTheirOwnState()
    {
        var first = await OpenAsync();
        var second = await OpenAsync();

        await Task.WhenAll(first.RunAsync("Rivers run to the sea."), second.RunAsync("Seven owls watched the old barn at night."));

        var firstChips = await first.ChipTextsAsync();
        var secondChips = await second.ChipTextsAsync();
        Assert.NotEqual(firstChips, secondChips);
        Assert.Equal(firstChips.Length * 4, await first.Page.Locator("[data-view='router-grid'] td[data-layer]").CountAsync());
        Assert.Equal(secondChips.Length * 4, await second.Page.Locator("[data-view='router-grid'] td[data-layer]").CountAsync());
        await CloseAsync(first);
        await CloseAsync(second);
    }

    [Fact]
    public async Task RunToDrawnTimeFor128Tokens()
    {
        var prompt = await PromptOfTokensAsync(128);
        var workbench = await OpenAsync();
        // Two warm-up runs (JIT, plotly.js's first draws), then the measured ones.
        var warmUp = new List<TimeSpan>();
        for (int i = 0; i < 2; i++) warmUp.Add(await workbench.RunAsync(prompt));
        var times = new List<(TimeSpan Total, string Status)>();
        for (int i = 0; i < 7; i++) times.Add((await workbench.RunAsync(prompt), await workbench.TextOfAsync("#status")));
        var sorted = times.Select(t => t.Total.TotalMilliseconds).Order().ToArray();
        var report = "Run → every view drawn, 128-token prompt on grok-tiny, headless Chromium: " +
                     $"median {sorted[sorted.Length / 2]:0} ms, min {sorted[0]:0} ms, max {sorted[^1]:0} ms over {sorted.Length} runs " +
                     $"(warm-up {string.Join(", ", warmUp.Select(t => $"{t.TotalMilliseconds:0}"))} ms); each: " +
                     string.Join("; ", times.Select(t => $"{t.Total.TotalMilliseconds:0} ms [{t.Status}]"));
        output.WriteLine(report);
        Console.WriteLine(report);
        Assert.Equal(128, (await workbench.ChipTextsAsync()).Length);
        var page = workbench.Page;

        // Sized to the sequence: every token's label on the attention heatmap's axes, 9 px text on rows of at least 11 px.
        var heatmap = page.Locator("[data-view='attention-heatmap']");
        Assert.Equal(128, await heatmap.Locator(".ytick text").CountAsync());
        Assert.Equal(128, await heatmap.Locator(".xtick text").CountAsync());
        var rows = (await heatmap.Locator(".nsewdrag").First.BoundingBoxAsync())!;
        Assert.True(rows.Height >= 128 * 11 - 1 && rows.Width >= 128 * 11 - 1, $"plot area {rows.Width}×{rows.Height}");
        Assert.Equal("9px", await heatmap.Locator(".ytick text").First.EvaluateAsync<string>("t => t.style.fontSize"));

        // The selected token is marked on every plot with a token axis.
        await page.Locator("[data-token-index='40']").ClickAsync();
        foreach (var view in new[] { "attention-heatmap", "attention-grid", "residual-norm" })
        {
            await page.WaitUntilAsync("v => document.querySelector(`[data-view='${v}']`).dataset.version.endsWith('-40')", view);
            Assert.True(await page.Locator($"[data-view='{view}'] .shapelayer path").CountAsync() >= 1, view);
        }
        await workbench.ScreenshotCardAsync("attention-heatmap", Path.Combine(fixture.ScreenshotFolder, "attention-128-tokens.png"));

        // Row labels stay in view while the router grid scrolls sideways.
        var grid = page.Locator("[data-view='router-grid']");
        await grid.EvaluateAsync("g => { const s = g.closest('.scroll-x') ?? g; s.scrollLeft = 900; }");
        await page.WaitUntilAsync("() => (document.querySelector(\"[data-view='router-grid']\").closest('.scroll-x') ?? document.querySelector(\"[data-view='router-grid']\")).scrollLeft > 0");
        var scroller = (await grid.EvaluateAsync<double>("g => (g.closest('.scroll-x') ?? g).getBoundingClientRect().left"));
        var label = (await grid.Locator("th[scope=row]").First.BoundingBoxAsync())!;
        Assert.InRange(label.X, scroller - 1, scroller + 2);
        await grid.ScreenshotAsync(new() { Path = Path.Combine(fixture.ScreenshotFolder, "router-grid-scrolled.png") });
        await workbench.Page.FullPageAsync(Path.Combine(fixture.ScreenshotFolder, "workbench-128-tokens.png"));
        await CloseAsync(workbench);
    }

    /// <summary>A prompt of exactly <paramref name="count"/> tokens, cut from natural text with the app's own tokenizer.</summary>
    private async Task<string> PromptOfTokensAsync(int count)
    {
        const string Text = "Once upon a time there was a little river that ran through a green valley, past a mill and an old stone bridge. " +
            "Children came to the bank every morning to watch the fish and to throw small boats of paper into the water. ";
        var explore = fixture.Services.GetRequiredService<ExploreService>();
        using var model = await fixture.Services.GetRequiredService<GrokLens.Web.Models.ModelRegistry>().AcquireAsync(TestRepository.ModelName);
        var words = string.Concat(Enumerable.Repeat(Text, 6)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // A word of several tokens can step over the count: then start one word later.
        for (int start = 0; start < 8; start++)
            for (int n = 1; start + n <= words.Length; n++)
            {
                var candidate = string.Join(' ', words.Skip(start).Take(n));
                int length = explore.Tokenize(model.Model, candidate).Count;
                if (length == count) return candidate;
                if (length > count) break;
            }
        throw new InvalidOperationException($"Could not cut a {count}-token prompt from the sample text.");
    }

    private async Task SaveScreenshotsAsync(WorkbenchPage workbench)
    {
        foreach (var view in new[] { "attention-heatmap", "router-grid", "logit-lens", "residual-norm", "model-panel" })
            await workbench.ScreenshotCardAsync(view, Path.Combine(fixture.ScreenshotFolder, $"{view}.png"));
        await workbench.Page.FullPageAsync(Path.Combine(fixture.ScreenshotFolder, "workbench.png"));
    }
}
