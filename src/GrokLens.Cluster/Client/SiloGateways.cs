using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace GrokLens.Cluster;

/// <summary>
/// One extra client connection per silo that hosts a shard, to that silo's own gateway. An Orleans client sends a grain's
/// calls through a gateway chosen round-robin, not the silo that hosts the grain: the logits and captures of a pass would
/// then cross one more connection (and be serialised once more) on their way back. Calls sent through the hosting silo's
/// gateway go straight to it. Any failure falls back to the main client.
/// </summary>
internal sealed class SiloGateways(IClusterClient client, TimeSpan timeout) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Task<IClusterClient?>> connections = new();
    private readonly ConcurrentDictionary<string, ClusterConnection> owned = new();
    private bool disposed;

    /// <summary>The gateways connected to (host:port), without those of silos forgotten since.</summary>
    public IReadOnlyList<string> Connected => owned.Values.Select(c => c.Address).Order(StringComparer.Ordinal).ToList();

    /// <summary>
    /// A client whose gateway is the silo <paramref name="siloAddress"/> (parsable form) once it is connected; until then,
    /// or if that fails, the main client. The first call starts connecting in the background, so no call waits for it.
    /// </summary>
    public IClusterClient For(string siloAddress)
    {
        if (disposed || string.IsNullOrEmpty(siloAddress)) return client;
        var connection = connections.GetOrAdd(siloAddress, Connect);
        return connection.IsCompletedSuccessfully && connection.Result is { } direct ? direct : client;
    }

    /// <summary>Forgets the connection to a silo that died (it is closed in the background, once it has been made).</summary>
    public void Forget(string siloAddress)
    {
        if (!connections.TryRemove(siloAddress, out var connection)) return;
        _ = connection.ContinueWith(made =>
        {
            if (owned.TryRemove(siloAddress, out var dead))
                _ = dead.DisposeAsync().AsTask().ContinueWith(d => _ = d.Exception, TaskScheduler.Default);
        }, TaskScheduler.Default);
    }

    private async Task<IClusterClient?> Connect(string siloAddress)
    {
        await Task.Yield(); // Connect in the background: the caller goes on with the main client.
        try
        {
            var hosts = await client.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: true).WaitAsync(timeout).ConfigureAwait(false);
            var entry = hosts.FirstOrDefault(h => h.SiloAddress.ToParsableString() == siloAddress);
            if (entry is null || entry.ProxyPort <= 0) return null;
            var gateway = new IPEndPoint(entry.SiloAddress.Endpoint.Address, entry.ProxyPort);
            var cluster = client.ServiceProvider.GetRequiredService<IOptions<ClusterOptions>>().Value;
            using var giveUp = new CancellationTokenSource(timeout);
            var connection = await ClusterClientFactory.ConnectAsync([gateway], cluster.ClusterId, cluster.ServiceId, giveUp.Token).ConfigureAwait(false);
            owned[siloAddress] = connection;
            if (disposed) await connection.DisposeAsync().ConfigureAwait(false);
            return disposed ? null : connection.Client;
        }
        catch (Exception)
        {
            return null; // The main client's gateways still reach the silo, one hop longer.
        }
    }

    public async ValueTask DisposeAsync()
    {
        disposed = true;
        foreach (var connection in owned.Values)
        {
            try
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception)
            {
                // A connection to a silo that died may fail to close cleanly; nothing is left to free.
            }
        }
    }
}
