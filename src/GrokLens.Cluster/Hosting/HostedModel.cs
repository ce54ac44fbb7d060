using GrokLens.Engine;
using GrokLens.Loading;
using GrokLens.Model;

namespace GrokLens.Cluster.Hosting;

/// <summary>
/// Layers of one model loaded in this silo (today's loader with <see cref="LoadOptions.Layers"/>: int8, streaming and
/// device maps apply). Shards of these layers run on it one forward call at a time.
/// </summary>
public sealed class HostedModel(string name, LayerRange layers, LoadedModel loaded, string folder) : IDisposable
{
    private readonly SemaphoreSlim gate = new(1, 1);

    public string Name { get; } = name;
    public LayerRange Layers { get; } = layers;
    public LoadedModel Loaded { get; } = loaded;
    public GrokModel Model => Loaded.Model;
    public GrokConfig Config => Loaded.Config;

    /// <summary>The model folder (config, tokenizer files, weights).</summary>
    public string Folder { get; } = folder;

    public long WeightBytes => Loaded.WeightBytesByDevice.Values.Sum();

    /// <summary>Runs <paramref name="work"/> on a worker thread once no other forward call is using the model.</summary>
    public async Task<T> Run<T>(Func<T> work)
    {
        await gate.WaitAsync().ConfigureAwait(false);
        try
        {
            return await Task.Run(work).ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }
    }

    public void Dispose()
    {
        Loaded.Dispose();
        gate.Dispose();
    }
}
