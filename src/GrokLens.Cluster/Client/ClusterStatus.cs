using GrokLens.Cluster.Contracts;
using GrokLens.Cluster.Grains;
using Orleans.Runtime;

namespace GrokLens.Cluster;

/// <summary>What <c>groklens cluster status</c> shows: silos and their declarations, active shards, batch jobs.</summary>
public sealed record ClusterStatus(IReadOnlyList<ClusterStatus.Silo> Silos, IReadOnlyList<ShardStatus> Shards, IReadOnlyList<ClusterStatus.Batch> Batches)
{
    public sealed record Silo(string Address, string Name, string Status, SiloDeclaration? Declaration);

    public sealed record Batch(string Id, BatchJobState State);

    /// <summary>Reads the cluster's state without activating shards (only those already active are asked).</summary>
    public static async Task<ClusterStatus> ReadAsync(IClusterClient client)
    {
        var timeout = TimeSpan.FromSeconds(15); // A request through a gateway that just died is never answered.
        var management = client.GetGrain<IManagementGrain>(0);
        var hosts = await management.GetDetailedHosts(onlyActive: false).WaitAsync(timeout).ConfigureAwait(false);
        var declared = (await client.GetGrain<IClusterInfoGrain>(0).Silos().WaitAsync(timeout).ConfigureAwait(false))
            .ToDictionary(s => s.Address, s => SiloDeclaration.FromJson(s.DeclarationJson));
        var silos = hosts.Where(h => h.Status is SiloStatus.Active or SiloStatus.Joining or SiloStatus.ShuttingDown or SiloStatus.Stopping)
            .Select(h => new Silo(h.SiloAddress.ToParsableString(), h.SiloName, h.Status.ToString(),
                declared.GetValueOrDefault(h.SiloAddress.ToParsableString())))
            .OrderBy(s => s.Address, StringComparer.Ordinal).ToList();

        var activations = await management.GetDetailedGrainStatistics().WaitAsync(timeout).ConfigureAwait(false);
        var shardKeys = activations.Select(a => a.GrainId.Key.ToString()!)
            .Where(key => IsShardKey(key)).Distinct().Order(StringComparer.Ordinal).ToList();
        var shards = new List<ShardStatus>();
        foreach (var key in shardKeys)
        {
            try
            {
                shards.Add(await client.GetGrain<IShardGrain>(key).Describe().WaitAsync(timeout).ConfigureAwait(false));
            }
            catch (Exception e) when (e is TimeoutException or SiloUnavailableException or OrleansException)
            {
                shards.Add(new ShardStatus { Key = key, Detail = $"not answering: {e.Message}" });
            }
        }

        var batches = new List<Batch>();
        foreach (var id in await client.GetGrain<IBatchRegistryGrain>(0).Recent().WaitAsync(timeout).ConfigureAwait(false))
            batches.Add(new Batch(id, await client.GetGrain<IBatchJobGrain>(id).State().WaitAsync(timeout).ConfigureAwait(false)));
        return new ClusterStatus(silos, shards, batches);
    }

    private static bool IsShardKey(string key)
    {
        try
        {
            ShardKey.Parse(key);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>Plain-text tables for the terminal.</summary>
    public string Format()
    {
        static string Mib(long bytes) => $"{bytes / (1024.0 * 1024):0.0} MiB";
        var text = new System.Text.StringBuilder();
        text.AppendLine($"Silos ({Silos.Count}):");
        foreach (var silo in Silos)
        {
            var models = silo.Declaration is { } d
                ? string.Join("; ", d.Models.Select(m => $"{m.Name} layers {m.Layers} ({Mib(m.Bytes)})")) + $"; offers {Mib(d.MemoryBytes)}"
                : "declares nothing";
            text.AppendLine($"  {silo.Address}  {silo.Declaration?.Host ?? silo.Name}  {silo.Status}  {models}");
        }
        text.AppendLine($"Shards ({Shards.Count} active):");
        foreach (var shard in Shards)
            text.AppendLine($"  {shard.Key}  on {shard.Host} ({shard.Silo})  weights {Mib(shard.WeightBytes)}, KV caches {Mib(shard.CacheBytes)}, " +
                            $"{shard.Sessions} open session(s), process {Mib(shard.ProcessBytes)}");
        var running = Batches.Where(b => b.State.Outcome is null).ToList();
        text.AppendLine($"Batches ({running.Count} running, {Batches.Count - running.Count} finished):");
        foreach (var batch in Batches)
            text.AppendLine($"  {batch.Id}  {batch.State.Description}  {batch.State.Done}/{batch.State.Total} done, " +
                            $"{batch.State.InFlight.Count} in flight, {batch.State.Total - batch.State.Done - batch.State.InFlight.Count} queued, " +
                            $"{batch.State.Requeued} requeued{(batch.State.Outcome is { } o ? $"; {o}" : "")}");
        return text.ToString();
    }
}
