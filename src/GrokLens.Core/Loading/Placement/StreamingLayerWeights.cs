using TorchSharp;
using System.Diagnostics;
using GrokLens.Checkpoints;
using GrokLens.Loading.Quantization;
using GrokLens.Model;
using static TorchSharp.torch;

namespace GrokLens.Loading.Placement;

/// <summary>
/// Layer streaming: no layer weights are held; when layer l runs its tensors are read from the (memory-mapped)
/// checkpoint, and layer l+1's read starts in the background so disk and compute overlap. At most two layers are in
/// memory, int8 matrices as int8 (experts are dequantised one at a time inside the MoE, see <see cref="LayerParameters"/>). <see cref="LayerProgress"/> reports each layer with its read and wait times.
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

    public string Description => "streamed from disk one layer at a time (next layer prefetched; int8 kept int8, experts dequantised one at a time)";

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
        return parameters.Fill(layer, loaded.Floats, loaded.Quantized, ownsQuantized: true);
    }

    /// <summary>Reads a layer onto its device: matrices the checkpoint stores as int8 stay int8, the rest float32.</summary>
    private LoadedLayer Read(int layer)
    {
        var clock = Stopwatch.StartNew();
        var device = torch.device(map.DeviceOf(layer));
        var loaded = new LoadedLayer(new Dictionary<string, Tensor>(StringComparer.Ordinal),
            new Dictionary<string, QuantizedWeight>(StringComparer.Ordinal));
        try
        {
            foreach (var name in parameters.NamesOf(layer))
            {
                if (source is IQuantizedWeightSource quantizedSource && quantizedSource.TryCreateQuantized(name, shapes[name]) is { } int8)
                {
                    loaded.Quantized[name] = int8.To(device);
                    if (!ReferenceEquals(loaded.Quantized[name], int8)) int8.Dispose();
                }
                else
                {
                    loaded.Floats[name] = source.Create(name, shapes[name]).MovedTo(device);
                }
            }
        }
        catch
        {
            loaded.Dispose();
            throw;
        }
        return loaded with { ReadTime = clock.Elapsed };
    }

    public void Dispose()
    {
        // A prefetch still running after the last forward pass is waited for and freed.
        if (prefetch is not null)
        {
            try
            {
                prefetch.GetAwaiter().GetResult().Dispose();
            }
            catch (Exception)
            {
                // The read failed; nothing to free.
            }
        }
        owner.Dispose();
    }

    /// <summary>One layer read from the checkpoint: float32 tensors and int8 matrices by name.</summary>
    private sealed record LoadedLayer(Dictionary<string, Tensor> Floats, Dictionary<string, QuantizedWeight> Quantized) : IDisposable
    {
        public TimeSpan ReadTime { get; init; }

        public long Bytes => Floats.Values.Sum(t => t.NumberOfElements * t.ElementSize) + Quantized.Values.Sum(q => q.ByteSize);

        public void Dispose()
        {
            foreach (var tensor in Floats.Values) tensor.Dispose();
            foreach (var weight in Quantized.Values) weight.Dispose();
        }
    }
}
