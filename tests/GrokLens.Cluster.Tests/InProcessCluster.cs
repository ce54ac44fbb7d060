using GrokLens.Cluster.Hosting;
using GrokLens.Engine;
using GrokLens.Loading;
using GrokLens.Model;
using Orleans.Hosting;
using Orleans.TestingHost;

namespace GrokLens.Cluster.Tests;

/// <summary>
/// Orleans' in-process test cluster with GrokLens shards: silo i loads the layer ranges <c>layout[i]</c> gives (model
/// name → range), each silo its own copy, as separate machines would.
/// </summary>
public sealed class InProcessCluster : IAsyncDisposable
{
    private readonly List<ShardModels> models = new();

    private InProcessCluster(InProcessTestCluster cluster, List<ShardModels> models)
    {
        Cluster = cluster;
        this.models = models;
    }

    public InProcessTestCluster Cluster { get; }
    public IClusterClient Client => Cluster.Client;

    public static async Task<InProcessCluster> StartAsync(IReadOnlyList<IReadOnlyList<SiloModelOptions>> layout, TimeSpan sessionLease)
    {
        var models = layout.Select(options => new ShardModels(options, 4L << 30)).ToList();
        var builder = new InProcessTestClusterBuilder((short)layout.Count);
        builder.Options.ConfigureFileLogging = false;
        builder.Options.ServiceId = ClusterNames.ServiceId;
        builder.ConfigureSilo((options, silo) =>
        {
            int index = int.Parse(options.SiloName.Split('_')[1], System.Globalization.CultureInfo.InvariantCulture);
            silo.AddGrokLensShards(models[index], sessionLease);
            silo.AddMemoryGrainStorage(ClusterNames.Storage);
        });
        var cluster = builder.Build();
        try
        {
            await cluster.DeployAsync();
        }
        catch
        {
            await cluster.DisposeAsync();
            foreach (var m in models) m.Dispose();
            throw;
        }
        return new InProcessCluster(cluster, models);
    }

    public static SiloModelOptions Part(string path, string name, int first, int last) =>
        new() { Path = path, Name = name, Layers = new LayerRange(first, last) };

    /// <summary>Waits until every silo's declaration is visible to placement and clients (silo metadata spreads asynchronously).</summary>
    public async Task<ClusterModel> ConnectAsync(string model, int expectedReplicas, ClusterModelOptions? options = null)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                var engine = await ClusterModel.ConnectAsync(Client, model, options);
                if (engine.Layout.Replicas >= expectedReplicas) return engine;
            }
            catch (UnknownModelException) when (DateTime.UtcNow < deadline)
            {
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Model '{model}' did not reach {expectedReplicas} replicas.");
            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Cluster.DisposeAsync();
        foreach (var m in models) m.Dispose();
    }
}

/// <summary>In-process models to compare with.</summary>
internal static class LocalModels
{
    public static LoadedModel Load(string path) => ModelLoader.Load(path);
}
