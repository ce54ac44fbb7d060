using GrokLens.Cluster.Contracts;
using Orleans.Concurrency;
using Orleans.Runtime;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace GrokLens.Cluster.Grains;

/// <summary>Reads the membership view and the silo metadata of the silo it runs on.</summary>
[StatelessWorker]
public sealed class ClusterInfoGrain(IClusterMembershipService membership, ISiloMetadataCache metadata) : Grain, IClusterInfoGrain
{
    public Task<SiloInfo[]> Silos() => Task.FromResult(membership.CurrentSnapshot.Members.Values
        .Where(member => member.Status == SiloStatus.Active)
        .OrderBy(member => member.SiloAddress.ToParsableString(), StringComparer.Ordinal)
        .Select(member => new SiloInfo
        {
            Address = member.SiloAddress.ToParsableString(),
            Name = member.Name,
            DeclarationJson = metadata.GetSiloMetadata(member.SiloAddress).Metadata.GetValueOrDefault(SiloDeclaration.MetadataKey) ?? "",
        }).ToArray());
}
