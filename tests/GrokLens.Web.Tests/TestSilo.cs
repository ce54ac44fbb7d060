using System.Net;
using System.Net.Sockets;
using GrokLens.Cluster.Hosting;
using GrokLens.Model;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace GrokLens.Web.Tests;

/// <summary>
/// A GrokLens silo in this process on 127.0.0.1 (real TCP, ports picked here, development clustering) holding a model as
/// two shards, so the workbench can be pointed at a cluster with the address a user would give (<see cref="Address"/>).
/// </summary>
public sealed class TestSilo : IDisposable
{
    private readonly ShardModels models;
    private readonly IHost host;

    private TestSilo(ShardModels models, IHost host, string address)
    {
        this.models = models;
        this.host = host;
        Address = address;
    }

    /// <summary>The gateway's "host:port", as <c>--cluster</c> and the <c>GrokLens:Cluster</c> setting take it.</summary>
    public string Address { get; }

    /// <summary>Starts a silo serving the model folder <paramref name="path"/> as <paramref name="name"/>, its layers split in two shards.</summary>
    public static TestSilo Start(string path, string name)
    {
        int layers = GrokConfig.FromJsonFile(Path.Combine(path, "config.json")).NumLayers;
        var models = new ShardModels(
        [
            new SiloModelOptions { Path = path, Name = name, Layers = new LayerRange(0, layers / 2 - 1) },
            new SiloModelOptions { Path = path, Name = name, Layers = new LayerRange(layers / 2, layers - 1) },
        ], 1L << 30);
        try
        {
            int siloPort = FreePort(), gatewayPort = FreePort();
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            builder.Logging.SetMinimumLevel(LogLevel.Warning).AddFilter("Orleans", LogLevel.Error);
            builder.UseOrleans(silo => silo
                .UseGrokLensMembership(new ClusterMembership(), IPAddress.Loopback, siloPort, gatewayPort)
                .AddGrokLensShards(models));
            var host = builder.Build();
            host.Start();
            return new TestSilo(models, host, $"127.0.0.1:{gatewayPort}");
        }
        catch
        {
            models.Dispose();
            throw;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        host.StopAsync(TimeSpan.FromSeconds(10)).GetAwaiter().GetResult();
        host.Dispose();
        models.Dispose();
    }
}
