using GrokLens.Cluster.Contracts;
using Orleans.Runtime;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Runtime.Placement;

namespace GrokLens.Cluster.Placement;

/// <summary>
/// Puts replica r of a shard "model/first-last/r" on the r-th (by address, modulo their number) of the active silos whose
/// declaration holds those layers of that model. When a silo leaves, its shards come back on the next call on another
/// silo that holds the weights; with none left the call fails naming what is missing.
/// </summary>
public sealed class ShardPlacementDirector(ISiloMetadataCache metadata) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var key = ShardKey.Parse(target.GrainIdentity.Key.ToString()!);
        var candidates = context.GetCompatibleSilos(target)
            .Where(silo => Declaration(silo)?.Hosts(key.Model, key.Layers) == true)
            .OrderBy(silo => silo.ToParsableString(), StringComparer.Ordinal)
            .ToArray();
        if (candidates.Length == 0)
            throw new ShardPlacementException($"No active silo holds model '{key.Model}' layers {key.Layers}: start a silo with " +
                                              $"--name {key.Model} --layers {key.Layers} (or a range containing it).");
        return Task.FromResult(candidates[key.Replica % candidates.Length]);
    }

    private SiloDeclaration? Declaration(SiloAddress silo) =>
        SiloDeclaration.FromJson(metadata.GetSiloMetadata(silo).Metadata.GetValueOrDefault(SiloDeclaration.MetadataKey));
}

/// <summary>No silo can take a shard.</summary>
[GenerateSerializer]
public sealed class ShardPlacementException(string message) : Exception(message);
