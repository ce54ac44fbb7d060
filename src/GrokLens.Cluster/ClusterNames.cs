namespace GrokLens.Cluster;

/// <summary>Names shared by silos and clients.</summary>
public static class ClusterNames
{
    /// <summary>Orleans service id of GrokLens clusters.</summary>
    public const string ServiceId = "groklens";

    /// <summary>Default cluster id (several clusters may share a Redis with other ids).</summary>
    public const string DefaultClusterId = "groklens";

    /// <summary>Grain storage for batch progress (memory, or Redis with Redis membership).</summary>
    public const string Storage = "groklens";
}
