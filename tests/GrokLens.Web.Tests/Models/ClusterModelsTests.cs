using GrokLens.Engine;
using GrokLens.Web.Models;
using GrokLens.Web.Services;
using Microsoft.Extensions.Logging.Abstractions;

namespace GrokLens.Web.Tests.Models;

/// <summary>The workbench's cluster setting: models a cluster serves are listed as "name@cluster" and load as remote engines.</summary>
public sealed class ClusterModelsTests
{
    private static string Tiny => Path.Combine(TestRepository.ModelsFolder, TestRepository.ModelName);

    [Fact]
    public async Task TheRegistryLoadsAClusterModelThatComputesWhatTheLocalOneDoes()
    {
        TestRepository.RequireModel();
        using var silo = TestSilo.Start(Tiny, "tiny");
        using var cluster = new ClusterModels(silo.Address);
        var catalog = new ModelCatalog(TestRepository.ModelsFolder, cluster);
        Assert.Contains("tiny@cluster", catalog.List());
        Assert.Contains(TestRepository.ModelName, catalog.List());

        using var registry = new ModelRegistry(catalog, new ComputeQueue(1), 1L << 30, NullLogger<ModelRegistry>.Instance);
        using var lease = await registry.AcquireAsync("tiny@cluster").WaitAsync(HeldTurns.Patience);
        using var local = GrokLens.Loading.ModelLoader.Load(Tiny);
        var ids = local.Encode("The old owl looked down at the quiet wood");
        var (placement, same) = await lease.RunAsync(engine =>
        {
            using var remote = engine.Run(ids, RunOptions.CaptureOnly("blocks.*.moe.hook_topk_indices"));
            using var expected = local.Run(ids, RunOptions.CaptureOnly("blocks.*.moe.hook_topk_indices"));
            using var equal = remote.Logits.eq(expected.Logits).all();
            return (engine.Placement, equal.item<bool>());
        }).WaitAsync(HeldTurns.Patience);
        Assert.True(same, "the cluster's logits differ from the in-process ones");
        Assert.Equal(2, placement.Count);
        Assert.Equal(0, registry.UsedBytes); // Its weights are on the silos, not in this process's budget.
    }

    [Fact]
    public void AClusterThatDoesNotAnswerListsNothingAndSaysWhy()
    {
        using var cluster = new ClusterModels("127.0.0.1:1");
        var catalog = new ModelCatalog(TestRepository.ModelsFolder, cluster);
        Assert.DoesNotContain(catalog.List(), name => name.EndsWith(ClusterModels.Suffix));
        Assert.Contains("127.0.0.1:1", cluster.Error);
        var refused = Assert.Throws<ArgumentException>(() => catalog.Resolve("grok-tiny@cluster"));
        Assert.Contains("does not answer", refused.Message);
    }
}
