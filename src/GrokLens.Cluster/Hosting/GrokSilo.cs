using System.Net;
using GrokLens.Cluster.Grains;
using GrokLens.Cluster.Placement;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace GrokLens.Cluster.Hosting;

/// <summary>Configures an Orleans silo to host GrokLens shards.</summary>
public static class GrokSilo
{
    /// <summary>
    /// Shard grains and their placement, the silo's declaration as metadata, batch storage and membership settings that
    /// declare a killed silo dead within seconds (a run on it then fails fast instead of waiting for a timeout).
    /// </summary>
    public static ISiloBuilder AddGrokLensShards(this ISiloBuilder silo, ShardModels models, TimeSpan? sessionLease = null)
    {
        silo.Services.AddSingleton(models);
        silo.Services.Configure<ShardOptions>(o => o.SessionLease = sessionLease ?? o.SessionLease);
        silo.UseSiloMetadata(new Dictionary<string, string> { [Contracts.SiloDeclaration.MetadataKey] = models.Declaration.ToJson() });
        silo.AddPlacementDirector<ShardPlacement, ShardPlacementDirector>();
        // GrokLens's own exception types (e.g. a checkpoint format error) have no Orleans codec: the caller would see
        // "could not find a codec" instead of the reason. Send their message as a standard exception type.
        silo.AddIncomingGrainCallFilter(async context =>
        {
            try
            {
                await context.Invoke();
            }
            catch (Exception e) when (e.GetType().Namespace?.StartsWith("GrokLens", StringComparison.Ordinal) == true)
            {
                throw new InvalidOperationException($"{e.Message} (on {Environment.MachineName})");
            }
        });
        silo.Configure<ClusterMembershipOptions>(o =>
        {
            o.ProbeTimeout = TimeSpan.FromSeconds(1);
            o.NumMissedProbesLimit = 2;
            o.NumVotesForDeathDeclaration = 1;
        });
        silo.Configure<SiloMessagingOptions>(o =>
        {
            o.ResponseTimeout = ClusterClientFactory.ResponseTimeout;
            o.MaxMessageBodySize = ClusterClientFactory.MaxMessageBytes;
        });
        return silo;
    }

    /// <summary>Membership, endpoints and grain storage: Redis when given, else development clustering on this machine.</summary>
    public static ISiloBuilder UseGrokLensMembership(this ISiloBuilder silo, ClusterMembership membership, IPAddress address, int siloPort, int gatewayPort)
    {
        silo.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = membership.ClusterId;
            o.ServiceId = ClusterNames.ServiceId;
        });
        silo.ConfigureEndpoints(address, siloPort, gatewayPort, listenOnAnyHostAddress: !IPAddress.IsLoopback(address));
        if (membership.Redis is { } redis)
        {
            silo.UseRedisClustering(redis);
            silo.AddRedisGrainStorage(ClusterNames.Storage, o => o.ConfigurationOptions = StackExchange.Redis.ConfigurationOptions.Parse(redis));
        }
        else
        {
            silo.UseDevelopmentClustering(membership.Primary);
            silo.AddMemoryGrainStorage(ClusterNames.Storage);
        }
        return silo;
    }
}
