namespace GrokLens.Cluster;

/// <summary>A shard stopped answering during a run (its silo died or left): names the shard and where it ran.</summary>
public sealed class ShardLostException(string shard, string host, string silo, string reason, Exception? inner = null)
    : Exception($"{shard} on host {host} (silo {silo}) was lost: {reason}. The run was abandoned; the next run works once " +
                "the shard is active again on a silo that holds its weights.", inner)
{
    public string Shard { get; } = shard;
    public string Host { get; } = host;
    public string Silo { get; } = silo;
}
