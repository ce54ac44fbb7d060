using GrokLens.Dumps;
using GrokLens.Engine;
using GrokLens.Hooks;
using GrokLens.Web.Services;
using GrokLens.Web.Tests.Browser;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace GrokLens.Web.Tests.Hostile;

/// <summary>
/// Hostile input in the real browser: the Content-Security-Policy lets everything work, NaN values are gaps with their
/// count, a huge prompt is a message (the connection stays), brace globs download, and a server error is a plain page.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class HostileBrowserTests(BrowserFixture fixture)
{
    private string Screenshot(string name) => Path.Combine(fixture.ScreenshotFolder, name);

    /// <summary>A page whose Content-Security-Policy violations and script errors are collected from the first byte on.</summary>
    private async Task<(WorkbenchPage Workbench, List<string> Problems)> OpenWatchedAsync()
    {
        var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = 1600, Height = 1000 }, AcceptDownloads = true,
        });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(150_000);
        var problems = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase) || message.Text.Contains("unsafe-eval"))
                lock (problems) problems.Add("console: " + message.Text);
        };
        page.PageError += (_, error) => { lock (problems) problems.Add("page error: " + error); };
        await page.AddInitScriptAsync("""
            window.__cspViolations = [];
            document.addEventListener('securitypolicyviolation', e =>
                window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`));
            """);
        await page.GotoAsync(fixture.BaseAddress + "/");
        await BrowserFixture.WaitForCircuitAsync(page);
        return (new WorkbenchPage(page), problems);
    }

    private static async Task<string[]> ViolationsAsync(IPage page) => await page.EvaluateAsync<string[]>("() => window.__cspViolations");

    [Fact]
    public async Task TheContentSecurityPolicyLetsBlazorMudBlazorAndPlotlyWork()
    {
        var (workbench, problems) = await OpenWatchedAsync();
        var page = workbench.Page;
        try
        {
            await workbench.RunAsync("The cat sat on the mat because it was tired.");
            // Plotly's own PNG export draws through a canvas, data: and blob: URLs.
            var plot = page.Locator("[data-view='attention-heatmap']");
            await plot.HoverAsync();
            var download = await page.RunAndWaitForDownloadAsync(() => plot.Locator(".modebar-btn[data-title*='png' i]").ClickAsync());
            Assert.Null(await download.FailureAsync());
            Assert.StartsWith("data:image/png;base64,", await page.EvaluateAsync<string>(
                "async () => await Plotly.toImage(document.querySelector(\"[data-view='residual-norm'] .plot-view-chart\"), { format: 'png' })"));
            // MudBlazor's popovers and dialogs, and the Compare page.
            await page.ClickAsync("#download-dump-button");
            await page.Locator("#dump-hooks-status").GetByText("hooks selected").WaitForAsync();
            await page.ClickAsync("#download-dump-close");
            await page.ClickAsync("a[href='/compare']");
            await page.Locator("#compare-prompt").WaitForAsync();

            Assert.Empty(await ViolationsAsync(page));
            lock (problems) Assert.Empty(problems);

            // The policy is in force, and the watch above would have seen a violation: an inline script is refused.
            await page.EvaluateAsync("() => { const s = document.createElement('script'); s.textContent = 'window.__inline = 1'; document.body.appendChild(s); }");
            await page.WaitForFunctionAsync("() => window.__cspViolations.some(v => v.startsWith('script-src'))");
            Assert.Null(await page.EvaluateAsync<int?>("() => window.__inline ?? null"));
        }
        finally
        {
            await page.Context.CloseAsync();
        }
    }

    /// <summary>A dump of a run whose attention, routing and expert values include NaN and ±∞ (as an overflowing model makes).</summary>
    private async Task<string> NonFiniteDumpAsync()
    {
        var zip = Path.Combine(Path.GetTempPath(), $"groklens-nan-{Guid.NewGuid():N}.zip");
        await fixture.WithModelAsync(model =>
        {
            var ids = model.Encode("The cat sat on the mat because it was tired.");
            using var run = model.Run(ids, RunOptions.CaptureOnly("*"));
            var pattern = run.Cache[HookPoints.Layer(0, HookPoints.Pattern)];
            for (int q = 2; q < 6; q++) pattern[0, q, 0] = float.NaN; // a column of head 0: a vertical gap
            pattern[0, 8, 3] = float.PositiveInfinity;
            run.Cache[HookPoints.Layer(1, HookPoints.RouterProbs)][2, 1] = float.NaN;
            run.Cache[HookPoints.Layer(0, HookPoints.ResidPost)][4, 7] = float.NegativeInfinity;
            DumpWriter.WriteZipFile(zip, model, [DumpWriter.FromRun(model, run)]);
            return 0;
        });
        return zip;
    }

    [Fact]
    public async Task NonFiniteValuesAreDrawnAsGapsAndCountedAndTheSessionGoesOn()
    {
        var zip = await NonFiniteDumpAsync();
        var (workbench, problems) = await OpenWatchedAsync();
        var page = workbench.Page;
        try
        {
            int run = await workbench.RunNumberAsync();
            await page.ClickAsync("#open-dump-button");
            await page.Locator("#dump-upload").SetInputFilesAsync(zip);
            await workbench.WaitForViewsAsync(run + 1); // every plot drawn: the circuit survived the NaN

            var attention = page.Locator("[data-view-nonfinite='Attention']");
            Assert.Equal("5", await attention.GetAttributeAsync("data-count"));
            Assert.Contains("Attention: 5 values are NaN or ±∞", await attention.InnerTextAsync());
            Assert.Equal("1", await page.Locator("[data-view-nonfinite='Router and experts']").GetAttributeAsync("data-count"));
            Assert.Equal("1", await page.Locator("[data-view-nonfinite='Activations']").GetAttributeAsync("data-count"));
            Assert.Equal("1", await page.Locator("[data-view-nonfinite='Logit lens']").GetAttributeAsync("data-count"));

            // The gap: plotly.js draws no number for the NaN cells (query 2…5, key 0) and numbers beside them.
            var z = await page.EvaluateAsync<double?[]>("""
                () => {
                    const z = document.querySelector("[data-view='attention-heatmap'] .plot-view-chart").calcdata[0][0].z;
                    return [z[3][0], z[3][1], z[1][0]].map(v => typeof v === 'number' && !Number.isNaN(v) ? v : null);
                }
                """);
            Assert.Null(z[0]);
            Assert.NotNull(z[1]);
            Assert.NotNull(z[2]);
            await attention.Locator("xpath=following-sibling::*[1]").ScreenshotAsync(new() { Path = Screenshot("nonfinite-attention.png") });
            await page.Locator("[data-view-nonfinite='Attention']").ScreenshotAsync(new() { Path = Screenshot("nonfinite-warning.png") });

            // The session goes on: another token selected, then a live run.
            await page.Locator("[data-token-index='3']").ClickAsync();
            await workbench.RunAsync("A prompt after the NaN dump.");
            Assert.Equal(0, await page.Locator("[data-view-nonfinite]").CountAsync());
            lock (problems) Assert.Empty(problems);
        }
        finally
        {
            File.Delete(zip);
            await page.Context.CloseAsync();
        }
    }

    [Fact]
    public async Task AHugePromptGetsAMessageAndTheConnectionStays()
    {
        var (workbench, problems) = await OpenWatchedAsync();
        var page = workbench.Page;
        try
        {
            // 20,000 characters with accents and dashes: over 32 KB as the hub message that carries it.
            var paste = string.Concat(Enumerable.Repeat("Café — naïve façade, déjà vu. ", 700))[..20_000];
            await workbench.SetPromptAsync(paste);
            await page.ClickAsync("#run-button");
            var message = page.Locator(".mud-snackbar").GetByText("tokens long; model");
            await message.WaitForAsync();
            Assert.Matches(@"The prompt is [\d,]+ tokens long; model '[^']+' takes at most \d+ tokens\.", await message.InnerTextAsync());
            await page.Locator(".mud-snackbar").First.ScreenshotAsync(new() { Path = Screenshot("huge-prompt-message.png") });

            // Over the text box's limit: cut at the limit, and the box says so.
            await workbench.SetPromptAsync(new string('x', PromptLimits.MaxCharacters + 5_000));
            Assert.Equal(PromptLimits.MaxCharacters, await workbench.PromptBox.EvaluateAsync<int>("t => t.value.length"));
            await page.GetByText("The prompt reached the limit of 65,536 characters: longer text was cut.").WaitForAsync();
            await page.Locator("#workbench .view-card").First.ScreenshotAsync(new() { Path = Screenshot("prompt-limit.png") });

            // Still connected: a normal prompt runs.
            await workbench.RunAsync("A short prompt after the long one.");
            Assert.Equal(0, await page.Locator("#components-reconnect-modal[open], .components-reconnect-show").CountAsync());
            lock (problems) Assert.Empty(problems);
        }
        finally
        {
            await page.Context.CloseAsync();
        }
    }

    [Fact]
    public async Task TheDownloadDialogTakesBraceGlobsAndEveryClickGetsItsOwnTicket()
    {
        var (workbench, _) = await OpenWatchedAsync();
        var page = workbench.Page;
        var zip = Path.Combine(Path.GetTempPath(), $"groklens-globs-{Guid.NewGuid():N}.zip");
        try
        {
            await workbench.RunAsync("The dog sat on the log.");
            await page.ClickAsync("#download-dump-button");
            await page.Locator("#dump-hooks-status").GetByText("hooks selected").WaitForAsync();
            await page.Locator("#dump-hooks input, input#dump-hooks").First.FillAsync("blocks.{0,1}.hook_resid_post, logits");
            await page.Locator("#dump-hooks-status").GetByText("3 hooks selected").WaitForAsync();
            for (int click = 0; click < 2; click++)
            {
                var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#download-dump-link"));
                Assert.Null(await download.FailureAsync());
                await download.SaveAsAsync(zip);
                using var dump = DumpReader.Open(zip);
                Assert.Equal(["blocks.0.hook_resid_post", "blocks.1.hook_resid_post", "logits"], dump.Runs[0].Hooks.Select(h => h.Name).Order());
            }
        }
        finally
        {
            File.Delete(zip);
            await page.Context.CloseAsync();
        }
    }

    [Fact]
    public async Task InProductionAServerErrorIsAPlainPageWithoutDetails()
    {
        await using var production = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b.UseEnvironment("Production")
            .UseSetting($"{WorkbenchOptions.Section}:{nameof(WorkbenchOptions.ModelsFolder)}", fixture.ModelsFolder)
            .ConfigureServices(s => s.AddSingleton<IStartupFilter>(new FailingPath())));
        production.UseKestrel(0);
        production.StartServer();
        var context = await fixture.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        try
        {
            var response = await page.GotoAsync(production.ClientOptions.BaseAddress + FailingPath.Path.TrimStart('/'));
            Assert.Equal(500, response!.Status);
            await page.Locator("#error-page h1").WaitForAsync();
            var text = await page.Locator("body").InnerTextAsync();
            Assert.Contains("Something went wrong on the server", text);
            Assert.Contains("logged as request", text);
            Assert.DoesNotContain("   at ", text);
            Assert.DoesNotContain("/work/", text);
            await page.ScreenshotAsync(new() { Path = Screenshot("production-error-page.png") });
        }
        finally
        {
            await context.CloseAsync();
        }
    }

    private sealed class FailingPath : IStartupFilter
    {
        public const string Path = "/test/fail";

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            next(app);
            app.Use((HttpContext context, Func<Task> _) => context.Request.Path == Path
                ? throw new InvalidOperationException("detail the browser must not see, at /work/x")
                : Task.CompletedTask);
        };
    }
}
