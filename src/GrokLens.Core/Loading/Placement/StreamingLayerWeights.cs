using TorchSharp;
using System.Diagnostics;
using GrokLens.Model;
using static TorchSharp.torch;

namespace GrokLens.Loading.Placement;

/// <summary>
/// Layer streaming: no layer weights are held; when layer l runs its tensors are read from the (memory-mapped)
/// checkpoint, and layer l+1's read starts in the background so disk and compute overlap. At most two layers are in
/// memory. <see cref="LayerProgress"/> reports each layer with its read and wait times.
/// </summary>
internal sealed class StreamingLayerWeights : ILayerWeights
{
    private readonly LayerParameters parameters;
    private readonly IWeightSource source;
    private readonly IReadOnlyDictionary<string, long[]> shapes;
    private readonly DeviceMap map;
    private readonly IProgress<LayerProgress>? progress;
    private readonly int numLayers;
    private readonly IDisposable owner;
    private Task<LoadedLayer>? prefetch;
    private int prefetchLayer = -1;

    public StreamingLayerWeights(GrokModel model, IWeightSource source, IReadOnlyDictionary<string, long[]> shapes, DeviceMap map,
        IProgress<LayerProgress>? progress, IDisposable owner)
    {
        parameters = new LayerParameters(model, shapes.Keys);
        this.source = source;
        this.shapes = shapes;
        this.map = map;
        this.progress = progress;
        this.owner = owner;
        numLayers = model.Config.NumLayers;
    }

    public string Description => "streamed from disk one layer at a time (next layer prefetched)";

    public IDisposable Acquire(int layer)
    {
        var waited = Stopwatch.StartNew();
        var pending = prefetchLayer == layer && prefetch is not null ? prefetch : Task.Run(() => Read(layer));
        prefetch = null;
        var loaded = pending.GetAwaiter().GetResult();
        waited.Stop();
        // The layer after the last is layer 0 of the next forward pass (generation runs many passes).
        int next = (layer + 1) % numLayers;
        prefetchLayer = next;
        prefetch = Task.Run(() => Read(next));
        progress?.Report(new LayerProgress(layer, numLayers, loaded.Bytes, loaded.ReadTime, waited.Elapsed));
        return parameters.Fill(layer, loaded.Tensors);
    }

    private LoadedLayer Read(int layer)
    {
        var clock = Stopwatch.StartNew();
        var device = torch.device(map.DeviceOf(layer));
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var name in parameters.NamesOf(layer))
            {
                var tensor = source.Create(name, shapes[name]);
                tensors[name] = tensor.MovedTo(device);
            }
        }
        catch
        {
            foreach (var tensor in tensors.Values) tensor.Dispose();
            throw;
        }
        long bytes = tensors.Values.Sum(t => t.NumberOfElements * t.ElementSize);
        return new LoadedLayer(tensors, bytes, clock.Elapsed);
    }

    public void Dispose()
    {
        // A prefetch still running after the last forward pass is waited for and freed.
        if (prefetch is not null)
        {
            try
            {
                foreach (var tensor in prefetch.GetAwaiter().GetResult().Tensors.Values) tensor.Dispose();
            }
            catch (Exception)
            {
                // The read failed; nothing to free.
            }
        }
        owner.Dispose();
    }

    private sealed record LoadedLayer(Dictionary<string, Tensor> Tensors, long Bytes, TimeSpan ReadTime);
}
