using Orleans.Placement;
using Orleans.Runtime;

namespace GrokLens.Cluster.Placement;

/// <summary>Places a shard grain on a silo that declared its model and layers (see <see cref="ShardPlacementDirector"/>).</summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking]
public sealed class ShardPlacement : PlacementStrategy
{
    public static ShardPlacement Singleton { get; } = new();
}

[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class ShardPlacementAttribute() : PlacementAttribute(ShardPlacement.Singleton);
