using System.Net;
using GrokLens.Cluster.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace GrokLens.Cluster;

/// <summary>Connects to a GrokLens cluster as an Orleans client.</summary>
public static class ClusterClientFactory
{
    /// <summary>Long enough for a slow shard (a Grok-1 layer streamed from disk); a dead silo is noticed sooner by the watchdog.</summary>
    public static readonly TimeSpan ResponseTimeout = TimeSpan.FromMinutes(30);

    /// <summary>Captures of a long prompt can be large; one message carries at most this many bytes.</summary>
    public const int MaxMessageBytes = 1 << 30;

    /// <summary>Starts a client host connected to <paramref name="address"/> (see <see cref="ClusterMembership.ParseAddress"/>).</summary>
    public static Task<ClusterConnection> ConnectAsync(string address, string clusterId = ClusterNames.DefaultClusterId,
        CancellationToken cancellation = default)
    {
        var (membership, gateways) = ClusterMembership.ParseAddress(address, clusterId);
        return ConnectAsync(membership, gateways, ClusterNames.ServiceId, address, cancellation);
    }

    /// <summary>Starts a client host that sends everything through the gateways given (static clustering).</summary>
    public static Task<ClusterConnection> ConnectAsync(IPEndPoint[] gateways, string clusterId, string serviceId, CancellationToken cancellation = default) =>
        ConnectAsync(new ClusterMembership { ClusterId = clusterId }, gateways, serviceId, string.Join(',', gateways.Select(g => g.ToString())), cancellation);

    private static async Task<ClusterConnection> ConnectAsync(ClusterMembership membership, IPEndPoint[] gateways, string serviceId, string address,
        CancellationToken cancellation)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.SetMinimumLevel(LogLevel.Warning).AddFilter("Orleans", LogLevel.Error);
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = membership.ClusterId;
                o.ServiceId = serviceId;
            });
            if (membership.Redis is { } redis) client.UseRedisClustering(redis);
            else client.UseStaticClustering(gateways);
            client.Configure<ClientMessagingOptions>(o =>
            {
                o.ResponseTimeout = ResponseTimeout;
                o.MaxMessageBodySize = MaxMessageBytes;
            });
        });
        var host = builder.Build();
        try
        {
            await host.StartAsync(cancellation).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            host.Dispose();
            throw new ClusterUnavailableException($"Could not connect to the cluster at {address}: {e.Message}", e);
        }
        return new ClusterConnection(host, host.Services.GetRequiredService<IClusterClient>(), address);
    }
}

/// <summary>A running client and the host that owns it; dispose to disconnect.</summary>
public sealed class ClusterConnection(IHost host, IClusterClient client, string address) : IAsyncDisposable, IDisposable
{
    public IClusterClient Client { get; } = client;
    public string Address { get; } = address;

    public async ValueTask DisposeAsync()
    {
        try
        {
            await host.StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        finally
        {
            host.Dispose();
        }
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}

/// <summary>The cluster cannot be reached.</summary>
public sealed class ClusterUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
