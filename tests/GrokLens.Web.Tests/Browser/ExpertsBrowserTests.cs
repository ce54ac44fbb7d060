using System.Globalization;
using System.Text;
using GrokLens.Analysis.Experts;
using GrokLens.Engine;
using GrokLens.Interventions;
using GrokLens.Generation;
using GrokLens.Web.Experts;
using GrokLens.Web.Services;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace GrokLens.Web.Tests.Browser;

/// <summary>The Experts page in real headless Chromium on grok-tiny (8 experts) and on an opened 64 × 64 analysis dump.</summary>
[Collection(BrowserCollection.Name)]
public sealed class ExpertsBrowserTests(BrowserFixture fixture)
{

    /// <summary>The page's default corpus, as the library builds it (the reference the page's numbers are checked against).</summary>
    private async Task<ExpertCorpus> DefaultCorpusAsync()
    {
        var request = new ExpertsSession().Request();
        return await fixture.WithModelAsync(model => request.Build(model, null));
    }

    [Fact]
    public async Task RunClickAnExpertBanItReadItsLensSteerAndExportAgreeWithTheLibrary()
    {
        var experts = await ExpertsPage.OpenAsync(fixture);
        var page = experts.Page;
        await experts.ClickAndWaitAsync("#experts-run", ExpertsPage.Plots);
        Assert.StartsWith("Done: 6 prompts", await experts.StatusAsync());

        // The reference: one library pass over the whole corpus (the page runs one queued pass per prompt and sums them).
        var corpus = await DefaultCorpusAsync();
        var tallies = await fixture.WithModelAsync(model => ExpertPass.Run(model, corpus, ExpertsService.PassOptions));
        var load = ExpertLoadResult.From(tallies, 2);

        // A click on the load heatmap selects that expert everywhere: its card shows its numbers per subset.
        await experts.ClickCellAsync("expert-load", 2, 5, layers: 4, experts: 8);
        var shares = await page.Locator("#expert-load-table tbody tr").EvaluateAllAsync<string[][]>(
            "rows => rows.map(r => [...r.cells].map(c => c.textContent.trim()))");
        Assert.Equal(load.Subsets.Select(s => s.Subset), shares.Select(r => r[0]));
        foreach (var (subset, row) in load.Subsets.Zip(shares))
            Assert.Equal(subset.Layers[2].Shares[5].ToString("0.0000"), row[1]);
        var routing = tallies.Total.Routing;
        Assert.Equal(routing.Rate(2, 5).ToString("0.0000"), (await page.Locator("#expert-causal [data-cell='use-rate']").InnerTextAsync()).Trim());
        Assert.Equal((routing.GateSum[2][5] / routing.Tokens).ToString("0.0000"),
            (await page.Locator("#expert-causal [data-cell='gate-mass']").InnerTextAsync()).Trim());
        // The plots follow the selection: the histogram shows layer 2, the co-activation map layer 2.
        await page.WaitForFunctionAsync("() => document.querySelector(\"[data-view='load-histogram'] .gtitle\")?.textContent.startsWith('Layer 2')");
        Assert.Contains("layer 2", string.Join(" ", await experts.TextsAsync("[data-view='coactivation'] .gtitle")));
        Assert.Equal(["expert", "layer"], await experts.TextsAsync("[data-view='expert-load'] .g-xtitle, [data-view='expert-load'] .g-ytitle"));
        Assert.True(await page.Locator("[data-view='expert-load'] .colorbar").CountAsync() > 0, "the load heatmap has no colour bar");

        // Its causal effect: banning it over the corpus, next to the observational numbers; the library's audit agrees.
        await experts.ClickAndWaitAsync("#ban-selected", "audit-loss-change");
        var audit = await fixture.WithModelAsync(model => CausalAudit.Run(model, corpus, new CausalAuditOptions { Layers = [2], Experts = [5] }));
        Assert.Equal($"{audit.Experts[0].LossChange.ToString("+0.0000;-0.0000")} nats/token",
            (await page.Locator("#expert-causal [data-cell='loss-change']").InnerTextAsync()).Trim());

        // Its logit lens on a prompt: the rows are exactly the positions where layer 2 chose it, with the library's top tokens.
        await page.Locator("input#lens-prompt").FillAsync("the cat sat on the mat and the dog sat on the log");
        await page.Locator("#lens-run[data-prompt='the cat sat on the mat and the dog sat on the log']").WaitForAsync();
        await experts.ClickAndWaitAsync("#lens-run");
        var lensIds = await fixture.WithModelAsync(model => model.Encode("the cat sat on the mat and the dog sat on the log"));
        var lens = await fixture.WithModelAsync(model => ExpertLens.ForPrompt((LoadedModel)model, lensIds, 5));
        var chosenAt = lens.Layers[2].Positions.Where(p => p.Slots.Any(s => s.Expert == 5)).ToList();
        Assert.Equal(chosenAt.Select(p => $"{p.Position}"), await page.Locator("#expert-lens .lens-row").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.position)"));
        if (chosenAt.Count > 0)
        {
            var top = chosenAt[0].Slots.First(s => s.Expert == 5).Top[0];
            Assert.Contains($"{top.Piece} {top.Probability:0.00}", await page.Locator("#expert-lens .lens-row").First.InnerTextAsync());
        }

        // Steering: the generation with the top-scored experts biased equals the library's.
        await page.Locator("input#steer-prompt").FillAsync("Once upon a time");
        await page.Locator("input#steer-tokens").FillAsync("12");
        await page.Locator("input#steer-tokens").PressAsync("Tab");
        await page.Locator("#steer-run[data-prompt='Once upon a time'][data-tokens='12']").WaitForAsync();
        await experts.ClickAndWaitAsync("#steer-run");
        var scores = SteeringScoresResult.From("stories", tallies.For("stories").Routing, "verse", tallies.For("verse").Routing);
        var steerIds = await fixture.WithModelAsync(model => model.Encode("Once upon a time"));
        var expected = await fixture.WithModelAsync(model => ExpertSteering.Compare(model, steerIds, scores.Steer(4, 4),
            new SamplingOptions { MaxNewTokens = 12, Seed = 1 }));
        Assert.Equal(expected.SteeredText, await page.Locator("#steer-steered").TextContentAsync());
        Assert.Equal(expected.BaselineText, await page.Locator("#steer-baseline").TextContentAsync());
        Assert.Contains("router_bias", await page.Locator("#steer-json").InnerTextAsync());

        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(fixture.ScreenshotFolder, "experts-page.png"), FullPage = true });
        await page.Locator("#expert-detail").ScreenshotAsync(new LocatorScreenshotOptions { Path = Path.Combine(fixture.ScreenshotFolder, "experts-detail.png") });

        // Any table as CSV: the load table equals the library's.
        var csv = Encoding.UTF8.GetString(await experts.DownloadAsync("#csv-download"));
        Assert.Equal(load.Tables()[0].ToCsv(), csv);

        // The whole analysis as a dump, reopened: the same numbers come back without running anything.
        var dump = await experts.DownloadAsync("#dump-download");
        var reopened = ExpertAnalysisDump.Read(GrokLens.Dumps.DumpReader.OpenZip(new MemoryStream(dump)));
        Assert.Equal(ExpertJson.Serialize(load), ExpertJson.Serialize(ExpertLoadResult.From(reopened, 2)));
        var path = Path.Combine(Path.GetTempPath(), $"experts-{Guid.NewGuid():N}.zip");
        await File.WriteAllBytesAsync(path, dump);
        try
        {
            int before = await experts.VersionAsync();
            await page.Locator("#dump-upload").SetInputFilesAsync(path);
            await page.WaitForFunctionAsync("name => document.querySelector('#analysis-summary h6')?.textContent.trim() === name", Path.GetFileName(path));
            await experts.WaitIdleAsync(before + 1, "expert-load");
            Assert.Equal(csv, Encoding.UTF8.GetString(await experts.DownloadAsync("#csv-download")));
        }
        finally
        {
            File.Delete(path);
        }
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task ALongRunShowsProgressAndCancelKeepsThePreviousAnalysis()
    {
        var experts = await ExpertsPage.OpenAsync(fixture);
        var page = experts.Page;
        await experts.ClickAndWaitAsync("#experts-run", "expert-load");
        int version = await experts.VersionAsync();
        // 900 pasted lines (58 KB in one circuit message, over SignalR's default 32 KB): 906 runs in all.
        var lines = string.Join("\n", Enumerable.Range(0, 900).Select(i => $"line {i} of a long set of prompts about the sea and the sky"));
        await page.ClickAsync("#add-prompt-set");
        await page.Locator(".prompt-set[data-index='2'] .set-text textarea").First.FillAsync(lines);
        // The server has the text once it counts the prompts.
        await page.WaitForFunctionAsync("() => document.querySelector(\".prompt-set[data-index='2'] .set-count\")?.textContent.trim() === '900 prompts'");
        await page.ClickAsync("#experts-run");
        await page.WaitForFunctionAsync("() => /^[1-9]\\d*\\/906 runs/.test(document.querySelector('#experts-progress-text')?.textContent ?? '')");
        await page.Locator("#run-panel").ScreenshotAsync(new LocatorScreenshotOptions { Path = Path.Combine(fixture.ScreenshotFolder, "experts-progress.png") });

        // Each prompt is its own turn in the model's queue: another session's Explore run finishes while the analysis goes on.
        var other = new WorkbenchPage(await fixture.OpenWorkbenchAsync());
        await other.RunAsync("the cat sat on the mat");
        Assert.Equal("true", await page.Locator("#experts").GetAttributeAsync("data-busy"));
        await other.Page.Context.CloseAsync();
        await page.ClickAsync("#experts-cancel");
        await page.WaitForFunctionAsync("() => document.querySelector('#experts').dataset.busy === 'false'");
        Assert.Contains("cancelled", await experts.StatusAsync());
        // The analysis shown is still the first one (6 prompts), whole.
        Assert.Contains("6 prompts", await page.Locator("#analysis-shape").InnerTextAsync());
        Assert.True(await experts.VersionAsync() > version);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task ASixtyFourBySixtyFourAnalysisDumpOpensReadablyAndItsExpertsAreSelectable()
    {
        // A random model of 64 layers × 64 experts (token ids only), one pass over three small subsets, saved as a dump.
        var config = new GrokLens.Model.GrokConfig
        {
            VocabSize = 97, HiddenSize = 16, NumLayers = 64, NumHeads = 2, NumKvHeads = 1, HeadDim = 8, NumExperts = 64, TopK = 2, ExpertSize = 8,
            MaxPositions = 32, EmbeddingMultiplier = 4, AttnOutputMultiplier = 1 / Math.Sqrt(8),
        };
        using var model = new LoadedModel("random-64x64", new GrokLens.Model.GrokModel(config, new GrokLens.Loading.RandomWeightSource(3)),
            tokenizer: null, source: "random", format: "random");
        var random = new Random(5);
        IReadOnlyList<int> Prompt() => Enumerable.Range(0, 24).Select(_ => random.Next(97)).ToArray();
        var corpus = new ExpertCorpus(new[] { "alpha", "beta", "gamma" }.Select(n => new PromptSubset(n, Enumerable.Range(0, 4).Select(_ => Prompt()).ToList())).ToList());
        var tallies = ExpertPass.Run(model, corpus, ExpertsService.PassOptions);
        var path = Path.Combine(Path.GetTempPath(), $"experts-64x64-{Guid.NewGuid():N}.zip");
        ExpertAnalysisDump.WriteZipFile(path, model, corpus, tallies);
        try
        {
            var experts = await ExpertsPage.OpenAsync(fixture, 1700, 1300);
            var page = experts.Page;
            await page.Locator("#dump-upload").SetInputFilesAsync(path);
            await experts.WaitIdleAsync(1, ExpertsPage.Plots);
            Assert.Contains("64 layers × 64 experts", await page.Locator("#analysis-shape").InnerTextAsync());
            // grok-tiny is not the model of this dump: measurements say so instead of running.
            Assert.True(await page.Locator("#cannot-measure").IsVisibleAsync());
            Assert.True(await page.Locator("#ban-selected").IsDisabledAsync());

            await experts.ClickCellAsync("expert-load", 40, 50, layers: 64, experts: 64);
            var load = ExpertLoadResult.From(tallies, 2);
            var shares = await page.Locator("#expert-load-table tbody tr td:nth-child(2)").AllInnerTextsAsync();
            Assert.Equal(load.Subsets.Select(s => s.Layers[40].Shares[50].ToString("0.0000")), shares.Select(s => s.Trim()));
            // The hover text names the cell and its value, so 4,096 cells stay readable one at a time.
            var hover = string.Join(" ", await experts.TextsAsync("[data-view='expert-load'] .hoverlayer .hovertext"));
            Assert.Contains("layer 40, expert 50", hover);
            await page.WaitForFunctionAsync("() => document.querySelector(\"[data-view='coactivation'] .gtitle\")?.textContent.includes('layer 40')");
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(fixture.ScreenshotFolder, "experts-64x64.png"), FullPage = true });
            await page.Context.CloseAsync();
        }
        finally
        {
            File.Delete(path);
        }
    }
}
