using GrokLens.Dumps;

namespace GrokLens.Cluster.Contracts;

/// <summary>Model names in a cluster: the characters of a dump run id (they appear in shard keys, split at '/').</summary>
public static class ModelName
{
    public static bool IsValid(string name) => DumpFormat.IsValidRunId(name);
}
