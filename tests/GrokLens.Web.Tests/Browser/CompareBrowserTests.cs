using System.Globalization;
using GrokLens.Analysis;
using GrokLens.Engine;
using GrokLens.Hooks;
using GrokLens.Interventions;
using GrokLens.Web.Services;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace GrokLens.Web.Tests.Browser;

/// <summary>The Compare page in real headless Chromium: build by clicking, run both, patching sweep, save and reload.</summary>
[Collection(BrowserCollection.Name)]
public sealed class CompareBrowserTests(BrowserFixture fixture)
{
    private const string Prompt = "the cat sat on the mat and the dog sat on the";
    private const string Clean = "the cat sat on the mat";
    private const string Corrupted = "the dog sat on the mat";


    private static async Task AddAsync(IPage page, string menuText)
    {
        await page.ClickAsync("#add-intervention");
        await page.GetByText(menuText, new PageGetByTextOptions { Exact = true }).ClickAsync();
    }

    private static async Task FillAsync(IPage page, int index, string field, string value)
    {
        var input = page.Locator($".intervention[data-index='{index}'] .field-{field} input");
        await input.FillAsync(value);
        await input.PressAsync("Tab");
    }

    [Fact]
    public async Task ExperimentBuiltByClickingMarksExactlyTheChangedRoutingAndSurvivesSaveAndReload()
    {
        var compare = await ComparePage.OpenAsync(fixture);
        var page = compare.Page;
        await page.Locator("textarea#compare-prompt").FillAsync(Prompt);

        // Ban the expert layer 0 gives the last token first: that token's routing must change.
        var ids = await fixture.WithModelAsync(model => model.Encode(Prompt));
        int banned = await fixture.WithModelAsync(model =>
        {
            using var run = model.Run(ids, RunOptions.CaptureOnly(HookPoints.Layer(0, HookPoints.TopKIndices)));
            return (int)run.Cache[HookPoints.Layer(0, HookPoints.TopKIndices)][-1, 0].item<long>();
        });
        await AddAsync(page, "Ablate heads");
        await FillAsync(page, 0, "layers", "1");
        await FillAsync(page, 0, "heads", "2");
        await AddAsync(page, "Ban expert");
        await FillAsync(page, 1, "expert", $"{banned}");
        string[] descriptions = ["zero-ablate head 2 of layer 1 at all positions", $"ban expert {banned} of layer 0 (next-best takes its slot) at all positions"];
        // The server re-renders after the field's change event: wait for it, then compare exactly.
        await page.WaitUntilAsync("t => [...document.querySelectorAll('.intervention-description')].some(d => d.textContent.trim() == t)", descriptions[1]);
        Assert.Equal(descriptions, (await page.Locator(".intervention-description").AllInnerTextsAsync()).Select(t => t.Trim()));

        // A bad target is explained next to its intervention and Run is refused until it is fixed.
        await FillAsync(page, 1, "layers", "9");
        Assert.Contains("layer 9 does not exist", await page.Locator(".intervention[data-index='1'] .intervention-error").InnerTextAsync());
        Assert.True(await page.Locator("#compare-run").IsDisabledAsync());
        await FillAsync(page, 1, "layers", "0");

        await compare.ClickAndWaitAsync("#compare-run");
        var expected = await fixture.WithModelAsync(model => RunComparison.Compare(model, ids, [new AblateHeads([1], [2]), new BanExpert(0, banned)],
            new ComparisonOptions { NearTieThreshold = WorkbenchOptions.DefaultNearTieThreshold, Attention = false }));
        var changed = await compare.ChangedCellsAsync();
        Assert.Contains((0, ids.Count - 1), changed);
        Assert.Equal(expected.Routing!.Changes.Select(c => (c.Layer, c.PositionA)).ToHashSet(), changed);
        var summary = await page.Locator("#next-token-summary").InnerTextAsync();
        Assert.Contains($"KL(baseline‖modified) = {expected.NextToken!.KlAToB.ToString("0.####", CultureInfo.CurrentCulture)} nats", summary);
        Assert.Equal(expected.NextToken!.TopB[0].Text, (await page.Locator("#top-modified tbody tr td").First.InnerTextAsync()).Trim('“', '”', ' '));
        await page.FullPageAsync(Path.Combine(fixture.ScreenshotFolder, "compare-page.png"));
        await page.Locator("#compare-result").ScreenshotAsync(new LocatorScreenshotOptions { Path = Path.Combine(fixture.ScreenshotFolder, "compare-result.png") });

        // Save on the server; the address then names the experiment, so a reload brings it back.
        string name = $"browser-test-{Guid.NewGuid():N}"[..24];
        await page.Locator("input#save-name").FillAsync(name);
        await page.ClickAsync("#save-button");
        await page.WaitUntilAsync("name => location.search.includes('saved=' + name)", name);
        await page.ReloadAsync();
        await compare.WaitInteractiveAsync();
        Assert.Equal(2, await page.Locator(".intervention").CountAsync());
        await compare.ClickAndWaitAsync("#compare-run");
        Assert.Equal(changed, await compare.ChangedCellsAsync());
        Assert.Equal(summary, await page.Locator("#next-token-summary").InnerTextAsync());
        File.Delete(fixture.Services.GetRequiredService<ExperimentStore>().PathOf(name));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task PatchingSweepShowsRecoveryAndAClickedCellIsComparedSideBySide()
    {
        var cleanIds = await fixture.WithModelAsync(model => model.Encode(Clean));
        var corruptedIds = await fixture.WithModelAsync(model => model.Encode(Corrupted));
        Assert.Equal(cleanIds.Count, corruptedIds.Count);
        int differing = Enumerable.Range(0, cleanIds.Count).Single(i => cleanIds[i] != corruptedIds[i]);
        int target = await fixture.WithModelAsync(model =>
        {
            using var run = model.Run(cleanIds);
            return (int)run.Logits[-1].argmax().item<long>();
        });

        var compare = await ComparePage.OpenAsync(fixture);
        var page = compare.Page;
        await page.Locator("textarea#compare-prompt").FillAsync(Corrupted);
        await page.Locator("textarea#source-prompt").FillAsync(Clean);
        await page.Locator("input#target-token").FillAsync($"#{target}");
        await page.ClickAsync("#sweep-run");
        var cells = page.Locator("[data-view='sweep-positions'] td[data-layer]");
        await cells.First.WaitForAsync();
        Assert.Equal(4 * cleanIds.Count, await cells.CountAsync());
        // Patching the clean embedding at the only differing position makes the input the clean one: full recovery.
        var cell = page.Locator($"[data-view='sweep-positions'] td[data-layer='0'][data-column='{differing}']");
        Assert.Equal(1.0, double.Parse(await cell.GetAttributeAsync("data-recovery") ?? "", CultureInfo.InvariantCulture), 3);
        // The metric names the token by its text, not its id.
        var targetText = await fixture.WithModelAsync(model => model.Tokenizer!.DisplayPiece(target));
        Assert.Equal($"p({targetText}) at the last position", (await page.Locator("#sweep-metric").InnerTextAsync()).Trim());
        await page.Locator("#sweep-panel").ScreenshotAsync(new LocatorScreenshotOptions { Path = Path.Combine(fixture.ScreenshotFolder, "compare-sweep.png") });

        await cell.ClickAsync();
        await compare.WaitForRunAsync(1);
        Assert.Equal($"patch blocks.0.hook_resid_pre from the source run at position {differing}",
            (await page.Locator(".intervention-description").InnerTextAsync()).Trim());
        var top = (await page.Locator("#top-modified tbody tr td").First.InnerTextAsync()).Trim();
        Assert.Equal(await fixture.WithModelAsync(model => $"“{model.Tokenizer!.DisplayPiece(target)}”"), top);
        await page.FullPageAsync(Path.Combine(fixture.ScreenshotFolder, "compare-two-prompt.png"));
        await page.Context.CloseAsync();
    }
}
