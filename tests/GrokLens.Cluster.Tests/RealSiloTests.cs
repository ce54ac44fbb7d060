using System.Diagnostics;
using GrokLens.Dumps;
using GrokLens.Engine;
using GrokLens.Generation;
using Xunit.Abstractions;

namespace GrokLens.Cluster.Tests;

/// <summary>
/// Real silo processes of the groklens CLI on this machine: real TCP on 127.0.0.1 and a Redis membership table in a
/// redis-server the test starts. grok-tiny is split 0-1 | 2-3 over two silos; a third holds all of it.
/// </summary>
public sealed class RealSiloTests(ITestOutputHelper output)
{
    [RedisFact]
    public async Task Silo_processes_with_redis_membership_serve_runs_equal_to_local_and_free_a_departed_clients_caches()
    {
        await using var cluster = await RedisCluster.StartAsync();
        await cluster.StartSilos([
            ["--model", Paths.GrokTiny, "--name", "grok-tiny", "--layers", "0-1"],
            ["--model", Paths.GrokTiny, "--name", "grok-tiny", "--layers", "2-3"],
        ], sessionLeaseSeconds: 3);
        using var local = LocalModels.Load(Paths.GrokTiny);
        await using var connection = await ClusterClientFactory.ConnectAsync(cluster.Address);
        var engine = await WaitForModel(connection, "grok-tiny", replicas: 1);
        Assert.Equal(["0-1", "2-3"], engine.Layout.Shards.Select(s => s.ToString()));

        var ids = local.Encode("The old owl looked down at the quiet wood");
        using (var expected = local.Run(ids, RunOptions.CaptureOnly("*")))
        {
            using (var actual = engine.Run(ids, RunOptions.CaptureOnly("*")))
                TensorAssert.SameRun(expected, actual, "over TCP");
            // Meanwhile the model connected to each shard's own silo gateway; captures then come straight from there.
            await WaitFor(() => Task.FromResult(engine.DirectGateways.SequenceEqual(cluster.Gateways.Order(StringComparer.Ordinal))),
                TimeSpan.FromSeconds(60), $"the model connected to gateways {string.Join(", ", engine.DirectGateways)}, not each silo's");
            using (var direct = engine.Run(ids, RunOptions.CaptureOnly("*")))
                TensorAssert.SameRun(expected, direct, "through each shard's gateway");
        }
        var greedy = SamplingOptions.Greedy(8) with { StopAtEos = false };
        Assert.Equal(local.Generate(ids, greedy).ToList(), engine.Generate(ids, greedy).ToList());

        // A second client starts a generation and leaves without closing it: its KV caches are freed after the lease.
        var departing = await ClusterClientFactory.ConnectAsync(cluster.Address);
        var other = await ClusterModel.ConnectAsync(departing.Client, "grok-tiny", new ClusterModelOptions { KeepAliveInterval = TimeSpan.FromSeconds(1) });
        var tokens = other.Generate(ids, SamplingOptions.Greedy(100) with { StopAtEos = false }).GetEnumerator();
        Assert.True(tokens.MoveNext());
        Assert.Equal(2, (await ClusterStatus.ReadAsync(connection.Client)).Shards.Count(s => s.Sessions > 0));
        await departing.DisposeAsync();
        await WaitFor(async () => (await ClusterStatus.ReadAsync(connection.Client)).Shards.All(s => s.Sessions == 0), TimeSpan.FromSeconds(60),
            "the caches of a client that went away were not freed");

        // groklens cluster status: silos with their layers, the active shards.
        var stdout = new StringWriter();
        Assert.Equal(0, GrokLens.Cli.CliApp.Run(["cluster", "status", "--cluster", cluster.Address], stdout, new StringWriter()));
        output.WriteLine(stdout.ToString());
        Assert.Contains("Silos (2)", stdout.ToString());
        Assert.Contains("grok-tiny layers 2-3", stdout.ToString());
        Assert.Contains("grok-tiny/0-1/0", stdout.ToString());
    }

    [RedisFact]
    public async Task Killing_silos_costs_only_in_flight_prompts_and_fails_a_generation_fast_naming_the_shard()
    {
        await using var cluster = await RedisCluster.StartAsync();
        string[] whole = ["--model", Paths.GrokTiny, "--name", "grok-tiny"];
        await cluster.StartSilos([whole, whole, whole]);
        using var local = LocalModels.Load(Paths.GrokTiny);
        await using var connection = await ClusterClientFactory.ConnectAsync(cluster.Address);
        var engine = await WaitForModel(connection, "grok-tiny", replicas: 3);

        // A batch over three pipeline replicas; one silo is killed once a few prompts are done.
        var prompts = Enumerable.Range(0, 18).Select(i => new BatchPrompt($"p{i:00}", $"Prompt {i}: the {(i % 3 == 0 ? "red" : "blue")} kite flew over hill {i}", null)).ToList();
        var options = new BatchOptions { Hooks = ["logits", "blocks.*.moe.hook_topk_indices"], CommitEvery = 4 };
        using var folder = new TempFolder();
        bool killed = false;
        var manifest = BatchCapture.Run(engine, prompts, folder.Path, options, new SynchronousProgress<BatchProgress>(p =>
        {
            if (killed || p.Done < 4) return;
            killed = true;
            cluster.KillSilo(1);
        }));
        Assert.True(killed);
        Assert.True(manifest.Complete);
        Assert.Equal(prompts.Select(p => p.Id), manifest.Runs.Select(r => r.Id)); // Every prompt exactly once, in order.
        using (var reader = DumpReader.Open(folder.Path))
            foreach (var prompt in prompts)
            {
                using var expected = local.Run(local.Encode(prompt.Prompt!), RunOptions.CaptureOnly("logits", "blocks.*.moe.hook_topk_indices"));
                using var stored = reader.LoadCache(reader.Run(prompt.Id));
                TensorAssert.Identical(expected.Logits, stored["logits"], $"{prompt.Id} logits");
            }
        var batch = (await ClusterStatus.ReadAsync(connection.Client)).Batches.Single();
        output.WriteLine($"batch: {batch.State.Done}/{batch.State.Total} done, {batch.State.Requeued} requeued ({batch.State.LastRequeueReason})");
        Assert.Equal(18, batch.State.Done);

        // A generation whose silo is killed fails within seconds, naming the shard and its host.
        var ids = local.Encode("In the morning the baker");
        var tokens = engine.Generate(ids, SamplingOptions.Greedy(400) with { StopAtEos = false }).GetEnumerator();
        Assert.True(tokens.MoveNext());
        var busy = (await ClusterStatus.ReadAsync(connection.Client)).Shards.Single(s => s.Sessions > 0);
        var busyGateway = cluster.GatewayOf(busy.Silo);
        await WaitFor(() => Task.FromResult(engine.DirectGateways.Contains(busyGateway)), TimeSpan.FromSeconds(60),
            $"the generation's calls never went through its silo's gateway {busyGateway}");
        var clock = Stopwatch.StartNew();
        cluster.KillSilo(busy.Silo);
        var lost = Assert.Throws<ShardLostException>(() =>
        {
            while (tokens.MoveNext())
            {
            }
        });
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: {lost.Message}");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"the error took {clock.Elapsed}");
        Assert.Contains(busy.Key.Split('/')[0] + " layers 0-3", lost.Message);
        Assert.Contains(Environment.MachineName, lost.Message);
        Assert.Equal(busy.Silo, lost.Silo);
        tokens.Dispose();
        // The dead silo's direct connection is closed and no longer listed.
        await WaitFor(() => Task.FromResult(!engine.DirectGateways.Contains(busyGateway)), TimeSpan.FromSeconds(60),
            $"the dead silo's gateway {busyGateway} is still listed");

        // The next run works once the shard is active again on the silo that is left.
        await engine.RefreshLayoutAsync();
        RunResult? again = null;
        await WaitFor(() =>
        {
            try
            {
                again = engine.Run(ids, RunOptions.CaptureOnly("logits"));
                return Task.FromResult(true);
            }
            catch (Exception e) when (e is ShardLostException or ClusterUnavailableException)
            {
                return Task.FromResult(false);
            }
        }, TimeSpan.FromSeconds(90), "no run succeeded after the silo died");
        using (again)
        using (var expected = local.Run(ids, RunOptions.CaptureOnly("logits")))
            TensorAssert.SameRun(expected, again!, "after the failure");
    }

    private static async Task<ClusterModel> WaitForModel(ClusterConnection connection, string model, int replicas)
    {
        ClusterModel? engine = null;
        await WaitFor(async () =>
        {
            try
            {
                engine = await ClusterModel.ConnectAsync(connection.Client, model);
                return engine.Layout.Replicas >= replicas;
            }
            catch (UnknownModelException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(90), $"model {model} did not reach {replicas} replicas");
        return engine!;
    }

    private static async Task WaitFor(Func<Task<bool>> condition, TimeSpan timeout, string failure)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail(failure);
            await Task.Delay(200);
        }
    }

    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
