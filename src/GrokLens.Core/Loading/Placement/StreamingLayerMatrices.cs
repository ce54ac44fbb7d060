using System.Diagnostics;
using GrokLens.Kernels;
using GrokLens.Model;
using TorchSharp;

namespace GrokLens.Loading.Placement;

/// <summary>
/// Layer streaming: no layer matrices are held; when layer l runs its matrices are read from the (memory-mapped)
/// checkpoint, and layer l+1's read starts in the background so disk and compute overlap. At most two layers are in
/// memory, int8 matrices as int8. On the CPU, int8 matrices are not read at all: the kernels use them in the mapped
/// file, and the background read asks the kernel to fetch their pages ahead (madvise), which the page cache may evict. Norms and routers are small and stay resident. <see cref="LayerProgress"/> reports
/// each layer with its read and wait times.
/// </summary>
internal sealed class StreamingLayerMatrices : ILayerMatrixSource
{
    private readonly IWeightSource source;
    private readonly (WeightId Id, long[] Shape)[][] byLayer;
    private readonly DeviceMap map;
    private readonly IProgress<LayerProgress>? progress;
    private readonly IDisposable owner;
    private Task<(MatrixSet Set, TimeSpan ReadTime)>? prefetch;
    private int prefetchLayer = -1;

    public StreamingLayerMatrices(IWeightSource source, IEnumerable<(WeightId Id, long[] Shape)> matrices, int numLayers, DeviceMap map,
        IProgress<LayerProgress>? progress, IDisposable owner)
    {
        this.source = source;
        var all = matrices.ToList();
        byLayer = Enumerable.Range(0, numLayers).Select(layer => all.Where(m => m.Id.Layer == layer).ToArray()).ToArray();
        this.map = map;
        this.progress = progress;
        this.owner = owner;
    }

    public string Description => "streamed from disk one layer at a time (next layer prefetched; int8 kept int8: mapped for the int8 kernels on the CPU, " +
                                 "experts dequantised one at a time elsewhere)";

    public IReadOnlyDictionary<string, long> BytesByDevice { get; } = new Dictionary<string, long>();

    public LayerMatrices Acquire(int layer)
    {
        var waited = Stopwatch.StartNew();
        var pending = prefetchLayer == layer && prefetch is not null ? prefetch : Task.Run(() => Read(layer));
        prefetch = null;
        var (set, readTime) = pending.GetAwaiter().GetResult();
        waited.Stop();
        // The layer after the last is layer 0 of the next forward pass (generation runs many passes).
        int next = (layer + 1) % byLayer.Length;
        prefetchLayer = next;
        prefetch = Task.Run(() => Read(next));
        progress?.Report(new LayerProgress(layer, byLayer.Length, set.Bytes + set.MappedBytes, readTime, waited.Elapsed));
        return set.Layer(layer, release: set);
    }

    /// <summary>Reads a layer's matrices onto its device: what the checkpoint stores as int8 stays int8, the rest float32.</summary>
    private (MatrixSet, TimeSpan) Read(int layer)
    {
        var clock = Stopwatch.StartNew();
        var device = torch.device(map.DeviceOf(layer));
        var set = new MatrixSet();
        try
        {
            foreach (var (id, shape) in byLayer[layer]) set.Read(source, id, shape, device, keepInt8: true);
            foreach (var region in set.MappedRegions) MappedPages.WillNeed(region);
        }
        catch
        {
            set.Dispose();
            throw;
        }
        return (set, clock.Elapsed);
    }

    public void Dispose()
    {
        // A prefetch still running after the last forward pass is waited for and freed.
        if (prefetch is not null)
        {
            try
            {
                prefetch.GetAwaiter().GetResult().Set.Dispose();
            }
            catch (Exception)
            {
                // The read failed; nothing to free.
            }
        }
        owner.Dispose();
    }
}
