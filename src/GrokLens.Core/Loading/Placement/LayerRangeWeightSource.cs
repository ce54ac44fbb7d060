using GrokLens.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace GrokLens.Loading.Placement;

/// <summary>
/// Supplies only the weights a model holding <see cref="LayerRange"/> needs (a cluster shard): the range's layers, the
/// embedding when the range starts at layer 0 (or ends at the last layer and the head is tied to it), the final norm and
/// head when it ends at the last layer. Every other weight is a meta tensor: its shape, no memory, never read.
/// </summary>
internal sealed class LayerRangeWeightSource(IWeightSource inner, GrokConfig config, LayerRange range) : IWeightSource
{
    public Tensor Create(WeightId id, long[] shape) =>
        Needs(config, range, id) ? inner.Create(id, shape) : empty(shape, dtype: ScalarType.Float32, device: new Device(DeviceType.META));

    public static bool Needs(GrokConfig config, LayerRange range, WeightId id)
    {
        bool first = range.First == 0, last = range.Last == config.NumLayers - 1;
        if (id.IsLayerWeight) return range.Contains(id.Layer);
        return id.Kind switch
        {
            WeightKind.Embedding => first || (last && config.TieWordEmbeddings),
            _ => last, // The final norm and the untied head.
        };
    }
}
