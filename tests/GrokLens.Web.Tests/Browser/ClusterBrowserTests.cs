namespace GrokLens.Web.Tests.Browser;

/// <summary>The workbench on a model served by a cluster (setting GrokLens:Cluster): picked like any model, same results.</summary>
[Collection(BrowserCollection.Name)]
public sealed class ClusterBrowserTests(BrowserFixture fixture)
{
    [Fact]
    public async Task AClusterModelRunsLikeTheLocalOneAndThePanelSaysWhereEachLayerRuns()
    {
        const string Prompt = "The old owl looked down at the quiet wood.";
        var local = new WorkbenchPage(await fixture.OpenWorkbenchAsync());
        var remote = new WorkbenchPage(await fixture.OpenWorkbenchAsync());
        try
        {
            await local.RunAsync(Prompt);
            await remote.LoadModelAsync(BrowserFixture.ClusterModel);

            // The panel names the architecture and where each layer range runs: two shards on the test's silo.
            int layers = GrokLens.Model.GrokConfig.FromJsonFile(Path.Combine(TestRepository.ModelsFolder, TestRepository.ModelName, "config.json")).NumLayers;
            Assert.StartsWith("Grok-1: experts only", await remote.TextOfAsync("#model-architecture"));
            var placement = await remote.Page.Locator("#model-placement div").AllInnerTextsAsync();
            Assert.Equal(2, placement.Count);
            Assert.StartsWith($"layers 0-{layers / 2 - 1}: ", placement[0]);
            Assert.StartsWith($"layers {layers / 2}-{layers - 1}: ", placement[1]);
            Assert.All(placement, line => Assert.Contains("127.0.0.1", line));
            Assert.Contains("remote", await remote.TextOfAsync("#model-quantisation"));
            Assert.StartsWith($"layers 0-{layers - 1}: this process", Assert.Single(await local.Page.Locator("#model-placement div").AllInnerTextsAsync()));

            // Through the cluster the views show what the in-process model shows.
            await remote.RunAsync(Prompt);
            Assert.Equal(await local.ChipTextsAsync(), await remote.ChipTextsAsync());
            foreach (var view in new[] { "next-tokens", "router-grid", "logit-lens" })
                Assert.Equal(await local.TextsAsync($"[data-view='{view}'] text"), await remote.TextsAsync($"[data-view='{view}'] text"));
            await remote.ScreenshotCardAsync("model-panel", Path.Combine(fixture.ScreenshotFolder, "model-panel-cluster.png"));
        }
        finally
        {
            await local.Page.Context.CloseAsync();
            await remote.Page.Context.CloseAsync();
        }
    }
}
