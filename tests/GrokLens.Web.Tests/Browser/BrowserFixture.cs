using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace GrokLens.Web.Tests.Browser;

/// <summary>
/// One real app on Kestrel (random port) and one headless Debian Chromium, shared by every browser test.
/// Playwright drives /usr/bin/chromium; it never downloads a browser.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private WebApplicationFactory<Program> factory = null!;
    private IPlaywright playwright = null!;
    private TestSilo? silo;

    /// <summary>grok-tiny served by a cluster (one silo on 127.0.0.1, two shards), offered in the picker under this name.</summary>
    public const string ClusterModel = TestRepository.ModelName + GrokLens.Web.Services.ClusterModels.Suffix;

    public IBrowser Browser { get; private set; } = null!;
    public string BaseAddress { get; private set; } = "";
    public IServiceProvider Services => factory.Services;

    /// <summary>Screenshots go under the test output folder.</summary>
    public string ScreenshotFolder { get; } = Path.Combine(AppContext.BaseDirectory, "screenshots");

    /// <summary>
    /// The app's models folder: copies of grok-tiny under its own name and as <see cref="TwinModel"/> (18 MB each), so a
    /// test can switch models.
    /// </summary>
    public string ModelsFolder { get; } = Path.Combine(Path.GetTempPath(), $"groklens-browser-models-{Guid.NewGuid():N}");

    public const string TwinModel = "grok-tiny-twin";

    /// <summary>The reference checkpoint tests/fixtures/grok1-mini (2 layers, vocabulary 512, context 256, no tokenizer).</summary>
    public const string MiniModel = "grok1-mini";

    /// <summary>The reference checkpoint tests/fixtures/grok2-mini (Grok-2: dense MLP beside the experts, router and final caps).</summary>
    public const string Grok2Model = "grok2-mini";

    public async Task InitializeAsync()
    {
        TestRepository.RequireModel();
        var model = Path.Combine(TestRepository.ModelsFolder, TestRepository.ModelName);
        Directory.CreateDirectory(ModelsFolder);
        foreach (var name in new[] { TestRepository.ModelName, TwinModel })
        {
            var copy = Directory.CreateDirectory(Path.Combine(ModelsFolder, name)).FullName;
            foreach (var file in Directory.EnumerateFiles(model)) File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        }
        foreach (var fixture in new[] { MiniModel, Grok2Model })
        {
            var mini = Directory.CreateDirectory(Path.Combine(ModelsFolder, fixture)).FullName;
            foreach (var file in new[] { "config.json", "model.safetensors" })
                File.Copy(Path.Combine(TestRepository.Root, "tests", "fixtures", fixture, file), Path.Combine(mini, file));
        }
        if (!File.Exists(ChromiumPath))
            throw new InvalidOperationException($"The browser tests need Debian's Chromium at {ChromiumPath}: apt-get install -y chromium (.ci/run does).");
        Directory.CreateDirectory(ScreenshotFolder);

        silo = TestSilo.Start(Path.Combine(ModelsFolder, TestRepository.ModelName), TestRepository.ModelName);

        // A configured address keeps Program from binding its default 127.0.0.1:5000 (which may be taken on a shared machine).
        Environment.SetEnvironmentVariable("ASPNETCORE_URLS", "http://127.0.0.1:0");
        factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b
            .UseEnvironment("Development")
            .UseSetting($"{GrokLens.Web.Services.WorkbenchOptions.Section}:{nameof(GrokLens.Web.Services.WorkbenchOptions.ModelsFolder)}", ModelsFolder)
            .UseSetting($"{GrokLens.Web.Services.WorkbenchOptions.Section}:{nameof(GrokLens.Web.Services.WorkbenchOptions.Cluster)}", silo.Address)
            // One model computes at a time whatever the machine, so tests that hold a model's turn hold the whole queue.
            .UseSetting($"{GrokLens.Web.Services.WorkbenchOptions.Section}:{nameof(GrokLens.Web.Services.WorkbenchOptions.ComputeSlots)}", "1"));
        factory.UseKestrel(0);
        factory.StartServer();
        BaseAddress = factory.ClientOptions.BaseAddress.ToString().TrimEnd('/');

        playwright = await Playwright.CreateAsync();
        Browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"],
        });
    }

    /// <summary>A fresh browser context (its own cookies, so its own Blazor circuit and session) on the Explore page, interactive.</summary>
    public async Task<IPage> OpenWorkbenchAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1600, Height = 1000 } });
        var page = await context.NewPageAsync();
        // Generous: the test machine is shared with training runs (2 cores); nothing here asserts on time.
        page.SetDefaultTimeout(150_000);
        await page.GotoAsync(BaseAddress + "/");
        await WaitForCircuitAsync(page);
        return page;
    }

    /// <summary>
    /// The page is interactive once the circuit's first render is in the browser (the layout's data-interactive) and
    /// the model panel names the session's loaded model.
    /// </summary>
    public static async Task WaitForCircuitAsync(IPage page) =>
        await page.WaitUntilAsync(
            "() => document.querySelector(\"[data-interactive='true']\") && document.querySelector('#workbench') && document.querySelector('#model-name')");

    /// <summary>Runs work on a model of the app's registry (leased meanwhile), e.g. to compute what a page must show.</summary>
    public async Task<T> WithModelAsync<T>(Func<GrokLens.Engine.IModelEngine, T> work, string model = TestRepository.ModelName)
    {
        var registry = Services.GetRequiredService<GrokLens.Web.Models.ModelRegistry>();
        using var lease = await registry.AcquireAsync(model).WaitAsync(HeldTurns.Patience);
        return await lease.RunAsync(work).WaitAsync(HeldTurns.Patience);
    }

    public async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        playwright.Dispose();
        await factory.DisposeAsync();
        silo?.Dispose();
        Directory.Delete(ModelsFolder, recursive: true);
    }
}

[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    public const string Name = "browser";
}
