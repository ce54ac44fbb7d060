using GrokLens.Cluster.Contracts;
using GrokLens.Loading;
using GrokLens.Model;

namespace GrokLens.Cluster.Hosting;

/// <summary>
/// The models one silo holds, loaded before it joins the cluster, and its declaration (host, memory, layer ranges).
/// Loading refuses layers that would not fit in the memory the silo offers.
/// </summary>
public sealed class ShardModels : IDisposable
{
    private readonly List<HostedModel> models = new();

    public ShardModels(IEnumerable<SiloModelOptions> options, long memoryBytes, IProgress<string>? progress = null)
    {
        MemoryBytes = memoryBytes;
        try
        {
            foreach (var option in options) models.Add(Load(option, progress));
        }
        catch
        {
            Dispose();
            throw;
        }
        Declaration = new SiloDeclaration(Environment.MachineName, memoryBytes,
            models.Select(m => new HostedModelDeclaration(m.Name, m.Layers.First, m.Layers.Last, m.Config.NumLayers, m.WeightBytes)).ToList());
    }

    public long MemoryBytes { get; }

    public SiloDeclaration Declaration { get; }

    public IReadOnlyList<HostedModel> Models => models;

    /// <summary>The loaded layers that hold <paramref name="layers"/> of <paramref name="model"/>, or null.</summary>
    public HostedModel? Find(string model, LayerRange layers) =>
        models.FirstOrDefault(m => m.Name == model && m.Layers.First <= layers.First && m.Layers.Last >= layers.Last);

    private HostedModel Load(SiloModelOptions option, IProgress<string>? progress)
    {
        var folder = ModelLoader.FolderOf(option.Path);
        var name = option.Name ?? new DirectoryInfo(folder).Name;
        if (!Contracts.ModelName.IsValid(name))
            throw new ArgumentException($"Model name '{name}' is not valid: use letters, digits, '_', '-' and '.'.");
        {
            var config = ModelLoader.ReadConfig(option.Path);
            var layers = (option.Layers ?? LayerRange.All(config)).CheckedFor(config);
            long need = ModelLoader.LayerBytes(config, option.Int8) * (option.Stream ? 0 : layers.Count)
                        + (layers.First == 0 || layers.Last == config.NumLayers - 1 ? ModelLoader.GlobalBytes(config) : 0);
            long used = models.Sum(m => m.WeightBytes);
            if (used + need > MemoryBytes)
                throw new ArgumentException(
                    $"Model '{name}' layers {layers} need about {need / (1 << 20)} MiB; this silo offers {MemoryBytes / (1 << 20)} MiB " +
                    $"and already holds {used / (1 << 20)} MiB. Give it more --memory, fewer layers, or --int8.");
            progress?.Report($"loading {name} layers {layers} from {option.Path} ...");
            var loaded = ModelLoader.Load(option.Path, new LoadOptions
            {
                Layers = layers, Int8Weights = option.Int8, StreamLayers = option.Stream, DeviceMap = option.DeviceMap, Name = name,
            });
            return new HostedModel(name, layers, loaded, folder);
        }
    }

    public void Dispose()
    {
        foreach (var model in models) model.Dispose();
        models.Clear();
    }
}
