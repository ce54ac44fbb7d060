using GrokLens.Cluster.Grains;
using GrokLens.Dumps;
using GrokLens.Engine;
using GrokLens.Generation;
using GrokLens.Hooks;
using GrokLens.Interventions;

namespace GrokLens.Cluster.Tests;

/// <summary>
/// Three silos in process: grok-tiny split 0-1 | 2-3 (layers 0-1 on two silos: two pipelines), grok1-mini and grok2-mini
/// split 0 | 1. Everything through the cluster must equal the in-process engine bit for bit.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public InProcessCluster Cluster { get; private set; } = null!;
    public ClusterModel Tiny { get; private set; } = null!;
    public LoadedModel LocalTiny { get; } = LocalModels.Load(Paths.GrokTiny);
    public LoadedModel LocalMini1 { get; } = LocalModels.Load(Paths.Grok1Mini);
    public LoadedModel LocalMini2 { get; } = LocalModels.Load(Paths.Grok2Mini);

    public static readonly TimeSpan Lease = TimeSpan.FromSeconds(3);

    public async Task InitializeAsync()
    {
        Cluster = await InProcessCluster.StartAsync(
        [
            [InProcessCluster.Part(Paths.GrokTiny, "grok-tiny", 0, 1), InProcessCluster.Part(Paths.Grok1Mini, "grok1-mini", 0, 0),
             InProcessCluster.Part(Paths.Grok2Mini, "grok2-mini", 0, 0)],
            [InProcessCluster.Part(Paths.GrokTiny, "grok-tiny", 2, 3), InProcessCluster.Part(Paths.Grok1Mini, "grok1-mini", 1, 1),
             InProcessCluster.Part(Paths.Grok2Mini, "grok2-mini", 1, 1)],
            [InProcessCluster.Part(Paths.GrokTiny, "grok-tiny", 0, 1)],
        ], Lease);
        Tiny = await Cluster.ConnectAsync("grok-tiny", expectedReplicas: 2, new ClusterModelOptions { KeepAliveInterval = TimeSpan.FromSeconds(1) });
    }

    public async Task DisposeAsync()
    {
        LocalTiny.Dispose();
        LocalMini1.Dispose();
        LocalMini2.Dispose();
        await Cluster.DisposeAsync();
    }
}

public sealed class InProcessClusterTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private readonly ClusterModel tiny = fixture.Tiny;
    private readonly LoadedModel local = fixture.LocalTiny;

    private IReadOnlyList<int> Prompt(string text) => local.Encode(text);

    [Fact]
    public void Layout_splits_grok_tiny_into_the_declared_ranges_with_two_pipelines()
    {
        Assert.Equal(["0-1", "2-3"], tiny.Layout.Shards.Select(s => s.ToString()));
        Assert.Equal(2, tiny.Layout.Replicas);
        var placement = tiny.Placement;
        Assert.Equal([(0, 1), (2, 3)], placement.Select(p => (p.FirstLayer, p.LastLayer)));
        Assert.All(placement, p => Assert.Contains(Environment.MachineName, p.Location));
        Assert.Equal(local.Config.ToJson(), tiny.Config.ToJson());
        Assert.Equal(local.Encode("Once upon a time"), tiny.Encode("Once upon a time"));
    }

    [Theory]
    [InlineData("grok-tiny")]
    [InlineData("grok1-mini")]
    [InlineData("grok2-mini")]
    public async Task Capturing_every_hook_equals_the_local_run_bit_for_bit(string name)
    {
        var reference = name switch { "grok-tiny" => local, "grok1-mini" => fixture.LocalMini1, _ => fixture.LocalMini2 };
        var engine = name == "grok-tiny" ? tiny : await fixture.Cluster.ConnectAsync(name, expectedReplicas: 1);
        int[] ids = name == "grok-tiny" ? [.. Prompt("The little fox ran to the river and")] : [5, 17, 300, 2, 44, 9, 127];
        using var expected = reference.Run(ids, RunOptions.CaptureOnly("*"));
        for (int attempt = 0; attempt < 2; attempt++) // Round robin: both pipelines.
        {
            using var actual = engine.Run(ids, RunOptions.CaptureOnly("*"));
            TensorAssert.SameRun(expected, actual, $"{name} run {attempt}");
        }
    }

    [Fact]
    public void Interventions_including_activation_and_routing_patching_equal_the_local_run()
    {
        var clean = Prompt("The cat sat on the mat and then it slept");
        var corrupted = clean.Select((id, i) => i == 1 || i == 5 ? (id + 17) % local.Config.VocabSize : id).ToList();
        IReadOnlyList<Intervention> interventions =
        [
            new AblateHeads([0, 3], [1, 2]),
            new BanExpert(1, 3),
            new ForceExpert(2, 5, [2, 4]),
            new ScaleActivation("blocks.1.hook_resid_mid", 0.5),
            new AddToActivation("blocks.3.hook_resid_pre", Enumerable.Range(0, local.Config.HiddenSize).Select(i => (float)Math.Sin(i)).ToArray(), 2.0, [3]),
            new PatchActivation("blocks.2.hook_resid_pre", [1, 2]),
            new PatchRouting([0, 3], RoutingPart.Indices, [5]),
            new SetTopK(1, [1]),
        ];
        var sourceHooks = InterventionRunner.SourceHooks(local.Config, interventions);
        using var localSource = local.Run(clean, new RunOptions { Capture = sourceHooks });
        using var clusterSource = tiny.Run(clean, new RunOptions { Capture = sourceHooks });
        TensorAssert.SameRun(localSource, clusterSource, "source");
        var options = new RunOptions { Capture = ["*"], Interventions = interventions };
        using var expected = local.Run(corrupted, options with { Source = localSource.Cache });
        using var actual = tiny.Run(corrupted, options with { Source = clusterSource.Cache });
        TensorAssert.SameRun(expected, actual, "patched");
        using var unpatched = local.Run(corrupted, RunOptions.CaptureOnly("logits"));
        Assert.False(unpatched.Logits.eq(expected.Logits).all().item<bool>(), "the interventions change the logits");
    }

    [Fact]
    public void Generation_equals_the_local_generation_greedy_and_sampled_with_interventions()
    {
        var prompt = Prompt("Once upon a time there was a");
        var greedy = SamplingOptions.Greedy(12) with { StopAtEos = false };
        Assert.Equal(local.Generate(prompt, greedy).ToList(), tiny.Generate(prompt, greedy).ToList());

        var sampled = new SamplingOptions { MaxNewTokens = 10, Temperature = 0.9, TopP = 0.95, Seed = 11, StopAtEos = false };
        var request = new GenerationRequest { Interventions = [new BanExpert(2, 1), new AblateHeads([1], [0])] };
        var expected = local.Generate(prompt, sampled, request).ToList();
        var actual = tiny.Generate(prompt, sampled, request).ToList();
        Assert.Equal(expected, actual);
        Assert.Equal(10, actual.Count);
    }

    [Fact]
    public void Reductions_are_computed_on_the_shards_and_equal_the_local_ones()
    {
        var ids = Prompt("A bird sang in the tall green tree");
        var options = new RunOptions { Reduce = ["blocks.*.hook_resid_post", "blocks.*.moe.hook_expert_post", "hook_embed"] };
        using var expected = local.Run(ids, options);
        using var actual = tiny.Run(ids, options);
        var e = expected.Reduction!;
        var a = actual.Reduction!;
        Assert.Equal(e.Tokens, a.Tokens);
        Assert.Equal(e.ExpertCounts.Keys, a.ExpertCounts.Keys);
        foreach (var (layer, counts) in e.ExpertCounts) TensorAssert.Identical(counts, a.ExpertCounts[layer], $"expert counts {layer}");
        Assert.Equal(e.Routing.Values.Select(r => r?.ExpertShares), a.Routing.Values.Select(r => r?.ExpertShares));
        Assert.Equal(e.Neurons.Keys, a.Neurons.Keys);
        foreach (var (hook, (sum, count, max)) in e.Neurons)
        {
            TensorAssert.Identical(sum, a.Neurons[hook].Sum, $"{hook}.sum");
            TensorAssert.Identical(count, a.Neurons[hook].Count, $"{hook}.count");
            TensorAssert.Identical(max, a.Neurons[hook].Max, $"{hook}.max");
        }
        Assert.Empty(actual.Cache.Names); // Nothing raw came back.
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_batch_through_the_cluster_writes_the_same_dump_as_in_process(bool reduce)
    {
        var prompts = Enumerable.Range(0, 7).Select(i => new BatchPrompt($"p{i}", $"Story number {i} begins with a {(i % 2 == 0 ? "cat" : "boat")}", null)).ToList();
        var options = new BatchOptions { Hooks = reduce ? ["blocks.*.hook_resid_post"] : ["blocks.*.moe.hook_topk_indices", "logits"], Reduce = reduce };
        using var folder = new TempFolder();
        var expected = BatchCapture.Run(local, prompts, Path.Combine(folder.Path, "local"), options);
        var actual = BatchCapture.Run(tiny, prompts, Path.Combine(folder.Path, "cluster"), options);
        Assert.Equal(expected.Runs.Select(r => r.Id), actual.Runs.Select(r => r.Id));
        using var readExpected = DumpReader.Open(Path.Combine(folder.Path, "local"));
        using var readActual = DumpReader.Open(Path.Combine(folder.Path, "cluster"));
        Assert.Equal(expected.Model.WeightsFingerprint, actual.Model.WeightsFingerprint);
        if (reduce)
        {
            foreach (var name in readExpected.Manifest.Reductions!.Tensors.Select(t => t.Name))
            {
                using var e = readExpected.LoadReduction(name);
                using var a = readActual.LoadReduction(name);
                TensorAssert.Identical(e, a, name);
            }
        }
        else
        {
            foreach (var run in readExpected.Manifest.Runs)
            {
                using var e = readExpected.LoadCache(run);
                using var a = readActual.LoadCache(readActual.Run(run.Id));
                Assert.Equal(e.Names, a.Names);
                foreach (var name in e.Names) TensorAssert.Identical(e[name], a[name], $"{run.Id} {name}");
            }
        }
    }

    [Fact]
    public async Task Bad_requests_get_clear_errors_and_the_silos_keep_serving()
    {
        var unknown = await Assert.ThrowsAsync<UnknownModelException>(() => ClusterModel.ConnectAsync(fixture.Cluster.Client, "grok-huge"));
        Assert.Contains("grok-tiny", unknown.Message);
        Assert.Throws<UnknownHookException>(() => tiny.Run([1, 2, 3], RunOptions.CaptureOnly("blocks.9.hook_nothing")));
        var hooks = Assert.Throws<NotSupportedException>(() => tiny.Run([1, 2, 3], new RunOptions { Hooks = [("logits", (a, _) => null)] }));
        Assert.Contains("in-process", hooks.Message);
        Assert.Throws<InterventionException>(() => tiny.Run([1, 2, 3], new RunOptions { Interventions = [new BanExpert(7, 1)] }));
        Assert.Throws<ArgumentException>(() => tiny.Run([1, 99999]));

        var badRange = await Assert.ThrowsAnyAsync<Exception>(() => fixture.Cluster.Client.GetGrain<IShardGrain>("grok-tiny/2-9/0").Describe());
        Assert.Contains("2-9", badRange.Message);
        // A collection waits for its session's pass; closing the session first answers it as missing, not as an error,
        // and so is a collection that comes after the close.
        var shard = fixture.Cluster.Client.GetGrain<IShardGrain>("grok-tiny/0-1/0");
        var session = Guid.NewGuid();
        var waiting = shard.Collect(session);
        Assert.False((await shard.Close(session)).Missing);
        Assert.True((await waiting).Missing);
        Assert.True((await shard.Collect(session)).Missing);
        Assert.False((await shard.Close(Guid.NewGuid())).Missing);

        using var expected = local.Run([5, 6, 7], RunOptions.CaptureOnly("logits"));
        using var actual = tiny.Run([5, 6, 7], RunOptions.CaptureOnly("logits"));
        TensorAssert.SameRun(expected, actual, "after bad requests");
    }

}

internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("groklens-cluster-test-").FullName;

    public void Dispose()
    {
        if (Directory.Exists(Path)) Directory.Delete(Path, recursive: true);
    }
}
